// SPDX-License-Identifier: BSD-3-Clause
// LastHandleWatch: two observers of MX_SIGNAL_LAST_HANDLE on one handle, armed before the other
// handles go away — a port wait (MX_WAIT_ASYNC_ONCE) with a thread blocked in mx_port_wait
// without a deadline, and a thread blocked in mx_object_wait_one without one. A test arms it, drops
// the other handle some way, then asks whether both observers were told (each given a
// generous deadline: the answer is expected at once, the deadline only ends a failing test).
//
// Header-only, through include/ only, so the api and the multiprocess tests share it.
#pragma once

#include <gtest/gtest.h>
#include <magenta/syscalls.h>
#include <magenta/syscalls/port.h>
#include <stdio.h>
#include <string.h>
#include <sys/types.h>
#include <unistd.h>

#include <atomic>
#include <thread>

namespace mx_test {

class LastHandleWatch {
 public:
  static constexpr uint64_t kKey = 0x4c415354;  // "LAST"

  // Arms both observers on |handle| (not owned; it must stay open until Finish returns): the
  // port wait, then a thread blocked in mx_port_wait and one blocked in mx_object_wait_one.
  explicit LastHandleWatch(mx_handle_t handle) : handle_(handle) {
    EXPECT_EQ(mx_port_create(0, &port_), MX_OK);
    EXPECT_EQ(mx_object_wait_async(handle_, port_, kKey, MX_SIGNAL_LAST_HANDLE, MX_WAIT_ASYNC_ONCE),
              MX_OK);
    port_thread_ = std::thread([this] {
      port_waiter_.tid.store(gettid(), std::memory_order_release);
      mx_port_packet_t packet = {};
      mx_status_t st = mx_port_wait(port_, MX_TIME_INFINITE, &packet, 0);
      port_waiter_.ok = st == MX_OK && packet.key == kKey &&
                        packet.type == MX_PKT_TYPE_SIGNAL_ONE &&
                        (packet.signal.observed & MX_SIGNAL_LAST_HANDLE);
      port_waiter_.done.store(true, std::memory_order_release);
    });
    wait_thread_ = std::thread([this] {
      wait_.tid.store(gettid(), std::memory_order_release);
      mx_signals_t observed = 0;
      mx_status_t st =
          mx_object_wait_one(handle_, MX_SIGNAL_LAST_HANDLE, MX_TIME_INFINITE, &observed);
      wait_.ok = st == MX_OK && (observed & MX_SIGNAL_LAST_HANDLE);
      wait_.done.store(true, std::memory_order_release);
    });
  }

  ~LastHandleWatch() {
    if (wait_thread_.joinable()) Finish();
  }

  // The signals |handle| has now (a wait that times out at once).
  static mx_signals_t Signals(mx_handle_t handle) {
    mx_signals_t observed = 0;
    mx_object_wait_one(handle, 0, 0, &observed);
    return observed;
  }

  // True once both threads sleep in the kernel (inside their waits: each set its tid just
  // before), so that what follows tests their wake-ups, not their first looks.
  bool WaitUntilBlocked(mx_time_t deadline) {
    while (mx_time_get(MX_CLOCK_MONOTONIC) < deadline) {
      if (Sleeps(port_waiter_) && Sleeps(wait_)) return true;
      mx_nanosleep(mx_deadline_after(MX_MSEC(1)));
    }
    return false;
  }

  // True if the port wait returned the LAST_HANDLE packet before |deadline|.
  bool PortFired(mx_time_t deadline) { return Returned(&port_waiter_, deadline); }

  // True if mx_object_wait_one returned MX_OK with LAST_HANDLE before |deadline|.
  bool WaiterWoke(mx_time_t deadline) { return Returned(&wait_, deadline); }

  // Returns once both threads are done, releasing those still blocked: a user packet for the
  // port wait; closing |handle| for the other (its wait ends with CANCELED), which the caller must
  // then not close again. True if it had to close |handle|.
  bool Finish() {
    if (!port_waiter_.done.load(std::memory_order_acquire)) {
      mx_port_packet_t packet = {};
      mx_port_queue(port_, &packet, 0);
    }
    port_thread_.join();
    bool closed = false;
    if (!wait_.done.load(std::memory_order_acquire)) {
      mx_handle_close(handle_);
      closed = true;
    }
    wait_thread_.join();
    mx_handle_close(port_);
    return closed;
  }

 private:
  struct Waiter {
    std::atomic<pid_t> tid{0};
    std::atomic<bool> done{false};
    bool ok = false;  // written before |done|
  };

  static bool Returned(Waiter* w, mx_time_t deadline) {
    while (!w->done.load(std::memory_order_acquire)) {
      if (mx_time_get(MX_CLOCK_MONOTONIC) >= deadline) return false;
      mx_nanosleep(mx_deadline_after(MX_MSEC(1)));
    }
    return w->ok;
  }

  static bool Sleeps(const Waiter& w) {
    const pid_t tid = w.tid.load(std::memory_order_acquire);
    if (tid == 0) return false;
    char path[64];
    snprintf(path, sizeof(path), "/proc/self/task/%d/stat", static_cast<int>(tid));
    FILE* f = fopen(path, "r");
    if (f == nullptr) return false;
    char buf[512];
    size_t n = fread(buf, 1, sizeof(buf) - 1, f);
    fclose(f);
    buf[n] = 0;
    const char* paren = strrchr(buf, ')');  // the state follows the command name
    return paren != nullptr && (paren[2] == 'S' || paren[2] == 'D');
  }

  mx_handle_t handle_;
  mx_handle_t port_ = MX_HANDLE_INVALID;
  Waiter port_waiter_;
  Waiter wait_;
  std::thread port_thread_;
  std::thread wait_thread_;
};

}  // namespace mx_test
