#include "object/waker.h"

#include <errno.h>
#include <stdint.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <memory>

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

ThreadWaker::ThreadWaker() : fd_(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)) {}

ThreadWaker::~ThreadWaker() = default;

void ThreadWaker::Kick() {
  kicked_.store(true, std::memory_order_seq_cst);
  uint64_t one = 1;
  ssize_t r;
  do {
    r = ::write(fd_.get(), &one, sizeof(one));
  } while (r < 0 && errno == EINTR);
}

void ThreadWaker::DrainIfKicked() {
  if (kicked_.load(std::memory_order_acquire)) Drain();
}

void ThreadWaker::Drain() {
  kicked_.store(false, std::memory_order_seq_cst);
  uint64_t v;
  ssize_t r;
  do {
    r = ::read(fd_.get(), &v, sizeof(v));
  } while (r < 0 && errno == EINTR);
}

}  // namespace mx::internal
