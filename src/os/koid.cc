// SPDX-License-Identifier: BSD-3-Clause
#include "os/koid.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <new>

#include "base/mutex.h"

namespace mx::internal {
namespace {

constexpr uint64_t kRandomBit = uint64_t{1} << 63;
constexpr uint64_t kWideUidBit = uint64_t{1} << 62;
// uids below this get the layout with the larger counter.
constexpr uint64_t kNarrowUidLimit = uint64_t{1} << 20;
constexpr unsigned kNarrowCounterBits = 42;
constexpr unsigned kWideCounterBits = 30;
// Counter values below this are never used: koid 0 is invalid, and low koids stay recognisable.
constexpr uint64_t kFirstCounter = 1024;
// A process's first batch is small (most processes create few objects); each later one doubles.
constexpr uint64_t kFirstBatch = 64;
constexpr uint64_t kMaxBatch = 4096;
// How long a process of the same uid may hold the counter's lock before we take a random batch
// instead: kLockAttempts tries, kLockBackoffNs apart.
constexpr int kLockAttempts = 64;
constexpr long kLockBackoffNs = 50 * 1000;

struct KoidState {
  Mutex mu;
  uint64_t next TA_GUARDED(mu) = 0;
  uint64_t end TA_GUARDED(mu) = 0;
  uint64_t batch TA_GUARDED(mu) = kFirstBatch;
};

KoidState& State() {
  static KoidState* state = new KoidState();
  return *state;
}

uint64_t SplitMix64(uint64_t x) {
  x += 0x9e3779b97f4a7c15ull;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
  return x ^ (x >> 31);
}

uint64_t RandomU64() {
  uint64_t value = 0;
  if (::getrandom(&value, sizeof(value), GRND_NONBLOCK) == sizeof(value)) return value;
  // No entropy pool yet, or getrandom is filtered: mix what differs between processes and calls.
  struct timespec mono = {}, real = {};
  ::clock_gettime(CLOCK_MONOTONIC, &mono);
  ::clock_gettime(CLOCK_REALTIME, &real);
  static uint64_t calls = 0;
  uint64_t x = SplitMix64(static_cast<uint64_t>(mono.tv_sec) * 1000000000ull +
                          static_cast<uint64_t>(mono.tv_nsec));
  x = SplitMix64(x ^ (static_cast<uint64_t>(real.tv_sec) << 30) ^
                 static_cast<uint64_t>(real.tv_nsec));
  x = SplitMix64(x ^ static_cast<uint64_t>(::getpid()) ^ (++calls << 32));
  return SplitMix64(x ^ reinterpret_cast<uintptr_t>(&value));
}

// The uid part of this process's koids and its counter's range.
struct UidLayout {
  uint64_t prefix;  // the high bits every koid of this uid carries
  uint64_t limit;   // counter values are < limit
};

UidLayout LayoutFor(uint64_t uid) {
  if (uid < kNarrowUidLimit) {
    return {uid << kNarrowCounterBits, uint64_t{1} << kNarrowCounterBits};
  }
  return {kWideUidBit | (uid << kWideCounterBits), uint64_t{1} << kWideCounterBits};
}

// Opens this uid's counter file, or returns -1 if it is missing or not exactly ours: a regular
// file (never through a symlink, never a FIFO) owned by |uid|, no group or other access, one link.
int OpenCounter(uid_t uid) {
  char path[64];
  std::snprintf(path, sizeof(path), "/dev/shm/libmx-koid-%u", static_cast<unsigned>(uid));
  int fd = ::open(path, O_RDWR | O_CREAT | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC, 0600);
  if (fd < 0) return -1;
  struct stat st;
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || st.st_uid != uid ||
      (st.st_mode & 077) != 0 || st.st_nlink != 1) {
    ::close(fd);
    return -1;
  }
  // A umask may have taken the owner's bits away from a file we just created.
  if ((st.st_mode & 0600) != 0600 && ::fchmod(fd, 0600) != 0) {
    ::close(fd);
    return -1;
  }
  return fd;
}

// Locks |fd| without ever blocking; gives up after a short while (only processes of this uid,
// or root, can open the file to hold its lock).
bool LockCounter(int fd) {
  for (int attempt = 0; attempt < kLockAttempts; ++attempt) {
    if (::flock(fd, LOCK_EX | LOCK_NB) == 0) return true;
    if (errno != EWOULDBLOCK && errno != EINTR) return false;
    struct timespec backoff = {0, kLockBackoffNs};
    ::nanosleep(&backoff, nullptr);
  }
  return false;
}

// Reserves |batch| koids of this uid's range: [*first, *first + batch). False if the counter
// cannot be used (see OpenCounter, LockCounter) or its range is used up.
bool ReserveBatch(uint64_t batch, uint64_t* first) {
  const uid_t uid = ::geteuid();
  const UidLayout layout = LayoutFor(uid);
  int fd = OpenCounter(uid);
  if (fd < 0) return false;
  bool ok = false;
  if (LockCounter(fd)) {
    uint64_t value = 0;
    ssize_t n = ::pread(fd, &value, sizeof(value), 0);
    if (n != sizeof(value) || value < kFirstCounter) {
      // A new counter (or one a process of this uid zeroed) starts at a random point of the
      // first quarter of the range, so two counters of one uid that cannot see each other (a
      // sandbox with its own /dev/shm) are unlikely to hand out the same koids.
      value = kFirstCounter + RandomU64() % (layout.limit / 4 - kFirstCounter);
    }
    if (value <= layout.limit - batch) {
      uint64_t next = value + batch;
      if (::pwrite(fd, &next, sizeof(next), 0) == sizeof(next)) {
        *first = layout.prefix | value;
        ok = true;
      }
    }
    ::flock(fd, LOCK_UN);
  }
  ::close(fd);
  return ok;
}

// A batch of the random fallback: bit 63 set, a random start below 2^62 + 2^63, so the batch
// never wraps and never reaches koid 0.
uint64_t RandomBatch() { return kRandomBit | (RandomU64() & (kWideUidBit - 1)); }

}  // namespace

mx_koid_t AllocateKoid() {
  KoidState& s = State();
  MutexLock lock(&s.mu);
  if (s.next == s.end) {
    uint64_t first;
    if (!ReserveBatch(s.batch, &first)) first = RandomBatch();
    s.next = first;
    s.end = first + s.batch;
    if (s.batch < kMaxBatch) s.batch *= 2;
  }
  return s.next++;
}

void ResetKoidStateInChild() {
  // A forked child must not hand out the koids its parent reserved.
  KoidState& s = State();
  new (&s.mu) Mutex();
  MutexLock lock(&s.mu);
  s.next = s.end = 0;
  s.batch = kFirstBatch;
}

}  // namespace mx::internal
