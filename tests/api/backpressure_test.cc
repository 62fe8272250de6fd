// SPDX-License-Identifier: BSD-3-Clause
// Black-box tests of channel backpressure: at least 4 MiB of payload is
// buffered per direction; past that a write returns SHOULD_WAIT, the writer loses WRITABLE and
// keeps its handles; after the reader drains, WRITABLE returns and nothing was lost or reordered.
#include <gtest/gtest.h>
#include <magenta/syscalls.h>
#include <string.h>

#include <string>
#include <thread>
#include <vector>

#include "support/test_util.h"

namespace {

using mx_test::SignalsOf;

constexpr uint64_t kMinBufferedBytes = 4u * 1024 * 1024;
// Give up (fail) if a writer got this far without SHOULD_WAIT.
constexpr uint64_t kGiveUpBytes = 256u * 1024 * 1024;

mx_time_t DeadlineIn10s() { return mx_deadline_after(MX_SEC(10)); }

// Message |seq| of |size| bytes: the sequence number, then bytes derived from it.
void FillMessage(uint64_t seq, std::vector<uint8_t>* msg) {
  memcpy(msg->data(), &seq, sizeof(seq));
  for (size_t i = sizeof(seq); i < msg->size(); ++i) (*msg)[i] = static_cast<uint8_t>(seq * 31 + i);
}

bool MessageIsIntact(uint64_t seq, const uint8_t* data, size_t size, size_t want_size) {
  if (size != want_size) return false;
  uint64_t got;
  memcpy(&got, data, sizeof(got));
  if (got != seq) return false;
  for (size_t i = sizeof(seq); i < size; ++i) {
    if (data[i] != static_cast<uint8_t>(seq * 31 + i)) return false;
  }
  return true;
}

// Fills a->b with |size|-byte messages until SHOULD_WAIT, checks the state at that point, drains,
// and checks that WRITABLE returns and every message arrived intact and in order.
void FillAndDrain(size_t size) {
  mx_handle_t a, b;
  ASSERT_EQ(mx_channel_create(0, &a, &b), MX_OK);
  std::vector<uint8_t> msg(size);
  uint64_t written = 0;
  mx_status_t st = MX_OK;
  while (written * size < kGiveUpBytes) {
    FillMessage(written, &msg);
    st = mx_channel_write(a, 0, msg.data(), static_cast<uint32_t>(size), nullptr, 0);
    if (st != MX_OK) break;
    ++written;
  }
  ASSERT_EQ(st, MX_ERR_SHOULD_WAIT) << "after " << written << " messages of " << size << " bytes";
  EXPECT_GE(written * size, kMinBufferedBytes) << written << " messages of " << size << " bytes";

  // The writer is not WRITABLE; the other direction is unaffected.
  EXPECT_EQ(SignalsOf(a) & MX_CHANNEL_WRITABLE, 0u);
  EXPECT_NE(SignalsOf(b) & MX_CHANNEL_WRITABLE, 0u);
  EXPECT_NE(SignalsOf(b) & MX_CHANNEL_READABLE, 0u);
  ASSERT_EQ(mx_channel_write(b, 0, "reverse", 7, nullptr, 0), MX_OK);

  // Another write fails the same way, and is not queued.
  FillMessage(written, &msg);
  EXPECT_EQ(mx_channel_write(a, 0, msg.data(), static_cast<uint32_t>(size), nullptr, 0),
            MX_ERR_SHOULD_WAIT);

  // Drain: everything arrives, in order, intact.
  std::vector<uint8_t> buf(size + 16);
  uint64_t bad = 0;
  for (uint64_t seq = 0; seq < written;) {
    uint32_t n = 0;
    mx_status_t rs = mx_channel_read(b, 0, buf.data(), nullptr, static_cast<uint32_t>(buf.size()),
                                     0, &n, nullptr);
    if (rs == MX_ERR_SHOULD_WAIT) {
      // Reads never block, but data may still be in transit inside the library.
      ASSERT_EQ(mx_object_wait_one(b, MX_CHANNEL_READABLE, DeadlineIn10s(), nullptr), MX_OK)
          << "message " << seq << " of " << written << " never arrived";
      continue;
    }
    ASSERT_EQ(rs, MX_OK) << "message " << seq;
    if (!MessageIsIntact(seq, buf.data(), n, size)) {
      if (bad++ == 0) ADD_FAILURE() << "message " << seq << " is wrong or out of order";
    }
    ++seq;
  }
  EXPECT_EQ(bad, 0u);
  uint32_t n = 0;
  EXPECT_EQ(
      mx_channel_read(b, 0, buf.data(), nullptr, static_cast<uint32_t>(buf.size()), 0, &n, nullptr),
      MX_ERR_SHOULD_WAIT)
      << "an extra message of " << n << " bytes arrived";

  // WRITABLE is back, and writing works again.
  mx_signals_t s = 0;
  EXPECT_EQ(mx_object_wait_one(a, MX_CHANNEL_WRITABLE, DeadlineIn10s(), &s), MX_OK);
  FillMessage(written, &msg);
  EXPECT_EQ(mx_channel_write(a, 0, msg.data(), static_cast<uint32_t>(size), nullptr, 0), MX_OK);
  ASSERT_EQ(mx_object_wait_one(b, MX_CHANNEL_READABLE, DeadlineIn10s(), nullptr), MX_OK);
  ASSERT_EQ(
      mx_channel_read(b, 0, buf.data(), nullptr, static_cast<uint32_t>(buf.size()), 0, &n, nullptr),
      MX_OK);
  EXPECT_TRUE(MessageIsIntact(written, buf.data(), n, size));
  // The reverse-direction message is still there for a.
  char rev[8];
  ASSERT_EQ(mx_channel_read(a, 0, rev, nullptr, sizeof(rev), 0, &n, nullptr), MX_OK);
  EXPECT_EQ(std::string(rev, n), "reverse");
  EXPECT_EQ(mx_handle_close(a), MX_OK);
  EXPECT_EQ(mx_handle_close(b), MX_OK);
}

TEST(BackpressureTest, SmallMessagesFillAtLeast4MiBThenShouldWaitAndDrainInOrder) {
  FillAndDrain(64);
}

TEST(BackpressureTest, PageSizedMessagesFillAtLeast4MiBThenShouldWaitAndDrainInOrder) {
  FillAndDrain(4096);
}

TEST(BackpressureTest, WriteWithHandlesWhenQueueIsFullReturnsShouldWaitAndKeepsThem) {
  mx_handle_t a, b;
  ASSERT_EQ(mx_channel_create(0, &a, &b), MX_OK);
  std::vector<uint8_t> msg(4096, 0x5A);
  uint64_t written = 0;
  mx_status_t st = MX_OK;
  while (written * msg.size() < kGiveUpBytes) {
    st = mx_channel_write(a, 0, msg.data(), static_cast<uint32_t>(msg.size()), nullptr, 0);
    if (st != MX_OK) break;
    ++written;
  }
  ASSERT_EQ(st, MX_ERR_SHOULD_WAIT);
  EXPECT_EQ(SignalsOf(a) & MX_CHANNEL_WRITABLE, 0u);
  mx_handle_t e = MX_HANDLE_INVALID, x = MX_HANDLE_INVALID, y = MX_HANDLE_INVALID;
  ASSERT_EQ(mx_event_create(0, &e), MX_OK);
  ASSERT_EQ(mx_channel_create(0, &x, &y), MX_OK);
  mx_handle_t hs[2] = {e, x};
  EXPECT_EQ(mx_channel_write(a, 0, "h", 1, hs, 2), MX_ERR_SHOULD_WAIT);
  EXPECT_EQ(mx_channel_write(a, 0, nullptr, 0, hs, 2), MX_ERR_SHOULD_WAIT);
  // Both handles are still the caller's and usable.
  EXPECT_EQ(mx_object_signal(e, 0, MX_EVENT_SIGNALED), MX_OK);
  EXPECT_EQ(mx_channel_write(x, 0, "kept", 4, nullptr, 0), MX_OK);
  EXPECT_EQ(mx_object_wait_one(y, MX_CHANNEL_READABLE, DeadlineIn10s(), nullptr), MX_OK);
  EXPECT_EQ(mx_handle_close(e), MX_OK);
  EXPECT_EQ(mx_handle_close(x), MX_OK);
  EXPECT_EQ(mx_handle_close(y), MX_OK);
  EXPECT_EQ(mx_handle_close(a), MX_OK);
  EXPECT_EQ(mx_handle_close(b), MX_OK);
}

TEST(BackpressureTest, EmptyMessagesAreRefusedTooWhenQueueIsFull) {
  // Past the limit every write returns SHOULD_WAIT, whatever its size: otherwise empty messages
  // (which may carry handles) could grow the queue without bound.
  mx_handle_t a, b;
  ASSERT_EQ(mx_channel_create(0, &a, &b), MX_OK);
  std::vector<uint8_t> msg(4096, 0x5A);
  uint64_t written = 0;
  mx_status_t st = MX_OK;
  while (written * msg.size() < kGiveUpBytes) {
    st = mx_channel_write(a, 0, msg.data(), static_cast<uint32_t>(msg.size()), nullptr, 0);
    if (st != MX_OK) break;
    ++written;
  }
  ASSERT_EQ(st, MX_ERR_SHOULD_WAIT);
  EXPECT_EQ(mx_channel_write(a, 0, nullptr, 0, nullptr, 0), MX_ERR_SHOULD_WAIT);
  EXPECT_EQ(mx_handle_close(a), MX_OK);
  EXPECT_EQ(mx_handle_close(b), MX_OK);
}

TEST(BackpressureTest, CallWritePhaseReturnsShouldWaitWhenQueueIsFullAndKeepsHandles) {
  mx_handle_t a, b;
  ASSERT_EQ(mx_channel_create(0, &a, &b), MX_OK);
  std::vector<uint8_t> msg(4096, 0x5A);
  uint64_t written = 0;
  mx_status_t st = MX_OK;
  while (written * msg.size() < kGiveUpBytes) {
    st = mx_channel_write(a, 0, msg.data(), static_cast<uint32_t>(msg.size()), nullptr, 0);
    if (st != MX_OK) break;
    ++written;
  }
  ASSERT_EQ(st, MX_ERR_SHOULD_WAIT);
  mx_handle_t e = MX_HANDLE_INVALID;
  ASSERT_EQ(mx_event_create(0, &e), MX_OK);
  uint32_t txid = 0x77;
  char reply[16];
  mx_channel_call_args_t args = {};
  args.wr_bytes = &txid;
  args.wr_num_bytes = sizeof(txid);
  args.wr_handles = &e;
  args.wr_num_handles = 1;
  args.rd_bytes = reply;
  args.rd_num_bytes = sizeof(reply);
  uint32_t n = 0, nh = 0;
  mx_status_t rs = 0x5A5A;
  EXPECT_EQ(mx_channel_call(a, 0, DeadlineIn10s(), &args, &n, &nh, &rs), MX_ERR_SHOULD_WAIT);
  EXPECT_EQ(rs, 0x5A5A);
  EXPECT_EQ(mx_object_signal(e, 0, MX_EVENT_SIGNALED), MX_OK);
  EXPECT_EQ(mx_handle_close(e), MX_OK);
  EXPECT_EQ(mx_handle_close(a), MX_OK);
  EXPECT_EQ(mx_handle_close(b), MX_OK);
}

TEST(BackpressureTest, ConcurrentReaderLetsWriterContinuePastTheLimit) {
  // A writer that waits for WRITABLE whenever it gets SHOULD_WAIT can push far more than the
  // buffer while another thread reads; nothing is lost or reordered.
  constexpr uint64_t kMessages = 4 * (kMinBufferedBytes / 4096) + 100;  // > 16 MiB of 4 KiB
  mx_handle_t a, b;
  ASSERT_EQ(mx_channel_create(0, &a, &b), MX_OK);
  uint64_t bad = 0, received = 0;
  mx_status_t reader_status = MX_OK;
  std::thread reader([&] {
    std::vector<uint8_t> buf(4096 + 16);
    while (received < kMessages) {
      uint32_t n = 0;
      mx_status_t rs = mx_channel_read(b, 0, buf.data(), nullptr, static_cast<uint32_t>(buf.size()),
                                       0, &n, nullptr);
      if (rs == MX_ERR_SHOULD_WAIT) {
        rs = mx_object_wait_one(b, MX_CHANNEL_READABLE | MX_CHANNEL_PEER_CLOSED, DeadlineIn10s(),
                                nullptr);
        if (rs != MX_OK) {
          reader_status = rs;
          return;
        }
        continue;
      }
      if (rs != MX_OK) {
        reader_status = rs;
        return;
      }
      if (!MessageIsIntact(received, buf.data(), n, 4096)) ++bad;
      ++received;
    }
  });
  std::vector<uint8_t> msg(4096);
  mx_status_t writer_status = MX_OK;
  for (uint64_t seq = 0; seq < kMessages && writer_status == MX_OK;) {
    FillMessage(seq, &msg);
    mx_status_t ws = mx_channel_write(a, 0, msg.data(), 4096, nullptr, 0);
    if (ws == MX_OK) {
      ++seq;
    } else if (ws == MX_ERR_SHOULD_WAIT) {
      writer_status = mx_object_wait_one(a, MX_CHANNEL_WRITABLE, DeadlineIn10s(), nullptr);
    } else {
      writer_status = ws;
    }
  }
  EXPECT_EQ(writer_status, MX_OK);
  if (writer_status != MX_OK) {
    mx_handle_close(a);  // unblocks the reader with PEER_CLOSED
    a = MX_HANDLE_INVALID;
  }
  reader.join();
  EXPECT_EQ(reader_status, MX_OK);
  EXPECT_EQ(received, kMessages);
  EXPECT_EQ(bad, 0u);
  if (a != MX_HANDLE_INVALID) {
    EXPECT_EQ(mx_handle_close(a), MX_OK);
  }
  EXPECT_EQ(mx_handle_close(b), MX_OK);
}

}  // namespace
