// SPDX-License-Identifier: BSD-3-Clause
// Bounded spinning before a wait blocks (docs/design.md#spin-budget).
//
// A thread about to block on a channel first polls shared memory for a short while: a wake-up
// through the kernel costs far more than a look at shared memory, so a reply that comes within
// the budget is seen much sooner. The budget is bounded and configurable: MX_SPIN_US (read
// once; 0 disables spinning, at most 10000; default 100). It is 0 whenever this process may run
// on a single CPU only (sched_getaffinity, re-read every kRecheckCpus in spin.cc): spinning
// there would only delay the peer it waits for.
//
// Why the default is what it is: the budget must outlast two kernel wake-ups. Once one side of
// a request/reply pair has blocked, the other sees its answer only after that side's wake-up; if
// that is longer than the budget, it blocks too, and from then on each side's news comes after
// the other's wake-up, so both block on every message, for good. The figures that set it are in
// docs/design.md#spin-budget.
#pragma once

#include <magenta/types.h>
#include <sched.h>

namespace mx::internal {

// Nanoseconds to spin before blocking, 0 for none.
mx_duration_t SpinBudget();

// One bounded spin: `Spinner spin(deadline); while (spin.Pause()) { if (ready) { spin.Hit();
// ...} }`. Pause() returns false once the budget (or |deadline|) is spent, at once if spinning
// is off. Every few microseconds it yields the CPU (sched_yield): when the peer we wait for
// shares our vCPU (a loaded machine), it runs instead of waiting for our budget to run out.
//
// Adaptive, per thread: a spin that saw its news in time doubles the thread's next budget (up to
// SpinBudget()). One that ran out its budget is judged when the blocking wait after it ends
// (SpinWaitEnded): if the news came within the full budget of the spin's start, the cut budget
// was too short and the next spin gets the full budget again; if it came later (or the wait
// never reported), the next budget is halved (down to a sixty-fourth). A thread whose peers answer
// slowly (a loaded server) stops burning CPU its peers need; one in a tight request/reply loop
// keeps spinning, and cannot get stuck with a budget just short of its round trip.
class Spinner {
 public:
  explicit Spinner(mx_time_t deadline);
  ~Spinner();
  bool Pause();
  // The news came while spinning.
  void Hit();
  // How long this spin may last (0: no spinning), before the deadline's cut.
  mx_duration_t planned() const { return planned_; }
  // True once every kDeepCheckEvery of spinning: time to ask the kernel what shared memory
  // cannot tell (a peer that died), for budgets long enough to matter.
  bool DeepCheckDue();

 private:
  mx_time_t end_ = 0;
  mx_duration_t budget_ = 0;  // SpinBudget(), for the adaptation's bounds
  mx_time_t start_ = 0;
  bool by_budget_ = false;  // |end_| is the budget's end, not the deadline
  mx_duration_t planned_ = 0;
  bool hit_ = false;
  bool expired_ = false;
  mx_time_t last_yield_ = 0;
  mx_time_t last_deep_ = 0;
  bool deep_due_ = false;
  unsigned count_ = 0;
};

// The wait that followed this thread's last spin has ended (its news came, or its deadline):
// judges a spin that ran out its budget (see Spinner). Cheap when there is nothing to judge.
void SpinWaitEnded();

// One pause in a spin loop (the CPU's spin-wait hint).
inline void CpuRelax() {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#elif defined(__aarch64__)
  asm volatile("yield" ::: "memory");
#endif
}

}  // namespace mx::internal
