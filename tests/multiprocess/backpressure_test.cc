// SPDX-License-Identifier: BSD-3-Clause
// Backpressure across processes: a writer whose reader does not read gets SHOULD_WAIT
// after at least 4 MiB, keeps its handles, loses WRITABLE; once the reader drains, WRITABLE comes
// back; nothing is ever dropped, reordered or corrupted.
#include <gtest/gtest.h>
#include <string.h>

#include <vector>

#include "support/multiprocess.h"

namespace {

using mx_test::Message;

constexpr size_t kMinBufferedBytes = 4u << 20;  // at least 4 MiB per direction (docs/channels.md)
constexpr size_t kGiveUpBytes = 256u << 20;     // no SHOULD_WAIT by then: no backpressure at all

// Message |seq|: its size varies between 1 KiB and 64 KiB; it starts with seq.
size_t MessageSize(uint64_t seq) {
  return 1024 + (seq * 7919u) % (MX_CHANNEL_MAX_MSG_BYTES - 1024 + 1);
}

std::vector<uint8_t> MessageBytes(uint64_t seq) {
  std::vector<uint8_t> bytes(MessageSize(seq));
  for (size_t j = 0; j < bytes.size(); ++j) bytes[j] = mx_test::PatternByte(seq, j);
  memcpy(bytes.data(), &seq, sizeof(seq));
  return bytes;
}

// Sent on the control channel.
struct Plan {
  uint64_t phase1;  // messages written before the child may start reading
  uint64_t total;   // messages the parent writes in all
};

struct DrainReport {
  uint64_t count;      // messages read so far
  uint64_t first_bad;  // seq of the first wrong message, or UINT64_MAX
  uint64_t bytes;      // payload bytes read so far
  uint64_t checksum;   // FNV-1a over everything read so far, in order
};

// Does not read PA_USER0 (data) until a Plan arrives on PA_USER1 (control); then reads and checks
// plan.phase1 messages, reports, reads the rest up to plan.total, reports again.
MX_CHILD(slow_reader) {
  mx_handle_t data = mx_test::TakeStartupHandle(PA_HND(PA_USER0, 0));
  mx_handle_t ctl = mx_test::TakeStartupHandle(PA_HND(PA_USER1, 0));
  Plan plan;
  CHILD_CHECK_OK(mx_test::ReadPod(ctl, &plan, nullptr, mx_deadline_after(MX_SEC(120))));
  DrainReport report{0, UINT64_MAX, 0, mx_test::kFnvOffset};
  for (uint64_t target : {plan.phase1, plan.total}) {
    while (report.count < target) {
      Message msg;
      CHILD_CHECK_OK(mx_test::ReadMessage(data, &msg));
      if (report.first_bad == UINT64_MAX &&
          (msg.bytes != MessageBytes(report.count) || !msg.handles.empty())) {
        report.first_bad = report.count;
      }
      mx_test::CloseAll(&msg.handles);
      report.checksum = mx_test::Fnv1a(msg.bytes.data(), msg.bytes.size(), report.checksum);
      report.bytes += msg.bytes.size();
      ++report.count;
    }
    CHILD_CHECK_OK(mx_test::WritePod(ctl, report));
  }
  // Nothing more than announced.
  CHILD_CHECK_EQ(mx_channel_read(data, 0, nullptr, nullptr, 0, 0, nullptr, nullptr),
                 MX_ERR_SHOULD_WAIT);
  Message msg;
  CHILD_CHECK_EQ(mx_test::ReadMessage(ctl, &msg, mx_deadline_after(MX_SEC(60))),
                 MX_ERR_PEER_CLOSED);
  return 0;
}

using BackpressureTest = mx_test::MultiprocessTest;

TEST_F(BackpressureTest, WriterToSlowChildGetsShouldWaitThenEverythingArrivesInOrder) {
  mx_handle_t data, data_remote, ctl, ctl_remote, process;
  ASSERT_EQ(mx_channel_create(0, &data, &data_remote), MX_OK);
  ASSERT_EQ(mx_channel_create(0, &ctl, &ctl_remote), MX_OK);
  ASSERT_EQ(
      mx_test::SpawnChild("slow_reader",
                          {{PA_HND(PA_USER0, 0), data_remote}, {PA_HND(PA_USER1, 0), ctl_remote}},
                          {}, &process),
      MX_OK);
  mx_test::ScopedProcess child(process);

  // Phase 1: fill until SHOULD_WAIT. The child is not reading.
  uint64_t seq = 0, bytes_accepted = 0, checksum = mx_test::kFnvOffset;
  mx_status_t status = MX_OK;
  for (;;) {
    std::vector<uint8_t> bytes = MessageBytes(seq);
    status = mx_test::WriteMessage(data, bytes.data(), bytes.size());
    if (status != MX_OK) break;
    checksum = mx_test::Fnv1a(bytes.data(), bytes.size(), checksum);
    bytes_accepted += bytes.size();
    ++seq;
    ASSERT_LT(bytes_accepted, kGiveUpBytes) << "writes never returned SHOULD_WAIT";
  }
  ASSERT_EQ(status, MX_ERR_SHOULD_WAIT) << mx_test::StatusName(status);
  EXPECT_GE(bytes_accepted, kMinBufferedBytes) << "SHOULD_WAIT after only " << seq << " messages";
  EXPECT_FALSE(mx_test::PendingSignals(data) & MX_CHANNEL_WRITABLE)
      << "a full channel must not be WRITABLE";

  // A refused write leaves the caller its handles.
  mx_handle_t event;
  ASSERT_EQ(mx_event_create(0, &event), MX_OK);
  // As large as any message, so it cannot fit where the refused one did not.
  std::vector<uint8_t> big(MX_CHANNEL_MAX_MSG_BYTES, 0xee);
  EXPECT_EQ(mx_channel_write(data, 0, big.data(), MX_CHANNEL_MAX_MSG_BYTES, &event, 1),
            MX_ERR_SHOULD_WAIT);
  EXPECT_TRUE(mx_test::IsValidHandle(event)) << "a SHOULD_WAIT write took the handle";
  EXPECT_EQ(mx_handle_close(event), MX_OK);

  // Phase 2: let the child drain what is queued, then send as much again.
  const uint64_t phase1 = seq;
  const uint64_t phase1_bytes = bytes_accepted, phase1_checksum = checksum;
  const uint64_t total = phase1 * 2;
  ASSERT_EQ(mx_test::WritePod(ctl, Plan{phase1, total}), MX_OK);
  DrainReport report;
  ASSERT_EQ(mx_test::ReadPod(ctl, &report), MX_OK);
  EXPECT_EQ(report.count, phase1);
  EXPECT_EQ(report.first_bad, UINT64_MAX) << "message " << report.first_bad << " arrived wrong";
  EXPECT_EQ(report.bytes, phase1_bytes);
  EXPECT_EQ(report.checksum, phase1_checksum);

  // The queue is empty now, so WRITABLE must be back.
  mx_signals_t observed = 0;
  ASSERT_EQ(mx_object_wait_one(data, MX_CHANNEL_WRITABLE, mx_test::DefaultDeadline(), &observed),
            MX_OK)
      << "WRITABLE did not come back after the reader drained the queue";

  int should_waits = 0;
  while (seq < total) {
    std::vector<uint8_t> bytes = MessageBytes(seq);
    status = mx_test::WriteMessage(data, bytes.data(), bytes.size());
    if (status == MX_ERR_SHOULD_WAIT) {
      ++should_waits;
      ASSERT_EQ(mx_object_wait_one(data, MX_CHANNEL_WRITABLE | MX_CHANNEL_PEER_CLOSED,
                                   mx_test::DefaultDeadline(), &observed),
                MX_OK);
      ASSERT_FALSE(observed & MX_CHANNEL_PEER_CLOSED) << "the reader died";
      continue;
    }
    ASSERT_EQ(status, MX_OK) << mx_test::StatusName(status) << " at message " << seq;
    checksum = mx_test::Fnv1a(bytes.data(), bytes.size(), checksum);
    bytes_accepted += bytes.size();
    ++seq;
  }
  ASSERT_EQ(mx_test::ReadPod(ctl, &report), MX_OK);
  EXPECT_EQ(report.count, total);
  EXPECT_EQ(report.first_bad, UINT64_MAX) << "message " << report.first_bad << " arrived wrong";
  EXPECT_EQ(report.bytes, bytes_accepted);
  EXPECT_EQ(report.checksum, checksum);
  RecordProperty("phase1_messages", static_cast<int>(phase1));
  RecordProperty("phase1_bytes", static_cast<int>(phase1_bytes));
  RecordProperty("phase2_should_waits", should_waits);

  mx_handle_close(ctl);
  EXPECT_EQ(child.Join(), 0);
  mx_handle_close(data);
}

}  // namespace
