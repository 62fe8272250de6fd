#include "os/fd_budget.h"

#include <dirent.h>
#include <sys/resource.h>
#include <sys/stat.h>

#include <cstdint>

namespace mx::internal {
namespace {

// Open fds of this process. Since Linux 6.2 stat() of /proc/self/fd reports the count as its
// size (one system call, no fd needed); older kernels report 0 and the directory is listed.
// SIZE_MAX if neither works.
size_t OpenFdCount() {
  struct stat st;
  if (::stat("/proc/self/fd", &st) == 0 && st.st_size > 0) return static_cast<size_t>(st.st_size);
  DIR* dir = ::opendir("/proc/self/fd");
  if (dir == nullptr) return SIZE_MAX;
  size_t n = 0;
  while (struct dirent* e = ::readdir(dir)) {
    if (e->d_name[0] != '.') ++n;
  }
  ::closedir(dir);
  return n > 0 ? n - 1 : 0;  // the listing's own fd
}

}  // namespace

size_t FreeFdSlots() {
  struct rlimit lim;
  if (::getrlimit(RLIMIT_NOFILE, &lim) != 0 || lim.rlim_cur == RLIM_INFINITY) return SIZE_MAX;
  size_t open = OpenFdCount();
  if (open == SIZE_MAX) return SIZE_MAX;
  size_t limit = static_cast<size_t>(lim.rlim_cur);
  return open >= limit ? 0 : limit - open;
}

bool HaveFdHeadroom(size_t count) {
  size_t free_slots = FreeFdSlots();
  return free_slots == SIZE_MAX || free_slots >= count + kFdReserve;
}

}  // namespace mx::internal
