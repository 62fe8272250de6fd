// SPDX-License-Identifier: BSD-3-Clause
// The spin budget: configurable, bounded, and off where it cannot help (the placements). Each case
// runs in a forked child, because the budget's configuration is read once per process.
#include "os/spin.h"

#include <gtest/gtest.h>
#include <sched.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <thread>

#include "os/clock.h"

namespace mx::internal {
namespace {

// Runs |body| in a forked child (with MX_SPIN_US=|spin_us| unless null) and returns its exit
// status: 0 when every check passed, else the number of the failed check.
template <typename Body>
int InChild(const char* spin_us, Body body) {
  pid_t pid = ::fork();
  if (pid == 0) {
    if (spin_us != nullptr) {
      ::setenv("MX_SPIN_US", spin_us, 1);
    } else {
      ::unsetenv("MX_SPIN_US");
    }
    ::_exit(body());
  }
  int status = 0;
  EXPECT_EQ(::waitpid(pid, &status, 0), pid);
  EXPECT_TRUE(WIFEXITED(status));
  return WEXITSTATUS(status);
}

int CpusWeMayUse() {
  cpu_set_t set;
  CPU_ZERO(&set);
  if (::sched_getaffinity(0, sizeof(set), &set) != 0) return 1;
  return CPU_COUNT(&set);
}

TEST(SpinTest, DefaultIsAHundredMicrosecondsWithSeveralCpus) {
  if (CpusWeMayUse() < 2) GTEST_SKIP() << "this machine gives us a single CPU";
  EXPECT_EQ(InChild(nullptr, [] { return SpinBudget() == 100'000 ? 0 : 1; }), 0);
}

TEST(SpinTest, TheEnvironmentSetsItAndZeroTurnsItOff) {
  if (CpusWeMayUse() < 2) GTEST_SKIP() << "this machine gives us a single CPU";
  EXPECT_EQ(InChild("7", [] { return SpinBudget() == 7'000 ? 0 : 1; }), 0);
  EXPECT_EQ(InChild("0", [] { return SpinBudget() == 0 ? 0 : 1; }), 0);
  // Bounded: at most 10 ms however much is asked for.
  EXPECT_EQ(InChild("99999999", [] { return SpinBudget() == 10'000'000 ? 0 : 1; }), 0);
  // Garbage is ignored.
  EXPECT_EQ(InChild("lots", [] { return SpinBudget() == 100'000 ? 0 : 1; }), 0);
}

// Pinned to the single CPU |one| (= {cpu}), with a new placement cache: the spin decisions.
int SingleCpuChecks(int cpu, const cpu_set_t& one) {
  if (SpinBudget() != 5'000'000) return 2;
  // A spinner for a peer of unknown placement gives up at once...
  Spinner spin(MX_TIME_INFINITE);
  if (spin.Pause()) return 3;
  // ...and so does one for a peer on the same single CPU.
  Spinner same(MX_TIME_INFINITE, PlanSpinFor(PlacementOfSet(one)));
  if (same.Pause()) return 4;
  if (ThisThreadSpinCounts().declined != 2) return 5;
  if (ThisThreadSpinCounts().spun != 0) return 6;
  // A peer pinned to another CPU: spin, without yielding to anybody.
  cpu_set_t other;
  CPU_ZERO(&other);
  CPU_SET(cpu + 1, &other);
  const SpinPlan plan = PlanSpinFor(PlacementOfSet(other));
  if (!plan.spin || plan.yield) return 7;
  Spinner distinct(MX_TIME_INFINITE, plan);
  if (!distinct.Pause()) return 8;
  return ThisThreadSpinCounts().spun == 1 ? 0 : 9;
}

TEST(SpinTest, OnASingleCpuNoSpinningForAPeerOnItOrUnknown) {
  EXPECT_EQ(InChild("5000",
                    [] {
                      const int cpu = sched_getcpu();
                      cpu_set_t one;
                      CPU_ZERO(&one);
                      CPU_SET(cpu, &one);
                      if (::sched_setaffinity(0, sizeof(one), &one) != 0) return 1;
                      // On a new thread (it inherits the affinity): its placement cache is new
                      // too, where this one may hold the affinity of before (for 100 ms).
                      int result = 0;
                      std::thread([&] { result = SingleCpuChecks(cpu, one); }).join();
                      return result;
                    }),
            0);
}

TEST(SpinTest, ASpinnerStopsAtItsBudgetOrDeadline) {
  if (CpusWeMayUse() < 2) GTEST_SKIP() << "this machine gives us a single CPU";
  EXPECT_EQ(InChild("2000",
                    [] {
                      IgnoreSpinContentionForTesting(true);
                      // A 2 ms budget: the spin ends, and not before 2 ms have passed.
                      mx_time_t start = MonotonicNow();
                      Spinner spin(MX_TIME_INFINITE);
                      while (spin.Pause()) {
                      }
                      if (MonotonicNow() - start < 2'000'000) return 1;
                      // A deadline before the budget ends it first (it is already due here).
                      Spinner due(MonotonicNow());
                      unsigned pauses = 0;
                      while (due.Pause()) ++pauses;
                      return pauses <= 8 ? 0 : 2;
                    }),
            0);
}

TEST(SpinTest, MissesShrinkAThreadsBudgetAndHitsGrowItBack) {
  if (CpusWeMayUse() < 2) GTEST_SKIP() << "this machine gives us a single CPU";
  EXPECT_EQ(InChild("160",
                    [] {
                      IgnoreSpinContentionForTesting(true);
                      auto spin_out = [] {
                        Spinner s(MX_TIME_INFINITE);
                        while (s.Pause()) {
                        }
                      };
                      if (Spinner(MX_TIME_INFINITE).planned() != 160'000) return 1;
                      spin_out();
                      if (Spinner(MX_TIME_INFINITE).planned() != 80'000) return 2;
                      for (int i = 0; i < 5; ++i) spin_out();
                      if (Spinner(MX_TIME_INFINITE).planned() != 2'500) return 3;  // floor: 1/64
                      // A miss at the floor: the next four waits do not spin at all.
                      spin_out();
                      for (int i = 0; i < 4; ++i) {
                        if (Spinner(MX_TIME_INFINITE).planned() != 0) return 6;
                      }
                      if (ThisThreadSpinCounts().skipped != 4) return 7;
                      {
                        Spinner s(MX_TIME_INFINITE);
                        if (s.planned() != 2'500) return 8;
                        s.Pause();
                        s.Hit();
                      }
                      if (Spinner(MX_TIME_INFINITE).planned() != 5'000) return 4;
                      // A spin cut short by its deadline says nothing about the peer.
                      {
                        Spinner s(MonotonicNow() + 1'000);
                        while (s.Pause()) {
                        }
                      }
                      return Spinner(MX_TIME_INFINITE).planned() == 5'000 ? 0 : 5;
                    }),
            0);
}

TEST(SpinTest, AMissWhoseNewsCameWithinTheFullBudgetRestoresIt) {
  // Found by the benchmarks: a call whose round trip is longer than the cut budget missed every
  // spin, so its thread never spun in full again and every call blocked (10x slower).
  if (CpusWeMayUse() < 2) GTEST_SKIP() << "this machine gives us a single CPU";
  EXPECT_EQ(InChild("10000",
                    [] {
                      IgnoreSpinContentionForTesting(true);
                      auto spin_out = [] {
                        Spinner s(MX_TIME_INFINITE);
                        while (s.Pause()) {
                        }
                      };
                      // Misses nobody judges shrink the budget to its floor (10 ms / 64).
                      for (int i = 0; i < 6; ++i) spin_out();
                      if (Spinner(MX_TIME_INFINITE).planned() != 156'250) return 1;
                      // The news comes right after a cut spin ran out: full budget again. (Retried
                      // if this thread was descheduled for the whole budget in between.)
                      bool restored = false;
                      for (int attempt = 0; attempt < 5 && !restored; ++attempt) {
                        const mx_time_t t0 = MonotonicNow();
                        spin_out();
                        SpinWaitEnded();
                        if (MonotonicNow() - t0 > 10'000'000) continue;
                        if (Spinner(MX_TIME_INFINITE).planned() != 10'000'000) return 2;
                        restored = true;
                      }
                      if (!restored) return 3;
                      // The news comes later than a full spin would have waited: the budget halves.
                      spin_out();
                      ::usleep(20'000);
                      SpinWaitEnded();
                      if (Spinner(MX_TIME_INFINITE).planned() != 5'000'000) return 4;
                      // Nothing to judge: no change.
                      SpinWaitEnded();
                      return Spinner(MX_TIME_INFINITE).planned() == 5'000'000 ? 0 : 5;
                    }),
            0);
}

TEST(SpinTest, MissesAtTheFloorPauseSpinningLongerEachTimeUntilAHit) {
  if (CpusWeMayUse() < 2) GTEST_SKIP() << "this machine gives us a single CPU";
  EXPECT_EQ(InChild("1000",
                    [] {
                      IgnoreSpinContentionForTesting(true);
                      // Judged slow: the peer answers long after a full spin would have ended.
                      auto slow_miss = [] {
                        {
                          Spinner s(MX_TIME_INFINITE);
                          while (s.Pause()) {
                          }
                        }
                        ::usleep(2'000);
                        SpinWaitEnded();
                      };
                      auto skipped_waits = [] {
                        const uint64_t before = ThisThreadSpinCounts().skipped;
                        while (Spinner(MX_TIME_INFINITE).planned() == 0) {
                        }
                        return ThisThreadSpinCounts().skipped - before;
                      };
                      for (int i = 0; i < 6; ++i) slow_miss();  // 1 ms down to its floor
                      if (Spinner(MX_TIME_INFINITE).planned() != 15'625) return 1;
                      // At the floor each slow miss pauses spinning, twice as long each time.
                      slow_miss();
                      if (skipped_waits() != 4) return 2;
                      slow_miss();
                      if (skipped_waits() != 8) return 3;
                      slow_miss();
                      if (skipped_waits() != 16) return 4;
                      // A hit ends it: the next pause is short again.
                      {
                        Spinner s(MX_TIME_INFINITE);
                        s.Pause();
                        s.Hit();
                      }
                      // News many budgets late: the floor and a pause at once.
                      {
                        Spinner s(MX_TIME_INFINITE);
                        while (s.Pause()) {
                        }
                      }
                      ::usleep(50'000);
                      SpinWaitEnded();
                      return skipped_waits() == 4 ? 0 : 5;
                    }),
            0);
}

TEST(SpinTest, ASpinOffTheCpuThatFindsNothingStopsAndPausesSpinning) {
  // Being off the CPU between two looks is how contention shows; sleeping in the look stands in
  // for a time slice another thread took.
  if (CpusWeMayUse() < 2) GTEST_SKIP() << "this machine gives us a single CPU";
  EXPECT_EQ(InChild("5000",
                    [] {
                      {
                        Spinner s(MX_TIME_INFINITE);
                        unsigned looks = 0;
                        while (s.Pause()) {
                          if (++looks == 20) ::usleep(1'000);
                        }
                        if (looks > 40) return 1;  // stopped soon after, not at its budget
                      }
                      if (ThisThreadSpinCounts().contended != 1) return 2;
                      for (int i = 0; i < 4; ++i) {
                        if (Spinner(MX_TIME_INFINITE).planned() != 0) return 3;
                      }
                      // Contended, but the look after the gap finds the news (the peer that
                      // ran answered): a hit, and spinning goes on. A loaded machine may take
                      // the CPU before the planned gap, which ends that spin as contended: such
                      // a try does not count, and the next waits its pause out.
                      int tries = 0;
                      for (int waits = 0;; ++waits) {
                        if (tries == 20 || waits == 100'000) return 4;
                        const SpinCounts before = ThisThreadSpinCounts();
                        bool reached = false;
                        {
                          Spinner s(MX_TIME_INFINITE);
                          if (s.planned() == 0) continue;  // a wait of the pause
                          ++tries;
                          unsigned looks = 0;
                          while (s.Pause()) {
                            if (++looks == 20) ::usleep(1'000);
                            if (looks == 21) {
                              s.Hit();
                              reached = true;
                              break;
                            }
                          }
                        }
                        if (!reached) continue;
                        if (ThisThreadSpinCounts().contended != before.contended) return 5;
                        if (ThisThreadSpinCounts().hits != before.hits + 1) return 6;
                        break;
                      }
                      return Spinner(MX_TIME_INFINITE).planned() != 0 ? 0 : 7;
                    }),
            0);
}

TEST(SpinTest, ASpinThatYieldsToAnotherThreadOnItsCpuIsContended) {
  EXPECT_EQ(InChild("50000",
                    [] {
                      cpu_set_t one;
                      CPU_ZERO(&one);
                      CPU_SET(sched_getcpu(), &one);
                      if (::sched_setaffinity(0, sizeof(one), &one) != 0) return 1;
                      // A thread that needs this CPU all the time: every yield hands it over.
                      std::atomic<bool> stop{false};
                      std::thread busy([&] {
                        while (!stop.load(std::memory_order_relaxed)) CpuRelax();
                      });
                      int result = 0;
                      {
                        Spinner s(MX_TIME_INFINITE, SpinPlan{/*spin=*/true, /*yield=*/true});
                        while (s.Pause()) {
                        }
                      }
                      stop = true;
                      busy.join();
                      if (ThisThreadSpinCounts().contended != 1) result = 2;
                      const SpinPlan plan = {/*spin=*/true, /*yield=*/true};
                      if (Spinner(MX_TIME_INFINITE, plan).planned() != 0) result = 3;
                      if (ThisThreadSpinCounts().skipped != 1) result = 4;
                      return result;
                    }),
            0);
}

}  // namespace
}  // namespace mx::internal
