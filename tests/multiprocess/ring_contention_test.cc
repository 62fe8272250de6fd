// SPDX-License-Identifier: BSD-3-Clause
// A message with handles that meets a full socket is split: its handles go in a frame on the
// socket flagged "payload in ring", its payload into the shared-memory ring under the same
// sequence number (docs/design.md). Meanwhile the reader may hold the ring's |busy| flag (it does
// while it rewinds the ring, sometimes with a fallocate to give pages back). Found by the soak test
// (tests/stress/soak.cc, docs/RELIABILITY.md): once the handle frame is on the socket, the payload
// must follow even if the writer has to wait for |busy|; giving up returned SHOULD_WAIT with the
// handle frame already sent, the next message reused the sequence number, and the reader broke the
// channel ("ring record does not match its frame") or joined one message's handles with the next
// one's payload.
//
// Fixed: SpillLocked holds the ring's try-lock from the room check through the handle frame to
// the record (a writer that finds the lock taken sends nothing and reports SHOULD_WAIT).
#include <dirent.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstring>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "support/multiprocess.h"
#include "support/ring_layout.h"

namespace {

using mx_test::kRingHeaderBytes;
using mx_test::RingHeader;

// A direction's ring is set up after its first few messages (channel_endpoint.cc,
// kRingAfterMessages); send this many first.
constexpr uint32_t kWarmUpMessages = 8;

// Maps the ring of this process whose first record carries |first|. In one process the writer's
// and the reader's fds name the same memfd: rings are told apart by inode.
RingHeader* MapRingStartingWith(const void* first, size_t first_len, size_t* size_out) {
  DIR* dir = opendir("/proc/self/fd");
  if (dir == nullptr) return nullptr;
  RingHeader* found = nullptr;
  std::set<ino_t> seen;
  while (struct dirent* e = readdir(dir)) {
    if (e->d_name[0] == '.') continue;
    char target[256] = {};
    std::string link = std::string("/proc/self/fd/") + e->d_name;
    ssize_t n = readlink(link.c_str(), target, sizeof(target) - 1);
    if (n <= 0 || strstr(target, "mx-channel-ring") == nullptr) continue;
    int fd = atoi(e->d_name);
    struct stat st;
    if (fstat(fd, &st) != 0 || !seen.insert(st.st_ino).second) continue;
    void* base =
        mmap(nullptr, static_cast<size_t>(st.st_size), PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    if (base == MAP_FAILED) continue;
    const uint8_t* record = static_cast<uint8_t*>(base) + kRingHeaderBytes;
    uint32_t len = 0;
    memcpy(&len, record + 8, sizeof(len));
    if (found == nullptr && len == first_len && memcmp(record + 16, first, first_len) == 0) {
      found = static_cast<RingHeader*>(base);
      *size_out = static_cast<size_t>(st.st_size);
    } else {
      munmap(base, static_cast<size_t>(st.st_size));
    }
  }
  closedir(dir);
  return found;
}

void SpinFor(std::chrono::microseconds d) {
  const auto end = std::chrono::steady_clock::now() + d;
  while (std::chrono::steady_clock::now() < end) {
  }
}

// Stands in for a reader that keeps rewinding: holds |busy| (2, "the reader is rewinding") for a
// few microseconds at a time, about half of the time, until destroyed.
class BusyHolder {
 public:
  explicit BusyHolder(RingHeader* h)
      : thread_([this, h] {
          while (!stop_.load()) {
            uint32_t expected = 0;
            if (h->busy.compare_exchange_strong(expected, 2)) {
              SpinFor(std::chrono::microseconds(3));
              h->busy.store(0);
            }
            SpinFor(std::chrono::microseconds(3));
          }
        }) {}
  ~BusyHolder() {
    stop_.store(true);
    thread_.join();
  }

 private:
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

class RingContentionTest : public mx_test::MultiprocessTest {};

TEST_F(RingContentionTest, SplitMessagesKeepTheirHandlesWhileTheReaderHoldsTheRing) {
  mx_handle_t a, b;
  ASSERT_EQ(mx_channel_create(0, &a, &b), MX_OK);
  for (uint32_t i = 0; i < kWarmUpMessages; ++i) {
    ASSERT_EQ(mx_test::WritePod(a, i), MX_OK);
    uint32_t got = 0;
    ASSERT_EQ(mx_test::ReadPod(b, &got), MX_OK);
  }
  const char first[] = "first";  // the ring's first record
  ASSERT_EQ(mx_test::WriteMessage(a, first, sizeof(first)), MX_OK);
  mx_test::Message msg;
  ASSERT_EQ(mx_test::ReadMessage(b, &msg), MX_OK);
  size_t size = 0;
  RingHeader* ring = MapRingStartingWith(first, sizeof(first), &size);
  ASSERT_NE(ring, nullptr);

  // Messages of 4 KiB with an event each, numbered, written until the channel pushes back (the
  // socket fills first, so many are split), then read back and checked, for a few seconds.
  uint32_t written = 0, read = 0;
  std::string failure;
  {
    BusyHolder holder(ring);
    std::vector<uint8_t> bytes(4096);
    std::vector<uint8_t> in(MX_CHANNEL_MAX_MSG_BYTES);
    mx_handle_t handles[4];
    const auto end = std::chrono::steady_clock::now() + std::chrono::seconds(3);
    while (failure.empty() && std::chrono::steady_clock::now() < end) {
      for (;;) {
        mx_handle_t event;
        if (mx_event_create(0, &event) != MX_OK) {
          failure = "mx_event_create failed";
          break;
        }
        memcpy(bytes.data(), &written, sizeof(written));
        mx_status_t st =
            mx_channel_write(a, 0, bytes.data(), static_cast<uint32_t>(bytes.size()), &event, 1);
        if (st != MX_OK) {
          mx_handle_close(event);
          if (st != MX_ERR_SHOULD_WAIT) failure = "write: " + std::string(mx_test::StatusName(st));
          break;
        }
        ++written;
      }
      while (failure.empty()) {
        uint32_t nb = 0, nh = 0;
        mx_status_t st = mx_channel_read(b, 0, in.data(), handles, static_cast<uint32_t>(in.size()),
                                         4, &nb, &nh);
        if (st == MX_ERR_SHOULD_WAIT) break;
        if (st != MX_OK) {
          failure = "read after message " + std::to_string(read) + " of " +
                    std::to_string(written) + ": " + mx_test::StatusName(st);
          break;
        }
        uint32_t number = UINT32_MAX;
        memcpy(&number, in.data(), sizeof(number));
        if (nb != bytes.size() || number != read || nh != 1) {
          failure = "message " + std::to_string(read) + ": got number " + std::to_string(number) +
                    ", " + std::to_string(nb) + " bytes, " + std::to_string(nh) + " handles";
        }
        for (uint32_t i = 0; i < nh; ++i) mx_handle_close(handles[i]);
        ++read;
      }
    }
  }
  EXPECT_EQ(failure, "");
  EXPECT_EQ(read, written);
  munmap(ring, size);
  mx_handle_close(a);
  mx_handle_close(b);
}

}  // namespace
