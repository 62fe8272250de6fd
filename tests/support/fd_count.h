// SPDX-License-Identifier: BSD-3-Clause
// The number of open fds of this process, for the leak checks of every test, fuzzer and mx_soak.
// Header-only and without gtest, so plain programs include it too. Counts are only ever compared
// with each other, taken the same way in the same process.
#pragma once

#include <dirent.h>
#include <sys/stat.h>

namespace mx_test {

// Open fds of this process, without any descriptor used to count them; -1 if /proc is missing.
// Linux 6.2 and later report the count as the size of /proc/self/fd (one stat, no fd opened);
// older kernels report 0 and the directory is listed.
inline int CountOpenFds() {
  struct stat st;
  if (stat("/proc/self/fd", &st) == 0 && st.st_size > 0) return static_cast<int>(st.st_size);
  DIR* dir = opendir("/proc/self/fd");
  if (dir == nullptr) return -1;
  int n = 0;
  while (struct dirent* e = readdir(dir)) {
    if (e->d_name[0] != '.') ++n;
  }
  closedir(dir);
  return n - 1;  // the listing's own fd
}

}  // namespace mx_test
