// SPDX-License-Identifier: BSD-3-Clause
#include "os/spin.h"

#include <sched.h>

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

mx_duration_t Current(mx_duration_t full) {
  return t_adapted == 0 || t_adapted > full ? full : t_adapted;
}

void Shrink(mx_duration_t full) {
  mx_duration_t floor = full / kFloorDivisor > 0 ? full / kFloorDivisor : 1;
  mx_duration_t current = Current(full);
  t_adapted = current / 2 < floor ? floor : current / 2;
}
}  // namespace

void SpinWaitEnded() {
  if (t_missed_start == 0) return;
  const mx_duration_t waited = MonotonicNow() - t_missed_start;
  const mx_duration_t full = t_missed_full;
  t_missed_start = 0;
  // The news came within what a full spin would have waited: the cut budget made this wait
  // block for nothing, so spin in full again. Otherwise the peer is slow: spin less.
  if (waited <= full) {
    t_adapted = full;
  } else {
    Shrink(full);
  }
}

SpinCounts ThisThreadSpinCounts() { return t_counts; }

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
  mx_time_t now = MonotonicNow();
  if (deadline <= now) return;  // due: no spinning at all
  mx_duration_t budget = Current(budget_);
  start_ = now;
  planned_ = budget;
  by_budget_ = deadline - now >= budget;
  end_ = by_budget_ ? now + budget : deadline;
  yield_ = plan.yield;
  last_yield_ = now;
  last_deep_ = now;
  ++t_counts.spun;
}

Spinner::~Spinner() {
  if (end_ == 0) return;
  if (hit_) {
    ++t_counts.hits;
    mx_duration_t current = Current(budget_);
    t_adapted = current * 2 > budget_ ? budget_ : current * 2;
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
  CpuRelax();
  if ((++count_ & 7) != 0) return true;
  mx_time_t now = MonotonicNow();
  if (now >= end_) {
    expired_ = true;
    return false;
  }
  if (yield_ && now - last_yield_ >= kYieldEvery) {
    ::sched_yield();
    last_yield_ = now;
  }
  if (now - last_deep_ >= kDeepCheckEvery) {
    deep_due_ = true;
    last_deep_ = now;
  }
  return true;
}

}  // namespace mx::internal
