// SPDX-License-Identifier: BSD-3-Clause
#include "os/cpu_placement.h"

#include <magenta/types.h>

#include "os/clock.h"

namespace mx::internal {
namespace {

// How often a thread's own affinity is asked of the kernel again: a taskset or
// sched_setaffinity from outside is seen within this.
constexpr mx_duration_t kRecheckPlacement = 100'000'000;
// How many calls of OwnPlacement use the cache without looking at the clock.
constexpr unsigned kCallsPerClockLook = 64;

struct Decoded {
  bool single;
  uint32_t cpu;   // single: the CPU's number
  uint64_t mask;  // not single: CPUs 0..61 and kHighCpus
};

Decoded Decode(CpuPlacement p) {
  if (p & kSingleCpu) return {true, static_cast<uint32_t>(p), 0};
  const uint64_t mask = p & ~kSingleCpu;
  // A mask naming exactly one low CPU is that single CPU, whoever wrote it that way.
  if ((mask & kHighCpus) == 0 && mask != 0 && (mask & (mask - 1)) == 0) {
    return {true, static_cast<uint32_t>(__builtin_ctzll(mask)), 0};
  }
  return {false, 0, mask};
}

// True if the single CPU |cpu| may be one of |mask|'s.
bool MaskMayHold(uint64_t mask, uint32_t cpu) {
  return cpu < kMaskedCpus ? (mask & (uint64_t{1} << cpu)) != 0 : (mask & kHighCpus) != 0;
}

bool MayShareCpu(const Decoded& a, const Decoded& b) {
  if (a.single && b.single) return a.cpu == b.cpu;
  if (a.single) return MaskMayHold(b.mask, a.cpu);
  if (b.single) return MaskMayHold(a.mask, b.cpu);
  return (a.mask & b.mask) != 0;
}

}  // namespace

CpuPlacement PlacementOfSet(const cpu_set_t& set) {
  const int count = CPU_COUNT(&set);
  if (count == 0) return ~kSingleCpu;  // any CPU
  uint64_t mask = 0;
  int single = -1;
  for (int cpu = 0, seen = 0; cpu < CPU_SETSIZE && seen < count; ++cpu) {
    if (!CPU_ISSET(cpu, &set)) continue;
    ++seen;
    single = cpu;
    mask |= cpu < kMaskedCpus ? uint64_t{1} << cpu : kHighCpus;
  }
  if (count == 1) return kSingleCpu | static_cast<uint32_t>(single);
  return mask;
}

CpuPlacement OwnPlacement() {
  // One thread-local object: in a shared library each is one TLS lookup.
  struct Cache {
    CpuPlacement value = kPlacementUnknown;
    mx_time_t read_at = 0;
    unsigned calls = 0;
  };
  thread_local Cache c;
  if (c.calls++ % kCallsPerClockLook != 0 && c.value != kPlacementUnknown) return c.value;
  const mx_time_t now = MonotonicNow();
  if (c.value != kPlacementUnknown && now - c.read_at < kRecheckPlacement) return c.value;
  cpu_set_t set;
  CPU_ZERO(&set);
  if (::sched_getaffinity(0, sizeof(set), &set) != 0) CPU_ZERO(&set);  // read as any CPU
  c.value = PlacementOfSet(set);
  c.read_at = now;
  return c.value;
}

SpinPlan PlanSpin(CpuPlacement own, CpuPlacement peer) {
  const Decoded us = Decode(own == kPlacementUnknown ? ~kSingleCpu : own);
  if (peer == kPlacementUnknown) return {!us.single, true};
  const Decoded them = Decode(peer);
  const bool share = MayShareCpu(us, them);
  if (us.single && them.single && share) return {false, false};
  return {true, share};
}

}  // namespace mx::internal
