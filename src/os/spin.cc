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

Spinner::Spinner(mx_time_t deadline) {
  mx_duration_t budget = SpinBudget();
  if (budget == 0) return;
  mx_time_t now = MonotonicNow();
  if (deadline <= now) return;  // due: no spinning at all
  end_ = deadline - now < budget ? deadline : now + budget;
  last_yield_ = now;
  last_deep_ = now;
}

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
  if (now >= end_) return false;
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
