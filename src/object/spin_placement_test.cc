// SPDX-License-Identifier: BSD-3-Clause
// Spinning follows both ends' placement, between real processes: a caller and an echoing child
// pinned to distinct CPUs take the spinning path; pinned to the same CPU they never spin; and a
// child that scribbles on the placement words in the shared ring only steers whether we spin.
// Observed through this thread's spin counts (ThisThreadSpinCounts), which count decisions, not
// time: nothing here depends on how fast the machine is.
#include <gtest/gtest.h>
#include <sched.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "os/cpu_placement.h"
#include "os/spin.h"
#include "support/multiprocess.h"
#include "support/ring_layout.h"

namespace mx::internal {
namespace {

constexpr uint32_t kQuit = 0xffffffffu;

void PinTo(int cpu) {
  cpu_set_t one;
  CPU_ZERO(&one);
  CPU_SET(cpu, &one);
  CHILD_CHECK(::sched_setaffinity(0, sizeof(one), &one) == 0);
}

// Writes |word| into both placement words of every channel ring this process has mapped, through
// libmx's own mappings (a ring this end writes has no fd once announced).
void ScribblePlacements(uint64_t word) {
  FILE* maps = ::fopen("/proc/self/maps", "re");
  CHILD_CHECK(maps != nullptr);
  char line[512];
  while (::fgets(line, sizeof(line), maps) != nullptr) {
    if (std::strstr(line, "mx-channel-ring") == nullptr) continue;
    unsigned long start = 0, end = 0;
    CHILD_CHECK(std::sscanf(line, "%lx-%lx", &start, &end) == 2);
    auto* h = reinterpret_cast<mx_test::RingHeader*>(start);
    h->writer_cpus.store(word);
    h->reader_cpus.store(word);
  }
  ::fclose(maps);
}

// PA_USER0: a channel. args[0]: the CPU to pin to. args[1], if given: a placement word to write
// over both ends' words in every ring before each reply. Echoes every message until kQuit.
MX_CHILD(placement_echo) {
  PinTo(std::stoi(args.at(0)));
  const bool scribble = args.size() > 1;
  const uint64_t word = scribble ? std::stoull(args[1]) : 0;
  mx_handle_t ch = mx_test::TakeStartupHandle(PA_HND(PA_USER0, 0));
  for (;;) {
    mx_test::Message m;
    CHILD_CHECK_OK(mx_test::ReadMessage(ch, &m));
    uint32_t op = 0;
    CHILD_CHECK(m.bytes.size() >= sizeof(op));
    std::memcpy(&op, m.bytes.data() + sizeof(uint32_t), sizeof(op));
    if (op == kQuit) break;
    if (scribble) ScribblePlacements(word);
    CHILD_CHECK_OK(mx_test::WriteMessage(ch, m.bytes.data(), m.bytes.size()));
  }
  mx_handle_close(ch);
  return 0;
}

// The first two CPUs this thread may run on (-1 where there are fewer).
std::pair<int, int> TwoCpus() {
  cpu_set_t set;
  CPU_ZERO(&set);
  std::pair<int, int> cpus = {-1, -1};
  if (::sched_getaffinity(0, sizeof(set), &set) != 0) return cpus;
  for (int cpu = 0; cpu < CPU_SETSIZE && cpus.second < 0; ++cpu) {
    if (!CPU_ISSET(cpu, &set)) continue;
    (cpus.first < 0 ? cpus.first : cpus.second) = cpu;
  }
  return cpus;
}

// Pinned to |own|, makes calls to a child pinned to |child_cpu| (scribbling |word| if given), and
// returns what this thread's spinners decided during the calls after the warm-up (which sets up
// both rings). Every call must succeed.
SpinCounts CallsFromThisThread(int own, int child_cpu, const char* word) {
  SpinCounts counted;
  cpu_set_t one;
  CPU_ZERO(&one);
  CPU_SET(own, &one);
  EXPECT_EQ(::sched_setaffinity(0, sizeof(one), &one), 0);
  mx_handle_t ours, theirs;
  EXPECT_EQ(mx_channel_create(0, &ours, &theirs), MX_OK);
  std::vector<std::string> args = {std::to_string(child_cpu)};
  if (word != nullptr) args.push_back(word);
  mx_handle_t process = MX_HANDLE_INVALID;
  EXPECT_EQ(mx_test::SpawnChild("placement_echo", {{PA_HND(PA_USER0, 0), theirs}}, args, &process),
            MX_OK);
  mx_test::ScopedProcess child(process);
  auto call = [&](uint32_t txid, uint32_t op) {
    uint32_t request[16] = {txid, op};
    uint32_t reply[16] = {};
    mx_channel_call_args_t c = {request,         nullptr, reply,         nullptr,
                                sizeof(request), 0,       sizeof(reply), 0};
    uint32_t bytes = 0, handles = 0;
    mx_status_t read_status = MX_OK;
    EXPECT_EQ(
        mx_channel_call(ours, 0, mx_test::DefaultDeadline(), &c, &bytes, &handles, &read_status),
        MX_OK);
    EXPECT_EQ(reply[0], txid);
  };
  uint32_t txid = 1;
  for (int i = 0; i < 40; ++i) call(txid++, 0);
  const SpinCounts before = ThisThreadSpinCounts();
  for (int i = 0; i < 200; ++i) call(txid++, 0);
  const SpinCounts after = ThisThreadSpinCounts();
  const uint32_t quit[16] = {0, kQuit};
  EXPECT_EQ(mx_channel_write(ours, 0, quit, sizeof(quit), nullptr, 0), MX_OK);
  EXPECT_EQ(child.Join(), 0);
  mx_handle_close(ours);
  counted.spun = after.spun - before.spun;
  counted.declined = after.declined - before.declined;
  counted.hits = after.hits - before.hits;
  return counted;
}

// PA_USER0: where to report. args: |own| |child_cpu| [|word|]. Runs CallsFromThisThread in its
// own process (the spin budget's configuration and the placement cache are per process and per
// thread: nothing leaks into the test process) and writes the counts back.
MX_CHILD(placement_caller) {
  mx_handle_t report = mx_test::TakeStartupHandle(PA_HND(PA_USER0, 0));
  const SpinCounts c = CallsFromThisThread(std::stoi(args.at(0)), std::stoi(args.at(1)),
                                           args.size() > 2 ? args[2].c_str() : nullptr);
  CHILD_CHECK(!::testing::Test::HasFailure());
  CHILD_CHECK_OK(mx_test::WriteMessage(report, &c, sizeof(c)));
  mx_handle_close(report);
  return 0;
}

// A caller process pinned to |own| calls an echoing child pinned to |child_cpu|: what the
// caller's spinners decided.
SpinCounts CallsToAPinnedChild(int own, int child_cpu, const char* word = nullptr) {
  SpinCounts counted;
  mx_handle_t ours, theirs;
  EXPECT_EQ(mx_channel_create(0, &ours, &theirs), MX_OK);
  std::vector<std::string> args = {std::to_string(own), std::to_string(child_cpu)};
  if (word != nullptr) args.push_back(word);
  mx_handle_t process = MX_HANDLE_INVALID;
  EXPECT_EQ(
      mx_test::SpawnChild("placement_caller", {{PA_HND(PA_USER0, 0), theirs}}, args, &process),
      MX_OK);
  mx_test::ScopedProcess caller(process);
  mx_test::Message m;
  EXPECT_EQ(mx_test::ReadMessage(ours, &m), MX_OK);
  EXPECT_EQ(m.bytes.size(), sizeof(counted));
  if (m.bytes.size() == sizeof(counted)) std::memcpy(&counted, m.bytes.data(), sizeof(counted));
  EXPECT_EQ(caller.Join(), 0);
  mx_handle_close(ours);
  return counted;
}

TEST(SpinPlacementTest, PinnedToDistinctCpusACallSpins) {
  const auto [a, b] = TwoCpus();
  if (b < 0) GTEST_SKIP() << "this machine gives us a single CPU";
  const SpinCounts c = CallsToAPinnedChild(a, b);
  // Every wait that found no reply yet spun (the plan); none was declined for the placement.
  EXPECT_GT(c.spun, 0u);
  EXPECT_EQ(c.declined, 0u);
}

TEST(SpinPlacementTest, PinnedToTheSameCpuACallNeverSpins) {
  const auto [a, b] = TwoCpus();
  const SpinCounts c = CallsToAPinnedChild(a, a);
  // The child needs our CPU to answer: every wait blocks at once.
  EXPECT_EQ(c.spun, 0u);
  EXPECT_GT(c.declined, 0u);
}

TEST(SpinPlacementTest, APeersPlacementWordsOnlySteerWhetherWeSpin) {
  const auto [a, b] = TwoCpus();
  if (b < 0) GTEST_SKIP() << "this machine gives us a single CPU";
  // The child, on CPU b, claims to share our single CPU: we believe it and block (calls still
  // work, only slower).
  const std::string ours = std::to_string(kSingleCpu | static_cast<uint32_t>(a));
  SpinCounts c = CallsToAPinnedChild(a, b, ours.c_str());
  EXPECT_EQ(c.spun, 0u);
  EXPECT_GT(c.declined, 0u);
  // Garbage words (all bits, a single CPU numbered 2^32-1): some plan, calls still work.
  for (uint64_t garbage : {~uint64_t{0}, kSingleCpu | 0xffffffffu, uint64_t{0}}) {
    const std::string word = std::to_string(garbage);
    c = CallsToAPinnedChild(a, b, word.c_str());
    EXPECT_EQ(c.spun + c.declined > 0, true);
  }
}

}  // namespace
}  // namespace mx::internal
