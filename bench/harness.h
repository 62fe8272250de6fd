// SPDX-License-Identifier: BSD-3-Clause
// bench/harness.h: the small two-process benchmark harness behind mx_bench_ipc.
//
// What it gives the scenarios:
//   - NowNs(): CLOCK_MONOTONIC in nanoseconds (vDSO; the same clock libmx deadlines use).
//   - BenchError: every failure throws one; a scenario catches it, kills its children and reports
//     the row as failed. Nothing in the harness retries silently.
//   - Watchdog: a per-thread timer that interrupts blocking system calls (EINTR) in the parent when
//     a phase overruns, so even a plain pipe read has a deadline.
//   - Child: a second real process running this same binary (/proc/self/exe --child ...), started
//     with fork+exec (inheriting only the fds it is given) or with mx_spawn (startup handles).
//     Children die with the parent (PR_SET_PDEATHSIG), carry their own alarm(), and Finish()
//     always reaps them, killing them at its deadline.
//   - Stats helpers: percentiles over samples, medians over repetitions.
#pragma once

#include <errno.h>
#include <fcntl.h>
#include <magenta/launch.h>
#include <magenta/process.h>
#include <magenta/syscalls.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <map>
#include <stdexcept>
#include <string>
#include <vector>

namespace mxb {

inline uint64_t NowNs() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<uint64_t>(ts.tv_sec) * 1000000000ull + static_cast<uint64_t>(ts.tv_nsec);
}

constexpr uint64_t kMs = 1000000ull;
constexpr uint64_t kSec = 1000000000ull;

struct BenchError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// The peer went away in an orderly way (EOF, PEER_CLOSED).
struct PeerGone : BenchError {
  using BenchError::BenchError;
};

[[noreturn]] __attribute__((format(printf, 1, 2))) inline void Fail(const char* fmt, ...) {
  char buf[512];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(buf, sizeof(buf), fmt, ap);
  va_end(ap);
  throw BenchError(buf);
}

[[noreturn]] inline void FailErrno(const char* what) { Fail("%s: %s", what, strerror(errno)); }

inline void CheckMx(mx_status_t st, const char* what) {
  if (st != MX_OK) Fail("%s: status %d", what, st);
}

inline std::string Fmt(const char* fmt, ...) __attribute__((format(printf, 1, 2)));
inline std::string Fmt(const char* fmt, ...) {
  char buf[512];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(buf, sizeof(buf), fmt, ap);
  va_end(ap);
  return buf;
}

// ---- Watchdog --------------------------------------------------------------------------------

inline volatile sig_atomic_t g_watchdog_fired = 0;

inline void OnWatchdog(int) { g_watchdog_fired = 1; }

// A one-shot timer aimed at the thread that armed it. When it fires, the blocking system call that
// thread is in returns EINTR (the handler is installed without SA_RESTART), and IoInterrupted()
// tells the I/O loops to give up instead of retrying.
class Watchdog {
 public:
  Watchdog() {
    struct sigaction sa = {};
    sa.sa_handler = OnWatchdog;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGALRM, &sa, nullptr);
    sigevent sev = {};
    sev.sigev_notify = SIGEV_THREAD_ID;
    sev.sigev_signo = SIGALRM;
    sev._sigev_un._tid = static_cast<pid_t>(syscall(SYS_gettid));  // sigev_notify_thread_id
    if (timer_create(CLOCK_MONOTONIC, &sev, &timer_) != 0) FailErrno("timer_create");
  }
  ~Watchdog() {
    Disarm();
    timer_delete(timer_);
  }
  Watchdog(const Watchdog&) = delete;
  Watchdog& operator=(const Watchdog&) = delete;

  void Arm(uint64_t ns) {
    g_watchdog_fired = 0;
    itimerspec its = {};
    its.it_value.tv_sec = static_cast<time_t>(ns / kSec);
    its.it_value.tv_nsec = static_cast<long>(ns % kSec);
    timer_settime(timer_, 0, &its, nullptr);
  }
  void Disarm() {
    itimerspec its = {};
    timer_settime(timer_, 0, &its, nullptr);
  }

 private:
  timer_t timer_{};
};

// For I/O loops: on EINTR, retry unless the watchdog fired.
inline void OnEintr(const char* what) {
  if (g_watchdog_fired) Fail("%s: watchdog deadline passed", what);
}

// ---- Arguments -------------------------------------------------------------------------------

// key=value arguments of a child.
struct Args {
  std::map<std::string, std::string> kv;

  static Args Parse(int argc, char** argv, int first) {
    Args a;
    for (int i = first; i < argc; ++i) {
      const char* eq = strchr(argv[i], '=');
      if (eq == nullptr) continue;
      a.kv[std::string(argv[i], static_cast<size_t>(eq - argv[i]))] = eq + 1;
    }
    return a;
  }
  bool Has(const std::string& k) const { return kv.count(k) != 0; }
  std::string Str(const std::string& k) const {
    auto it = kv.find(k);
    if (it == kv.end()) Fail("child: missing argument %s", k.c_str());
    return it->second;
  }
  uint64_t U64(const std::string& k) const { return strtoull(Str(k).c_str(), nullptr, 10); }
  int Int(const std::string& k) const {
    return static_cast<int>(strtol(Str(k).c_str(), nullptr, 10));
  }
  std::vector<int> Ints(const std::string& k) const {
    std::vector<int> out;
    std::string s = Str(k);
    size_t pos = 0;
    while (pos < s.size()) {
      size_t comma = s.find(',', pos);
      if (comma == std::string::npos) comma = s.size();
      out.push_back(static_cast<int>(strtol(s.substr(pos, comma - pos).c_str(), nullptr, 10)));
      pos = comma + 1;
    }
    return out;
  }
};

inline std::string JoinInts(const std::vector<int>& v) {
  std::string s;
  for (size_t i = 0; i < v.size(); ++i) {
    if (i != 0) s.push_back(',');
    s.append(std::to_string(v[i]));
  }
  return s;
}

// ---- Child processes -------------------------------------------------------------------------

// How a child is started. |role| is the child's entry point; |args| are key=value strings.
struct ChildSpec {
  std::string role;
  std::vector<std::string> args;
  std::vector<int> fds;              // fork+exec: these (close-on-exec) fds are inherited
  std::vector<mx_handle_t> handles;  // mx_spawn: startup handles PA_HND(PA_USER0, i)
};

// Every child gets: the parent's pid (it exits if the parent is already gone) and an alarm.
constexpr unsigned kChildAlarmSeconds = 90;

class Child {
 public:
  Child() = default;
  Child(Child&& o) noexcept { *this = std::move(o); }
  Child& operator=(Child&& o) noexcept {
    std::swap(pid_, o.pid_);
    std::swap(process_, o.process_);
    return *this;
  }
  Child(const Child&) = delete;
  Child& operator=(const Child&) = delete;
  ~Child() {
    if (running()) Kill();
  }

  // Starts /proc/self/exe --child <role> <args>. With handles: mx_spawn (the handles move, or on
  // failure stay with the caller and this throws). Without: fork+exec keeping |fds| only.
  static Child Spawn(const ChildSpec& spec) {
    std::vector<std::string> strs = {"mx_bench_ipc", "--child", spec.role,
                                     "ppid=" + std::to_string(getpid())};
    strs.insert(strs.end(), spec.args.begin(), spec.args.end());
    std::vector<const char*> argv;
    for (auto& s : strs) argv.push_back(s.c_str());
    argv.push_back(nullptr);

    Child c;
    if (!spec.handles.empty()) {
      std::vector<mx_spawn_handle_t> hs;
      for (size_t i = 0; i < spec.handles.size(); ++i) {
        hs.push_back({PA_HND(PA_USER0, static_cast<uint32_t>(i)), spec.handles[i]});
      }
      mx_status_t st = mx_spawn("/proc/self/exe", argv.data(), nullptr, hs.data(),
                                static_cast<uint32_t>(hs.size()), &c.process_);
      if (st != MX_OK) Fail("mx_spawn: status %d", st);
      return c;
    }
    pid_t parent = getpid();
    pid_t pid = fork();
    if (pid < 0) FailErrno("fork");
    if (pid == 0) {
      // Async-signal-safe calls only between fork and exec.
      prctl(PR_SET_PDEATHSIG, SIGKILL);
      if (getppid() != parent) _exit(120);
      for (int fd : spec.fds) fcntl(fd, F_SETFD, 0);
      execv("/proc/self/exe", const_cast<char* const*>(argv.data()));
      _exit(127);
    }
    c.pid_ = pid;
    return c;
  }

  bool running() const { return pid_ > 0 || process_ != MX_HANDLE_INVALID; }

  // Waits until |deadline| for the child to exit, then kills it. Returns the exit code, or
  // minus the signal number. Throws nothing: a child that had to be killed returns -SIGKILL.
  int Finish(uint64_t deadline) {
    int code = -1000;
    if (pid_ > 0) {
      for (;;) {
        int status = 0;
        pid_t r = waitpid(pid_, &status, WNOHANG);
        if (r == pid_) {
          code = WIFEXITED(status) ? WEXITSTATUS(status) : -WTERMSIG(status);
          break;
        }
        if (r < 0 && errno != EINTR) break;
        if (NowNs() >= deadline) {
          kill(pid_, SIGKILL);
          while (waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
          }
          code = -SIGKILL;
          break;
        }
        usleep(500);
      }
      pid_ = -1;
    } else if (process_ != MX_HANDLE_INVALID) {
      mx_status_t st = mx_object_wait_one(process_, MX_PROCESS_TERMINATED, deadline, nullptr);
      if (st != MX_OK) {
        mx_task_kill(process_);
        mx_object_wait_one(process_, MX_PROCESS_TERMINATED, mx_deadline_after(5 * kSec), nullptr);
      }
      mx_info_process_t info = {};
      if (mx_object_get_info(process_, MX_INFO_PROCESS, &info, sizeof(info), nullptr, nullptr) ==
          MX_OK) {
        code = st == MX_OK ? info.return_code : -SIGKILL;
      }
      mx_handle_close(process_);
      process_ = MX_HANDLE_INVALID;
    }
    return code;
  }

  void Kill() { Finish(0); }

 private:
  pid_t pid_ = -1;
  mx_handle_t process_ = MX_HANDLE_INVALID;
};

// First thing a child does: die with the parent, and never outlive its alarm.
inline void ChildSafety(const Args& a, unsigned alarm_seconds = kChildAlarmSeconds) {
  prctl(PR_SET_PDEATHSIG, SIGKILL);
  if (a.Has("ppid") && static_cast<pid_t>(a.U64("ppid")) != getppid()) _exit(121);
  signal(SIGALRM, SIG_DFL);
  alarm(alarm_seconds);
}

// Reads everything a child writes to |fd| until EOF or |deadline|.
inline std::string ReadAll(int fd, uint64_t deadline) {
  std::string out;
  char buf[4096];
  for (;;) {
    uint64_t now = NowNs();
    if (now >= deadline) Fail("child output: deadline passed");
    pollfd p = {fd, POLLIN, 0};
    int r = poll(&p, 1, static_cast<int>((deadline - now) / kMs) + 1);
    if (r < 0 && errno == EINTR) continue;
    if (r < 0) FailErrno("poll");
    if (r == 0) continue;
    ssize_t n = read(fd, buf, sizeof(buf));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) FailErrno("read");
    if (n == 0) return out;
    out.append(buf, static_cast<size_t>(n));
  }
}

// ---- Statistics ------------------------------------------------------------------------------

// |q| in [0, 1] of an ascending vector (nearest rank).
template <typename T>
double Quantile(const std::vector<T>& sorted, double q) {
  if (sorted.empty()) return 0;
  size_t i = static_cast<size_t>(q * static_cast<double>(sorted.size() - 1) + 0.5);
  return static_cast<double>(sorted[std::min(i, sorted.size() - 1)]);
}

inline double Median(std::vector<double> v) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  size_t n = v.size();
  return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

}  // namespace mxb
