#include "os/koid.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdint>
#include <mutex>

namespace mx::internal {
namespace {

constexpr uint64_t kBatch = 4096;
constexpr uint64_t kFirstKoid = 1024;
constexpr const char* kCounterPath = "/dev/shm/libmx-koid-counter";

struct KoidState {
  std::mutex mu;
  uint64_t next = 0;
  uint64_t end = 0;
  uint64_t fallback_counter = 0;
};

KoidState& State() {
  static KoidState* state = new KoidState();
  return *state;
}

// Reserves [first, first + kBatch) from the machine-wide counter; false if unavailable.
bool ReserveBatch(uint64_t* first) {
  int fd = ::open(kCounterPath, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0666);
  if (fd < 0) return false;
  bool ok = false;
  if (::flock(fd, LOCK_EX) == 0) {
    ::fchmod(fd, 0666);  // umask may have narrowed it; other users share the counter
    uint64_t value = 0;
    ssize_t n = ::pread(fd, &value, sizeof(value), 0);
    if (n != sizeof(value) || value < kFirstKoid) value = kFirstKoid;
    uint64_t next = value + kBatch;
    if (::pwrite(fd, &next, sizeof(next), 0) == sizeof(next)) {
      *first = value;
      ok = true;
    }
    ::flock(fd, LOCK_UN);
  }
  ::close(fd);
  return ok;
}

}  // namespace

mx_koid_t AllocateKoid() {
  KoidState& s = State();
  std::lock_guard<std::mutex> lock(s.mu);
  if (s.next == s.end) {
    uint64_t first;
    if (ReserveBatch(&first)) {
      s.next = first;
      s.end = first + kBatch;
    } else {
      // Fallback: bit 63 set, pid in bits 32..62, a per-process counter below.
      uint64_t pid = static_cast<uint64_t>(::getpid());
      s.next = (uint64_t{1} << 63) | (pid << 32) | (s.fallback_counter & 0xffffffffu);
      s.end = s.next + kBatch;
      s.fallback_counter += kBatch;
    }
  }
  return s.next++;
}

void ResetKoidStateInChild() {
  // A forked child must not hand out the koids its parent reserved.
  KoidState& s = State();
  new (&s.mu) std::mutex();
  s.next = s.end = 0;
}

}  // namespace mx::internal
