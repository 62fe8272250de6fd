// SPDX-License-Identifier: BSD-3-Clause
// Bounded spinning before a wait blocks (docs/design.md#spin-budget).
//
// A thread about to block on a channel first polls shared memory for a short while: a wake-up
// through the kernel costs far more than a look at shared memory, so a reply that comes within
// the budget is seen much sooner. The budget is bounded and configurable: MX_SPIN_US (read
// once; 0 disables spinning, at most 10000; default 100).
//
// Whether a wait spins at all follows both ends' placement (os/cpu_placement.h): each end
// publishes the CPUs its thread may run on in the ring header, and a waiter spins unless it and
// the peer it waits for are confined to the same single CPU, where spinning would only delay
// that peer. Threads pinned to distinct CPUs spin; unpinned ones too. Where the peer's placement
// is unknown (nothing published), the waiter spins only if it may itself run on several CPUs.
//
// Why the default is what it is: the budget must outlast two kernel wake-ups. Once one side of
// a request/reply pair has blocked, the other sees its answer only after that side's wake-up; if
// that is longer than the budget, it blocks too, and from then on each side's news comes after
// the other's wake-up, so both block on every message, for good. The figures that set it are in
// docs/design.md#spin-budget.
#pragma once

#include <magenta/types.h>

#include "os/cpu_placement.h"

namespace mx::internal {

// Nanoseconds a spin may last before blocking (MX_SPIN_US), 0 for none.
mx_duration_t SpinBudget();

// The plan for a wait on a peer whose placement word is |peer| (kPlacementUnknown if none),
// from this thread's own placement (cached, see OwnPlacement).
inline SpinPlan PlanSpinFor(CpuPlacement peer) { return PlanSpin(OwnPlacement(), peer); }

// One bounded spin: `Spinner spin(deadline, plan); while (spin.Pause()) { if (ready) {
// spin.Hit(); ...} }`. Pause() returns false once the budget (or |deadline|) is spent, at once if
// spinning is off or |plan| says it cannot help. When |plan| says the peer may share our CPU,
// it yields the CPU (sched_yield) every few microseconds: the peer runs instead of waiting for
// our budget to run out. A peer on a CPU of its own needs no yield, so none is made.
//
// Adaptive, per thread: a spin that saw its news in time doubles the thread's next budget (up to
// SpinBudget()). One that ran out its budget is judged when the blocking wait after it ends
// (SpinWaitEnded): if the news came within the full budget of the spin's start, the cut budget
// was too short and the next spin gets the full budget again; if it came later (or the wait
// never reported), the next budget is halved (down to a sixty-fourth). A thread whose peers answer
// slowly (a loaded server) stops burning CPU its peers need; one in a tight request/reply loop
// keeps spinning, and cannot get stuck with a budget just short of its round trip.
//
// Spinning stops altogether for a while (the thread's next waits block at once, see
// SpinCounts::skipped) when it cannot pay: (1) a spin at the floor budget missed and was judged
// slow, or any spin whose news came more than sixteen full budgets late (the budget drops to its
// floor at once); (2) a spin found the CPU contended: its thread was off the CPU for a while
// between two looks (descheduled, or in a yield) and the look after that found no news, or its
// yields handed the CPU to other threads several times, news or not. With more runnable threads
// than CPUs a spinner takes CPU time from the threads it waits for (a server with many callers). A
// peer that needs our CPU and answers after one yield is no contention. The pause starts at a few
// waits and doubles with each such spin in a row, up to a few hundred; a hit ends the series, and
// the spin that follows a pause probes again. Cost: a yielding spin asks the kernel for the
// thread's switch count twice (getrusage), a spin that hits before its first yield nothing.

class Spinner {
 public:
  Spinner(mx_time_t deadline, SpinPlan plan);
  // For a peer whose placement is unknown.
  explicit Spinner(mx_time_t deadline) : Spinner(deadline, PlanSpinFor(kPlacementUnknown)) {}
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
  bool yield_ = false;  // the plan's: the peer may need our CPU
  mx_time_t last_yield_ = 0;
  mx_time_t last_look_ = 0;  // the clock at the last look's pause
  bool gap_ = false;         // off the CPU since the last look: one more look, then contended
  bool contended_ = false;
  long switches_ = -1;  // InvoluntarySwitches() at the first yield, -1 before it
  mx_time_t last_deep_ = 0;
  bool deep_due_ = false;
  unsigned count_ = 0;
};

// The wait that followed this thread's last spin has ended (its news came, or its deadline):
// judges a spin that ran out its budget (see Spinner). Cheap when there is nothing to judge.
void SpinWaitEnded();

// What this thread's spinners decided, since it started (for tests: a deterministic view of
// whether waits took the spinning path). Counted per thread, so counting costs no shared line.
struct SpinCounts {
  uint64_t spun = 0;       // spinners that spun (a budget and a plan that said spinning helps)
  uint64_t declined = 0;   // spinners that did not, because of the placements (PlanSpin)
  uint64_t hits = 0;       // spins that saw their news in time
  uint64_t skipped = 0;    // waits that did not spin: the thread's spins did not pay lately
  uint64_t contended = 0;  // spins stopped because the CPU was contended
};
SpinCounts ThisThreadSpinCounts();

// For tests of the budget's arithmetic, which must not depend on the machine's load: this thread's
// spins ignore contention (the rule (2) above) while |ignore| is set.
void IgnoreSpinContentionForTesting(bool ignore);

// One pause in a spin loop (the CPU's spin-wait hint).
inline void CpuRelax() {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#elif defined(__aarch64__)
  asm volatile("yield" ::: "memory");
#endif
}

}  // namespace mx::internal
