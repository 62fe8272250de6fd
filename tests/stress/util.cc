// SPDX-License-Identifier: BSD-3-Clause
// mx_soak's small helpers: fd listings, time, status names, the control-channel write.
#include <magenta/status.h>

#include "soak.h"

namespace mx_soak {

// "fd -> target" for every open fd, for failure messages.
std::string DescribeFds() {
  std::string out;
  DIR* dir = opendir("/proc/self/fd");
  if (dir == nullptr) return out;
  const int self = dirfd(dir);
  while (struct dirent* e = readdir(dir)) {
    if (e->d_name[0] == '.' || atoi(e->d_name) == self) continue;
    char path[300], target[PATH_MAX + 1];
    snprintf(path, sizeof(path), "/proc/self/fd/%s", e->d_name);
    ssize_t n = readlink(path, target, PATH_MAX);
    target[n > 0 ? n : 0] = '\0';
    out += std::string(" ") + e->d_name + "->" + target;
  }
  closedir(dir);
  return out;
}

double Now() {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
}

mx_time_t DeadlineAfterSeconds(double s) {
  return mx_deadline_after(static_cast<mx_duration_t>(s * 1e9));
}

const char* StatusName(mx_status_t s) { return mx_status_get_string(s); }

mx_info_handle_basic_t BasicInfo(mx_handle_t h) {
  mx_info_handle_basic_t info = {};
  size_t actual = 0, avail = 0;
  if (mx_object_get_info(h, MX_INFO_HANDLE_BASIC, &info, sizeof(info), &actual, &avail) != MX_OK)
    return mx_info_handle_basic_t{};
  return info;
}

void CloseHandles(const mx_handle_t* h, size_t n) {
  for (size_t i = 0; i < n; ++i)
    if (h[i] != MX_HANDLE_INVALID) mx_handle_close(h[i]);
}

void WarmUp() {
  // Everything libmx creates lazily and keeps for the life of the process, created before the
  // fd baseline is taken.
  mx_handle_t a, b, e, got = MX_HANDLE_INVALID;
  if (mx_channel_create(0, &a, &b) != MX_OK) return;
  mx_event_create(0, &e);
  mx_object_signal(e, 0, MX_EVENT_SIGNALED);
  uint32_t word = 0x7fffff01u, nb = 0, nh = 0;
  mx_channel_write(a, 0, &word, sizeof(word), &e, 1);
  mx_channel_read(b, 0, &word, &got, sizeof(word), 1, &nb, &nh);
  mx_wait_item_t items[2] = {{got, MX_EVENT_SIGNALED, 0}, {b, MX_CHANNEL_READABLE, 0}};
  mx_object_wait_many(items, 2, mx_deadline_after(MX_MSEC(1)));
  mx_object_wait_one(b, MX_CHANNEL_READABLE, mx_deadline_after(MX_MSEC(1)), nullptr);
  if (nh == 1) mx_handle_close(got);
  int fds[2];
  if (pipe2(fds, O_CLOEXEC) == 0) {
    mx_handle_t fh;
    close(fds[1]);
    if (mx_fd_wrap(fds[0], &fh) == MX_OK) mx_handle_close(fh);
  }
  mx_handle_close(a);
  mx_handle_close(b);
}

mx_status_t WriteCtrl(mx_handle_t ctrl, const CtrlMsg& m, const void* extra, size_t extra_len,
                      mx_handle_t* handles, uint32_t nh) {
  std::vector<uint8_t> bytes(sizeof(m) + extra_len);
  memcpy(bytes.data(), &m, sizeof(m));
  if (extra_len) memcpy(bytes.data() + sizeof(m), extra, extra_len);
  // The control channel is lightly used; backpressure on it would mean a stuck peer. Retry
  // briefly (with a deadline) rather than fail at once.
  const mx_time_t deadline = mx_deadline_after(MX_SEC(30));
  for (;;) {
    mx_status_t st =
        mx_channel_write(ctrl, 0, bytes.data(), static_cast<uint32_t>(bytes.size()), handles, nh);
    if (st != MX_ERR_SHOULD_WAIT) return st;
    st = mx_object_wait_one(ctrl, MX_CHANNEL_WRITABLE | MX_CHANNEL_PEER_CLOSED, deadline, nullptr);
    if (st != MX_OK) return st;
  }
}

}  // namespace mx_soak
