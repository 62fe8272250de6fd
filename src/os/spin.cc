// SPDX-License-Identifier: BSD-3-Clause
#include "os/spin.h"

#include <sched.h>
#include <sys/resource.h>

#include <cstdlib>

#include "os/clock.h"

namespace mx::internal {
namespace {

constexpr mx_duration_t kDefaultSpin = 100'000;
constexpr mx_duration_t kMaxSpin = 10'000'000;
constexpr mx_duration_t kYieldEvery = 5'000;
constexpr mx_duration_t kDeepCheckEvery = 100'000;
// Misses halve a thread's budget down to this fraction of the full one. Under load (one server,
// hundreds of blocked callers on two CPUs) every call still spins this long, on CPUs the server
// needs, so the floor is kept small (docs/design.md#spin-budget).
constexpr mx_duration_t kFloorDivisor = 64;
// Off the CPU this long between two looks of a spin, or in one yield: another thread ran (two
// looks are well under a microsecond apart), so the CPU is contended.
constexpr mx_duration_t kContendedGap = 5'000;
// A spin whose yields handed the CPU to other threads this many times is contended, even if its
// news came: a peer that needed our CPU answers after one switch, many spinners taking turns with
// a busy peer need many (and would have left the CPU to it by blocking). A yield that finds
// nobody else to run is no switch. The time a yield takes cannot tell the two apart: a switch to
// another spinner that yields back at once costs about what the system call alone does.
constexpr long kContendedSwitches = 3;
// Waits that block at once after a spin that could not pay, the first time in a row, and at most
// (doubling in between).
constexpr uint32_t kFirstPause = 4;
constexpr uint32_t kLongestPause = 256;
// A miss whose news came this many full budgets late drops the budget to its floor at once.
constexpr mx_duration_t kHopeless = 16;

mx_duration_t ConfiguredSpin() {
  static const mx_duration_t configured = [] {
    mx_duration_t v = kDefaultSpin;
    if (const char* env = ::getenv("MX_SPIN_US")) {
      char* end = nullptr;
      unsigned long long us = ::strtoull(env, &end, 10);
      if (end != env && *end == '\0') v = us * 1000 > kMaxSpin ? kMaxSpin : us * 1000;
    }
    return v;
  }();
  return configured;
}

// Times the kernel took this thread off the CPU while it could have run (its yields that let
// another thread run, and preemptions); -1 if unknown.
long InvoluntarySwitches() {
  struct rusage usage;
  if (::getrusage(RUSAGE_THREAD, &usage) != 0) return -1;
  return usage.ru_nivcsw;
}

}  // namespace

mx_duration_t SpinBudget() { return ConfiguredSpin(); }

namespace {
// This thread's current budget (0: not adapted yet, use the full budget).
thread_local mx_duration_t t_adapted = 0;
// A spin of this thread that ran out its budget: when it started and what it may spin in full.
// Judged by SpinWaitEnded (or, if nobody reports, as a miss by the next spin).
thread_local mx_time_t t_missed_start = 0;
thread_local mx_duration_t t_missed_full = 0;
thread_local SpinCounts t_counts;
// Waits left that block without spinning, and the length of the next such pause.
thread_local uint32_t t_pause_left = 0;
thread_local uint32_t t_next_pause = kFirstPause;
thread_local bool t_ignore_contention = false;

mx_duration_t Current(mx_duration_t full) {
  return t_adapted == 0 || t_adapted > full ? full : t_adapted;
}

mx_duration_t Floor(mx_duration_t full) {
  return full / kFloorDivisor > 0 ? full / kFloorDivisor : 1;
}

// The thread's spins do not pay: its next waits block at once (see Spinner in spin.h).
void PauseSpinning() {
  t_pause_left = t_next_pause;
  t_next_pause = t_next_pause * 2 > kLongestPause ? kLongestPause : t_next_pause * 2;
}

// Halves the thread's budget, down to its floor.
void Halve(mx_duration_t full) {
  const mx_duration_t floor = Floor(full);
  const mx_duration_t current = Current(full);
  t_adapted = current / 2 < floor ? floor : current / 2;
}

// A miss judged slow: halve the budget; one already at the floor pauses spinning.
void Shrink(mx_duration_t full) {
  if (Current(full) <= Floor(full)) PauseSpinning();
  Halve(full);
}
}  // namespace

void SpinWaitEnded() {
  if (t_missed_start == 0) return;
  const mx_duration_t waited = MonotonicNow() - t_missed_start;
  const mx_duration_t full = t_missed_full;
  t_missed_start = 0;
  // The news came within what a full spin would have waited: the cut budget made this wait
  // block for nothing, so spin in full again. Otherwise the peer is slow: spin less; one that
  // answers many budgets late (a server with hundreds of callers) is not worth spinning for.
  if (waited <= full) {
    t_adapted = full;
  } else if (waited > kHopeless * full) {
    t_adapted = Floor(full);
    PauseSpinning();
  } else {
    Shrink(full);
  }
}

SpinCounts ThisThreadSpinCounts() { return t_counts; }

void IgnoreSpinContentionForTesting(bool ignore) { t_ignore_contention = ignore; }

Spinner::Spinner(mx_time_t deadline, SpinPlan plan) {
  budget_ = SpinBudget();
  if (budget_ == 0) return;
  if (!plan.spin) {
    ++t_counts.declined;
    return;
  }
  if (t_missed_start != 0) {  // an earlier miss nobody judged: count it as one
    t_missed_start = 0;
    Shrink(budget_);
  }
  if (t_pause_left > 0) {
    --t_pause_left;
    ++t_counts.skipped;
    return;
  }
  mx_time_t now = MonotonicNow();
  if (deadline <= now) return;  // due: no spinning at all
  mx_duration_t budget = Current(budget_);
  start_ = now;
  planned_ = budget;
  by_budget_ = deadline - now >= budget;
  end_ = by_budget_ ? now + budget : deadline;
  yield_ = plan.yield;
  last_yield_ = now;
  last_look_ = now;
  last_deep_ = now;
  ++t_counts.spun;
}

Spinner::~Spinner() {
  if (end_ == 0) return;
  if (switches_ >= 0 && !contended_ && !t_ignore_contention) {
    const long now = InvoluntarySwitches();
    if (now >= 0 && now - switches_ >= kContendedSwitches) contended_ = true;
  }
  if (hit_) ++t_counts.hits;
  if (hit_ && !contended_) {
    mx_duration_t current = Current(budget_);
    t_adapted = current * 2 > budget_ ? budget_ : current * 2;
    t_next_pause = kFirstPause;
  } else if (contended_) {
    // The news may come soon, but only because we leave the CPU: no judgment restores the
    // budget, and the next waits block at once.
    ++t_counts.contended;
    PauseSpinning();
    Halve(budget_);
  } else if (expired_ && by_budget_) {
    t_missed_start = start_;
    t_missed_full = budget_;
  }
}

void Spinner::Hit() { hit_ = true; }

bool Spinner::DeepCheckDue() {
  bool due = deep_due_;
  deep_due_ = false;
  return due;
}

bool Spinner::Pause() {
  if (end_ == 0) return false;
  // Off the CPU before the last look, and that look found nothing (else the caller would have
  // stopped with Hit): other threads want this CPU, the one we wait for perhaps among them.
  if (gap_) {
    contended_ = true;
    return false;
  }
  CpuRelax();
  if ((++count_ & 7) != 0) return true;
  mx_time_t now = MonotonicNow();
  if (now - last_look_ >= kContendedGap && !t_ignore_contention) gap_ = true;  // one more look
  last_look_ = now;
  if (now >= end_) {
    if (gap_) {
      contended_ = true;
    } else {
      expired_ = true;
    }
    return false;
  }
  if (yield_ && now - last_yield_ >= kYieldEvery) {
    // Counted from the first yield: the destructor judges how often the yields switched.
    if (switches_ < 0) switches_ = InvoluntarySwitches();
    ::sched_yield();
    // A yield that gave the CPU away for a while is a gap too: contended unless the look after
    // it finds the news (the thread that ran was the peer, and it answered).
    const mx_time_t after = MonotonicNow();
    if (after - now >= kContendedGap && !t_ignore_contention) gap_ = true;
    last_yield_ = last_look_ = after;
  }
  if (now - last_deep_ >= kDeepCheckEvery) {
    deep_due_ = true;
    last_deep_ = now;
  }
  return true;
}

}  // namespace mx::internal
