// SPDX-License-Identifier: BSD-3-Clause
// CpuPlacement: where a thread may run, as one 64-bit word that each end of a channel publishes in
// the shared ring header, and the decision it feeds: whether a waiter should spin for its peer
// (docs/design.md#spin-budget).
//
// Spinning pays only when the peer can make progress meanwhile, on another CPU. That depends on
// both ends' allowed CPU sets, not on ours alone: two threads pinned to distinct CPUs (the usual
// low-latency deployment) should spin; two confined to the same single CPU never should (the
// spinner only delays the peer it waits for).
//
// Encoding (the whole word is written and read at once, so it is never torn):
//   0                      unknown: nothing published (yet)
//   kSingleCpu | n         exactly one CPU, number n (low 32 bits), whatever its number
//   otherwise              bits 0..61: CPUs 0..61; bit 62 (kHighCpus): some CPU numbered 62 or
//                          more (which one is not recorded)
// A word read from shared memory is the peer's to choose: any value decodes to something, and it
// only ever decides whether we spin (and yield) within our own bounded budget.
#pragma once

#include <sched.h>
#include <stdint.h>

namespace mx::internal {

using CpuPlacement = uint64_t;

inline constexpr CpuPlacement kPlacementUnknown = 0;
inline constexpr CpuPlacement kSingleCpu = uint64_t{1} << 63;
inline constexpr CpuPlacement kHighCpus = uint64_t{1} << 62;
inline constexpr int kMaskedCpus = 62;

// The placement of |set|. An empty set (a failed query) reads as "any CPU": a query that failed
// must never stop spinning that may help.
CpuPlacement PlacementOfSet(const cpu_set_t& set);

// The calling thread's placement (sched_getaffinity). Cached per thread: the cache is looked at
// again every 64th call, and re-read from the kernel only when kRecheckPlacement has passed since
// the last read, so a call costs no system call and almost never a clock read.
CpuPlacement OwnPlacement();

// What a waiter should do while it waits for a peer (pure: unit-tested over both words).
struct SpinPlan {
  bool spin = false;   // spinning can help: the peer may run while we spin
  bool yield = false;  // spin with a periodic sched_yield: the peer may need our CPU
};
// Spin unless both ends are confined to the same single CPU. Yield while spinning when the two
// may share a CPU. A peer whose placement is unknown is taken as one that may share ours, and
// is spun for only when we may run on several CPUs: that is never worse than not knowing.
SpinPlan PlanSpin(CpuPlacement own, CpuPlacement peer);

// Either plan's reason to spin is enough (a wait for several objects spins for the most hopeful).
inline SpinPlan MergeSpinPlans(SpinPlan a, SpinPlan b) {
  return {a.spin || b.spin, (a.spin && a.yield) || (b.spin && b.yield)};
}

}  // namespace mx::internal
