// SPDX-License-Identifier: BSD-3-Clause
// Mutex: std::mutex as a capability the thread-safety analysis knows (libstdc++'s std::mutex
// carries no annotation), and the two lock guards the library uses. All inline, no state beyond
// the std::mutex: the same size and code as the std types they replace.
//
//   MutexLock   holds the mutex from construction to destruction (std::lock_guard)
//   UniqueLock  the same, but may let go and take it again in between (std::unique_lock)
//
// A function that must let go of a lock its caller holds (a yield, an evaluation that calls out)
// is marked TA_REQ and calls unlock()/lock() on the Mutex itself, then returns with it held
// again, as its caller's guard expects.
#pragma once

#include <mutex>

#include "base/check.h"
#include "base/thread_annotations.h"

namespace mx::internal {

class TA_CAP("mutex") Mutex {
 public:
  Mutex() = default;
  Mutex(const Mutex&) = delete;
  Mutex& operator=(const Mutex&) = delete;

  void lock() TA_ACQ() { mu_.lock(); }
  void unlock() TA_REL() { mu_.unlock(); }
  bool try_lock() TA_TRY_ACQ(true) { return mu_.try_lock(); }

  // Tells the analysis that the mutex is held here, where it cannot follow the lock (it was
  // taken by an object that outlives one function). Checks nothing at run time.
  void AssertHeld() const TA_ASSERT() {}

 private:
  std::mutex mu_;
};

class TA_SCOPED_CAP MutexLock {
 public:
  explicit MutexLock(Mutex* mu) TA_ACQ(mu) : mu_(mu) { mu_->lock(); }
  ~MutexLock() TA_REL() { mu_->unlock(); }
  MutexLock(const MutexLock&) = delete;
  MutexLock& operator=(const MutexLock&) = delete;

 private:
  Mutex* const mu_;
};

class TA_SCOPED_CAP UniqueLock {
 public:
  explicit UniqueLock(Mutex* mu) TA_ACQ(mu) : mu_(mu) { mu_->lock(); }
  ~UniqueLock() TA_REL() {
    if (held_) mu_->unlock();
  }
  UniqueLock(const UniqueLock&) = delete;
  UniqueLock& operator=(const UniqueLock&) = delete;

  void lock() TA_ACQ() {
    MX_DCHECK(!held_);
    mu_->lock();
    held_ = true;
  }
  void unlock() TA_REL() {
    MX_DCHECK(held_);
    held_ = false;
    mu_->unlock();
  }

 private:
  Mutex* const mu_;
  bool held_ = true;
};

}  // namespace mx::internal
