// SPDX-License-Identifier: BSD-3-Clause
#include "object/waker.h"

#include <memory>

#include "os/eventfd.h"

namespace mx::internal {

namespace {
thread_local ThreadWaker* t_current = nullptr;
}  // namespace

ThreadWaker* ThreadWaker::CurrentIfCreated() { return t_current; }

ThreadWaker* ThreadWaker::Current() {
  thread_local std::unique_ptr<ThreadWaker> waker;
  thread_local unsigned generation = 0;
  if (waker && generation != ForkGeneration()) {
    // We are a forked child: the eventfd number was closed with every other libmx fd.
    waker->fd_.release();
    waker.reset();
  }
  generation = ForkGeneration();
  if (!waker || !waker->fd_.is_valid()) {
    waker.reset(new ThreadWaker());
    if (!waker->fd_.is_valid()) {
      waker.reset();
      t_current = nullptr;
      return nullptr;
    }
  }
  t_current = waker.get();
  return waker.get();
}

ThreadWaker::ThreadWaker() {
  // An fd that could not be had stays invalid: Current() then gives up.
  CreateEventFd(&fd_);
}

ThreadWaker::~ThreadWaker() = default;

void ThreadWaker::Wake() {
  woken_.store(true, std::memory_order_seq_cst);
  SignalEventFd(fd_.get());
}

void ThreadWaker::DrainIfWoken() {
  if (woken_.load(std::memory_order_acquire)) Drain();
}

void ThreadWaker::Drain() {
  woken_.store(false, std::memory_order_seq_cst);
  DrainEventFd(fd_.get());
}

}  // namespace mx::internal
