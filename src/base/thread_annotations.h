// SPDX-License-Identifier: BSD-3-Clause
// Clang thread-safety annotations (https://clang.llvm.org/docs/ThreadSafetyAnalysis.html), named
// as in Zircon. With -Wthread-safety the compiler checks that every member marked TA_GUARDED(mu)
// is touched only with |mu| held, and that every function marked TA_REQ(mu) is called with it.
// On compilers without the attribute every macro expands to nothing.
//
//   TA_CAP("mutex")       the class is a lock (see base/mutex.h)
//   TA_SCOPED_CAP         the class holds a lock for its own lifetime (a lock guard)
//   TA_GUARDED(mu)        the member may be read or written only with |mu| held
//   TA_PT_GUARDED(mu)     what the pointer member points to is guarded by |mu|
//   TA_REQ(mu)            the function must be called with |mu| held (and returns with it held)
//   TA_EXCL(mu)           the function must be called without |mu| (it takes it itself)
//   TA_ACQ(mu)/TA_REL(mu) the function takes / releases |mu|
//   TA_TRY_ACQ(ok, mu)    the function takes |mu| when it returns |ok|
//   TA_ASSERT(mu)         the function tells the analysis that |mu| is held from here on
//   TA_RET_CAP(mu)        the function returns a reference to the lock |mu|
//   TA_NO_ANALYSIS        the function is not checked; every use says why
#pragma once

#if defined(__clang__)
#define MX_THREAD_ANNOTATION(x) __attribute__((x))
#else
#define MX_THREAD_ANNOTATION(x)
#endif

#define TA_CAP(x) MX_THREAD_ANNOTATION(capability(x))
#define TA_SCOPED_CAP MX_THREAD_ANNOTATION(scoped_lockable)
#define TA_GUARDED(x) MX_THREAD_ANNOTATION(guarded_by(x))
#define TA_PT_GUARDED(x) MX_THREAD_ANNOTATION(pt_guarded_by(x))
#define TA_REQ(...) MX_THREAD_ANNOTATION(requires_capability(__VA_ARGS__))
#define TA_EXCL(...) MX_THREAD_ANNOTATION(locks_excluded(__VA_ARGS__))
#define TA_ACQ(...) MX_THREAD_ANNOTATION(acquire_capability(__VA_ARGS__))
#define TA_REL(...) MX_THREAD_ANNOTATION(release_capability(__VA_ARGS__))
#define TA_TRY_ACQ(...) MX_THREAD_ANNOTATION(try_acquire_capability(__VA_ARGS__))
#define TA_ASSERT(...) MX_THREAD_ANNOTATION(assert_capability(__VA_ARGS__))
#define TA_RET_CAP(x) MX_THREAD_ANNOTATION(lock_returned(x))
#define TA_NO_ANALYSIS MX_THREAD_ANNOTATION(no_thread_safety_analysis)
