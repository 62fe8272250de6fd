#include "os/spin.h"

#include <sched.h>

#include <atomic>
#include <cstdlib>

#include "os/clock.h"

namespace mx::internal {
namespace {

constexpr mx_duration_t kDefaultSpin = 20'000;
constexpr mx_duration_t kMaxSpin = 10'000'000;
constexpr mx_duration_t kRecheckCpus = 100'000'000;
constexpr mx_duration_t kYieldEvery = 5'000;
constexpr mx_duration_t kDeepCheckEvery = 100'000;

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

bool SeveralCpus() {
  static std::atomic<mx_time_t> checked_at{0};
  static std::atomic<bool> several{false};
  mx_time_t now = MonotonicNow();
  mx_time_t last = checked_at.load(std::memory_order_relaxed);
  if (last == 0 || now - last >= kRecheckCpus) {
    cpu_set_t set;
    CPU_ZERO(&set);
    bool many = ::sched_getaffinity(0, sizeof(set), &set) == 0 && CPU_COUNT(&set) > 1;
    several.store(many, std::memory_order_relaxed);
    checked_at.store(now, std::memory_order_relaxed);
  }
  return several.load(std::memory_order_relaxed);
}

}  // namespace

mx_duration_t SpinBudget() {
  mx_duration_t budget = ConfiguredSpin();
  if (budget == 0 || !SeveralCpus()) return 0;
  return budget;
}

namespace {
// This thread's current budget (0: not adapted yet, use the full budget).
thread_local mx_duration_t t_adapted = 0;
}  // namespace

Spinner::Spinner(mx_time_t deadline) {
  budget_ = SpinBudget();
  if (budget_ == 0) return;
  mx_time_t now = MonotonicNow();
  if (deadline <= now) return;  // due: no spinning at all
  mx_duration_t budget = t_adapted == 0 || t_adapted > budget_ ? budget_ : t_adapted;
  planned_ = budget;
  by_budget_ = deadline - now >= budget;
  end_ = by_budget_ ? now + budget : deadline;
  last_yield_ = now;
  last_deep_ = now;
}

Spinner::~Spinner() {
  if (end_ == 0) return;
  mx_duration_t current = t_adapted == 0 || t_adapted > budget_ ? budget_ : t_adapted;
  if (hit_) {
    t_adapted = current * 2 > budget_ ? budget_ : current * 2;
  } else if (expired_ && by_budget_) {
    mx_duration_t floor = budget_ / 16 > 0 ? budget_ / 16 : 1;
    t_adapted = current / 2 < floor ? floor : current / 2;
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
  if (now - last_yield_ >= kYieldEvery) {
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
