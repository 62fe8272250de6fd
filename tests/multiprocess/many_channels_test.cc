// SPDX-License-Identifier: BSD-3-Clause
// The fd limit libmx raises at load (os/nofile_limit.h, docs/resources.md), seen from real
// processes:
//   - SpawnedChildStartsWithOurSoftLimitAndRaisesIt: a child inherits the spawner's soft
//     RLIMIT_NOFILE; its libmx raises it to the hard limit before main(), unless MX_NOFILE_RAISE=0.
//   - TenThousandChannelsToAChildUnderTheDefaultSoftLimit: a child started with a soft limit of
//     1024 takes one end of each of 10,000 channels (64 per message), answers on every one, sees
//     every peer close, and closes them all; both processes count their fds throughout.
// Only the hard limit matters: a test skips (and says the numbers) when it is too low.
#include <gtest/gtest.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include <algorithm>
#include <string>
#include <vector>

#include "support/multiprocess.h"

extern char** environ;

namespace {

using mx_test::Message;

constexpr uint32_t kChannels = 10'000;
constexpr uint32_t kPerMessage = 64;  // the most handles a message carries
// What each process needs besides the channel ends: its own fds, libmx's, a batch in flight, and
// the slots libmx keeps free when it installs received fds (os/fd_budget.h).
constexpr rlim_t kSpareFds = 1024;
// The soft limit Debian (like most distributions) starts a login session with.
constexpr rlim_t kDefaultSoftLimit = 1024;
// Handle-free messages each way on the control channel before fds are counted: enough for both
// directions to set up their shared-memory ring (docs/design.md, "Channel data path"), so that no
// fd appears between two counts.
constexpr int kControlWarmUp = 12;

struct Limits {
  uint64_t soft;
  uint64_t hard;
};

struct Batch {
  uint32_t first;  // index of the first channel whose end comes with this message
  uint32_t count;
};

struct FdCounts {
  int64_t before;   // after warming up the control channel
  int64_t holding;  // holding every end, after answering on each
  int64_t after;    // every end closed
};

Limits CurrentLimits() {
  struct rlimit lim = {};
  getrlimit(RLIMIT_NOFILE, &lim);
  return {static_cast<uint64_t>(lim.rlim_cur), static_cast<uint64_t>(lim.rlim_max)};
}

// Lowers this process's soft limit for as long as it lives (so a child spawned meanwhile starts
// with it) and puts the old one back.
class ScopedSoftLimit {
 public:
  explicit ScopedSoftLimit(rlim_t soft) {
    EXPECT_EQ(getrlimit(RLIMIT_NOFILE, &saved_), 0);
    struct rlimit low = saved_;
    low.rlim_cur = soft < saved_.rlim_cur ? soft : saved_.rlim_cur;
    EXPECT_EQ(setrlimit(RLIMIT_NOFILE, &low), 0);
  }
  ~ScopedSoftLimit() { EXPECT_EQ(setrlimit(RLIMIT_NOFILE, &saved_), 0); }
  ScopedSoftLimit(const ScopedSoftLimit&) = delete;
  ScopedSoftLimit& operator=(const ScopedSoftLimit&) = delete;

 private:
  struct rlimit saved_ = {};
};

bool RaiseTurnedOff() {
  const char* env = getenv("MX_NOFILE_RAISE");
  return env != nullptr && strcmp(env, "0") == 0;
}

// Writes, waiting (generous deadline) while the channel is full.
mx_status_t WriteWaiting(mx_handle_t channel, const void* bytes, uint32_t num_bytes,
                         const mx_handle_t* handles, uint32_t num_handles) {
  for (;;) {
    mx_status_t status = mx_channel_write(channel, 0, bytes, num_bytes, handles, num_handles);
    if (status != MX_ERR_SHOULD_WAIT) return status;
    mx_signals_t seen = 0;
    status = mx_object_wait_one(channel, MX_CHANNEL_WRITABLE | MX_CHANNEL_PEER_CLOSED,
                                mx_test::DefaultDeadline(), &seen);
    if (status != MX_OK) return status;
    if ((seen & MX_CHANNEL_WRITABLE) == 0) return MX_ERR_PEER_CLOSED;
  }
}

// |count| handle-free messages out on |ctl|, then |count| in.
bool WarmUpControl(mx_handle_t ctl, int count, bool write_first) {
  for (int pass = 0; pass < 2; ++pass) {
    for (int i = 0; i < count; ++i) {
      if ((pass == 0) == write_first) {
        if (WriteWaiting(ctl, &i, sizeof(i), nullptr, 0) != MX_OK) return false;
      } else {
        int got = -1;
        if (mx_test::ReadPod(ctl, &got) != MX_OK || got != i) return false;
      }
    }
  }
  return true;
}

// Reports its limits, then exits.
MX_CHILD(report_nofile_limit) {
  mx_handle_t ctl = mx_test::TakeStartupHandle(PA_HND(PA_USER0, 0));
  CHILD_CHECK_OK(mx_test::WritePod(ctl, CurrentLimits()));
  mx_handle_close(ctl);
  return 0;
}

// Reports its limits; takes kChannels channel ends in batches; answers each end's one message
// with the same bytes; waits for the parent's word that it closed its ends, then checks that
// every end sees PEER_CLOSED and closes them all. Reports its fd counts.
MX_CHILD(many_channels_echo) {
  mx_handle_t ctl = mx_test::TakeStartupHandle(PA_HND(PA_USER0, 0));
  CHILD_CHECK_OK(mx_test::WritePod(ctl, CurrentLimits()));
  mx_test::WarmUpLibmx();
  CHILD_CHECK(WarmUpControl(ctl, kControlWarmUp, /*write_first=*/false));
  FdCounts counts = {};
  counts.before = mx_test::CountOpenFds();

  std::vector<mx_handle_t> ends;
  ends.reserve(kChannels);
  while (ends.size() < kChannels) {
    Message msg;
    CHILD_CHECK_OK(mx_test::ReadMessage(ctl, &msg));
    Batch batch;
    CHILD_CHECK_EQ(msg.bytes.size(), sizeof(batch));
    memcpy(&batch, msg.bytes.data(), sizeof(batch));
    CHILD_CHECK_EQ(batch.first, ends.size());
    CHILD_CHECK_EQ(batch.count, msg.handles.size());
    ends.insert(ends.end(), msg.handles.begin(), msg.handles.end());
  }
  for (uint32_t i = 0; i < kChannels; ++i) {
    uint32_t got = 0;
    CHILD_CHECK_OK(mx_test::ReadPod(ends[i], &got));
    CHILD_CHECK_EQ(got, i);
    CHILD_CHECK_OK(WriteWaiting(ends[i], &got, sizeof(got), nullptr, 0));
  }
  counts.holding = mx_test::CountOpenFds();

  Message closed;
  CHILD_CHECK_OK(mx_test::ReadMessage(ctl, &closed));
  CHILD_CHECK(closed.handles.empty());
  for (mx_handle_t end : ends) {
    CHILD_CHECK_OK(
        mx_object_wait_one(end, MX_CHANNEL_PEER_CLOSED, mx_test::DefaultDeadline(), nullptr));
    CHILD_CHECK_OK(mx_handle_close(end));
  }
  counts.after = mx_test::CountOpenFds();
  CHILD_CHECK_OK(mx_test::WritePod(ctl, counts));
  mx_handle_close(ctl);
  return 0;
}

mx_status_t SpawnWithEnvironment(const char* name, const std::vector<std::string>& extra_env,
                                 mx_handle_t ctl, mx_handle_t* process) {
  const std::string& exe = mx_test::SelfExePath();
  const std::string child_flag = std::string("--mx-child=") + name;
  const char* argv[] = {exe.c_str(), child_flag.c_str(), nullptr};
  std::vector<const char*> envp;
  for (char** e = environ; *e != nullptr; ++e) {
    if (strncmp(*e, "MX_NOFILE_RAISE=", 16) != 0) envp.push_back(*e);
  }
  for (const std::string& e : extra_env) envp.push_back(e.c_str());
  envp.push_back(nullptr);
  mx_spawn_handle_t handle = {PA_HND(PA_USER0, 0), ctl};
  return mx_spawn(exe.c_str(), argv, envp.data(), &handle, 1, process);
}

// Spawns |name| with |extra_env| while this process's soft limit is |soft| and returns the
// limits the child reports.
void SpawnAndReadLimits(const char* name, rlim_t soft, const std::vector<std::string>& extra_env,
                        Limits* limits) {
  mx_handle_t ctl = MX_HANDLE_INVALID, theirs = MX_HANDLE_INVALID;
  ASSERT_EQ(mx_channel_create(0, &ctl, &theirs), MX_OK);
  mx_handle_t process = MX_HANDLE_INVALID;
  {
    ScopedSoftLimit low(soft);
    ASSERT_EQ(SpawnWithEnvironment(name, extra_env, theirs, &process), MX_OK);
  }
  mx_test::ScopedProcess child(process);
  ASSERT_EQ(mx_test::ReadPod(ctl, limits), MX_OK);
  EXPECT_EQ(child.Join(), 0);
  mx_handle_close(ctl);
}

using NofileLimitChildTest = mx_test::MultiprocessTest;

TEST_F(NofileLimitChildTest, SpawnedChildStartsWithOurSoftLimitAndRaisesIt) {
  const Limits ours = CurrentLimits();
  if (ours.hard <= kDefaultSoftLimit) {
    GTEST_SKIP() << "the hard RLIMIT_NOFILE is " << ours.hard << ", not above " << kDefaultSoftLimit
                 << ": there is nothing to raise";
  }
  Limits raised = {};
  ASSERT_NO_FATAL_FAILURE(
      SpawnAndReadLimits("report_nofile_limit", kDefaultSoftLimit, {}, &raised));
  EXPECT_EQ(raised.soft, ours.hard);
  EXPECT_EQ(raised.hard, ours.hard);

  Limits kept = {};
  ASSERT_NO_FATAL_FAILURE(
      SpawnAndReadLimits("report_nofile_limit", kDefaultSoftLimit, {"MX_NOFILE_RAISE=0"}, &kept));
  EXPECT_EQ(kept.soft, kDefaultSoftLimit);
  EXPECT_EQ(kept.hard, ours.hard);
}

using ManyChannelsTest = mx_test::MultiprocessTest;

TEST_F(ManyChannelsTest, TenThousandChannelsToAChildUnderTheDefaultSoftLimit) {
  if (RaiseTurnedOff()) GTEST_SKIP() << "MX_NOFILE_RAISE=0 is set: libmx leaves the limit alone";
  const Limits ours = CurrentLimits();
  const rlim_t need = kChannels + kSpareFds;
  if (ours.hard < need) {
    GTEST_SKIP() << "the hard RLIMIT_NOFILE is " << ours.hard << "; each process needs " << need
                 << " (" << kChannels << " channel ends and " << kSpareFds << " to spare)";
  }
  // libmx raised this process's limit when it loaded, whatever the test runner started it with.
  ASSERT_EQ(ours.soft, ours.hard);

  mx_handle_t ctl = MX_HANDLE_INVALID, theirs = MX_HANDLE_INVALID;
  ASSERT_EQ(mx_channel_create(0, &ctl, &theirs), MX_OK);
  mx_handle_t process = MX_HANDLE_INVALID;
  {
    ScopedSoftLimit low(kDefaultSoftLimit);
    ASSERT_EQ(SpawnWithEnvironment("many_channels_echo", {}, theirs, &process), MX_OK);
  }
  mx_test::ScopedProcess child(process);
  Limits child_limits = {};
  ASSERT_EQ(mx_test::ReadPod(ctl, &child_limits), MX_OK);
  EXPECT_EQ(child_limits.soft, ours.hard)
      << "the child started with a soft limit of " << kDefaultSoftLimit << " and did not raise it";
  ASSERT_TRUE(WarmUpControl(ctl, kControlWarmUp, /*write_first=*/true));
  const int before = mx_test::CountOpenFds();

  std::vector<mx_handle_t> mine;
  mine.reserve(kChannels);
  for (uint32_t first = 0; first < kChannels; first += kPerMessage) {
    const Batch batch = {first, std::min(kPerMessage, kChannels - first)};
    mx_handle_t sent[kPerMessage];
    for (uint32_t i = 0; i < batch.count; ++i) {
      mx_handle_t a = MX_HANDLE_INVALID;
      ASSERT_EQ(mx_channel_create(0, &a, &sent[i]), MX_OK) << "channel " << first + i;
      mine.push_back(a);
    }
    ASSERT_EQ(WriteWaiting(ctl, &batch, sizeof(batch), sent, batch.count), MX_OK)
        << "batch from channel " << first;
  }
  for (uint32_t i = 0; i < kChannels; ++i) {
    ASSERT_EQ(WriteWaiting(mine[i], &i, sizeof(i), nullptr, 0), MX_OK) << "channel " << i;
  }
  for (uint32_t i = 0; i < kChannels; ++i) {
    uint32_t got = 0;
    ASSERT_EQ(mx_test::ReadPod(mine[i], &got), MX_OK) << "channel " << i;
    ASSERT_EQ(got, i);
  }
  EXPECT_EQ(mx_test::CountOpenFds(), before + static_cast<int>(kChannels));

  mx_test::CloseAll(&mine);
  EXPECT_EQ(mx_test::CountOpenFds(), before);
  const uint32_t word = 0;
  ASSERT_EQ(WriteWaiting(ctl, &word, sizeof(word), nullptr, 0), MX_OK);
  FdCounts counts = {};
  ASSERT_EQ(mx_test::ReadPod(ctl, &counts), MX_OK);
  EXPECT_EQ(counts.holding, counts.before + kChannels) << "the child's fds holding every end";
  EXPECT_EQ(counts.after, counts.before) << "the child's fds after closing every end";
  EXPECT_EQ(child.Join(), 0);
  mx_handle_close(ctl);
}

}  // namespace
