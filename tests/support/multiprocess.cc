// SPDX-License-Identifier: BSD-3-Clause
// Multiprocess test support; see multiprocess.h.
#include "support/multiprocess.h"

#include <dirent.h>
#include <errno.h>
#include <grp.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <map>
#include <mutex>
#include <sstream>

namespace mx_test {
namespace {

std::map<std::string, ChildBody, std::less<>>& Registry() {
  static auto* registry = new std::map<std::string, ChildBody, std::less<>>();
  return *registry;
}

}  // namespace

// ---- Child registry -----------------------------------------------------------------------------

bool RegisterChild(const char* name, ChildBody body) {
  auto [it, inserted] = Registry().emplace(name, body);
  if (!inserted) {
    fprintf(stderr, "mx_test: child body '%s' registered twice\n", name);
    abort();
  }
  return true;
}

ChildBody FindChild(std::string_view name) {
  auto it = Registry().find(name);
  return it == Registry().end() ? nullptr : it->second;
}

int RunChild(std::string_view name, const std::vector<std::string>& args) {
  ChildBody body = FindChild(name);
  if (body == nullptr) {
    fprintf(stderr, "mx_test: no child body named '%.*s'\n", static_cast<int>(name.size()),
            name.data());
    return kUnknownChildExitCode;
  }
  // A child must never outlive a parent that crashed or was killed mid-test; it would otherwise
  // sit until its own deadlines expire. (The parent of a child is the test process.)
  prctl(PR_SET_PDEATHSIG, SIGKILL);
  return body(args);
}

void ChildFail(const char* file, int line, const std::string& what) {
  fprintf(stderr, "[child %d] %s:%d: %s\n", static_cast<int>(getpid()), file, line, what.c_str());
  fflush(stderr);
  _exit(kChildCheckFailedExitCode);
}

mx_handle_t TakeStartupHandle(uint32_t info) {
  mx_handle_t h = mx_get_startup_handle(info);
  if (h == MX_HANDLE_INVALID) {
    ChildFail(
        __FILE__, __LINE__, "no startup handle with info 0x" + [&] {
          char buf[16];
          snprintf(buf, sizeof(buf), "%x", info);
          return std::string(buf);
        }());
  }
  return h;
}

// ---- Spawning and reaping
// -------------------------------------------------------------------------

const std::string& SelfExePath() {
  static const std::string* path = [] {
    char buf[PATH_MAX + 1];
    ssize_t n = readlink("/proc/self/exe", buf, PATH_MAX);
    return new std::string(n > 0 ? std::string(buf, static_cast<size_t>(n))
                                 : std::string("/proc/self/exe"));
  }();
  return *path;
}

mx_status_t SpawnChild(const char* name, const std::vector<mx_spawn_handle_t>& handles,
                       const std::vector<std::string>& args, mx_handle_t* process) {
  std::vector<std::string> strings;
  strings.push_back(SelfExePath());
  strings.push_back(std::string("--mx-child=") + name);
  strings.insert(strings.end(), args.begin(), args.end());
  std::vector<const char*> argv;
  for (const std::string& s : strings) argv.push_back(s.c_str());
  argv.push_back(nullptr);
  return mx_spawn(SelfExePath().c_str(), argv.data(), nullptr,
                  handles.empty() ? nullptr : handles.data(), static_cast<uint32_t>(handles.size()),
                  process);
}

mx_status_t WaitForExit(mx_handle_t process, mx_time_t deadline, int* return_code) {
  mx_signals_t observed = 0;
  mx_status_t status = mx_object_wait_one(process, MX_PROCESS_TERMINATED, deadline, &observed);
  if (status != MX_OK) return status;
  if ((observed & MX_PROCESS_TERMINATED) == 0) return MX_ERR_BAD_STATE;
  mx_info_process_t info = {};
  size_t actual = 0, avail = 0;
  status = mx_object_get_info(process, MX_INFO_PROCESS, &info, sizeof(info), &actual, &avail);
  if (status != MX_OK) return status;
  if (actual != 1 || !info.exited) return MX_ERR_BAD_STATE;
  *return_code = info.return_code;
  return MX_OK;
}

ScopedProcess::~ScopedProcess() { Reset(); }

ScopedProcess::ScopedProcess(ScopedProcess&& other) noexcept
    : process_(other.process_), joined_(other.joined_) {
  other.process_ = MX_HANDLE_INVALID;
  other.joined_ = false;
}

ScopedProcess& ScopedProcess::operator=(ScopedProcess&& other) noexcept {
  if (this != &other) {
    Reset();
    process_ = other.process_;
    joined_ = other.joined_;
    other.process_ = MX_HANDLE_INVALID;
    other.joined_ = false;
  }
  return *this;
}

void ScopedProcess::Reset() {
  if (process_ == MX_HANDLE_INVALID) return;
  if (!joined_) {
    // The test gave up on this child (an assertion returned early): make sure it is gone.
    mx_task_kill(process_);
    int code = 0;
    WaitForExit(process_, DefaultDeadline(), &code);
  }
  mx_handle_close(process_);
  process_ = MX_HANDLE_INVALID;
  joined_ = false;
}

int ScopedProcess::Join() {
  if (process_ == MX_HANDLE_INVALID) {
    ADD_FAILURE() << "Join() without a process";
    return kJoinFailed;
  }
  int code = 0;
  mx_status_t status = WaitForExit(process_, DefaultDeadline(), &code);
  if (status != MX_OK) {
    ADD_FAILURE() << "waiting for the child to exit failed: " << StatusName(status)
                  << " (the child is killed)";
    mx_task_kill(process_);
    WaitForExit(process_, DefaultDeadline(), &code);
    joined_ = true;
    return kJoinFailed;
  }
  joined_ = true;
  return code;
}

int ScopedProcess::KillAndJoin() {
  mx_status_t status = mx_task_kill(process_);
  if (status != MX_OK) ADD_FAILURE() << "mx_task_kill failed: " << StatusName(status);
  return Join();
}

// ---- Messages
// -------------------------------------------------------------------------------------

mx_status_t ReadMessage(mx_handle_t channel, Message* msg, mx_time_t deadline) {
  for (;;) {
    mx_signals_t observed = 0;
    mx_status_t status = mx_object_wait_one(channel, MX_CHANNEL_READABLE | MX_CHANNEL_PEER_CLOSED,
                                            deadline, &observed);
    if (status != MX_OK) return status;
    msg->bytes.resize(MX_CHANNEL_MAX_MSG_BYTES);
    msg->handles.resize(MX_CHANNEL_MAX_MSG_HANDLES);
    uint32_t actual_bytes = 0, actual_handles = 0;
    status = mx_channel_read(channel, 0, msg->bytes.data(), msg->handles.data(),
                             MX_CHANNEL_MAX_MSG_BYTES, MX_CHANNEL_MAX_MSG_HANDLES, &actual_bytes,
                             &actual_handles);
    if (status == MX_ERR_SHOULD_WAIT) continue;  // another reader took it; wait again
    if (status != MX_OK) {
      msg->bytes.clear();
      msg->handles.clear();
      return status;
    }
    msg->bytes.resize(actual_bytes);
    msg->handles.resize(actual_handles);
    return MX_OK;
  }
}

mx_status_t WriteMessage(mx_handle_t channel, const void* bytes, size_t num_bytes,
                         const std::vector<mx_handle_t>& handles) {
  return mx_channel_write(channel, 0, bytes, static_cast<uint32_t>(num_bytes),
                          handles.empty() ? nullptr : handles.data(),
                          static_cast<uint32_t>(handles.size()));
}

mx_status_t ReadExact(mx_handle_t channel, void* out, size_t size,
                      std::vector<mx_handle_t>* handles, mx_time_t deadline) {
  Message msg;
  mx_status_t status = ReadMessage(channel, &msg, deadline);
  if (status != MX_OK) return status;
  if (msg.bytes.size() != size) {
    fprintf(stderr, "mx_test: expected a %zu-byte message, got %zu bytes\n", size,
            msg.bytes.size());
    CloseAll(&msg.handles);
    return MX_ERR_BAD_STATE;
  }
  memcpy(out, msg.bytes.data(), size);
  if (handles != nullptr) {
    *handles = std::move(msg.handles);
  } else {
    CloseAll(&msg.handles);
  }
  return MX_OK;
}

void CloseAll(std::vector<mx_handle_t>* handles) {
  for (mx_handle_t h : *handles) {
    if (h != MX_HANDLE_INVALID) mx_handle_close(h);
  }
  handles->clear();
}

// ---- Objects
// --------------------------------------------------------------------------------------

mx_info_handle_basic_t BasicInfo(mx_handle_t handle) {
  mx_info_handle_basic_t info = {};
  size_t actual = 0, avail = 0;
  if (mx_object_get_info(handle, MX_INFO_HANDLE_BASIC, &info, sizeof(info), &actual, &avail) !=
      MX_OK) {
    return mx_info_handle_basic_t{};
  }
  return info;
}

mx_koid_t KoidOf(mx_handle_t handle) { return BasicInfo(handle).koid; }
mx_rights_t RightsOf(mx_handle_t handle) { return BasicInfo(handle).rights; }

bool IsValidHandle(mx_handle_t handle) {
  return mx_object_get_info(handle, MX_INFO_HANDLE_VALID, nullptr, 0, nullptr, nullptr) == MX_OK;
}

mx_signals_t PendingSignals(mx_handle_t handle) {
  mx_signals_t observed = 0;
  mx_object_wait_one(handle, 0, 0, &observed);
  return observed;
}

const char* StatusName(mx_status_t status) {
  switch (status) {
#define MX_TEST_STATUS_CASE(s) \
  case s:                      \
    return #s;
    MX_TEST_STATUS_CASE(MX_OK)
    MX_TEST_STATUS_CASE(MX_ERR_INTERNAL)
    MX_TEST_STATUS_CASE(MX_ERR_NOT_SUPPORTED)
    MX_TEST_STATUS_CASE(MX_ERR_NO_RESOURCES)
    MX_TEST_STATUS_CASE(MX_ERR_NO_MEMORY)
    MX_TEST_STATUS_CASE(MX_ERR_CALL_FAILED)
    MX_TEST_STATUS_CASE(MX_ERR_INTERNAL_INTR_RETRY)
    MX_TEST_STATUS_CASE(MX_ERR_INVALID_ARGS)
    MX_TEST_STATUS_CASE(MX_ERR_BAD_HANDLE)
    MX_TEST_STATUS_CASE(MX_ERR_WRONG_TYPE)
    MX_TEST_STATUS_CASE(MX_ERR_BAD_SYSCALL)
    MX_TEST_STATUS_CASE(MX_ERR_OUT_OF_RANGE)
    MX_TEST_STATUS_CASE(MX_ERR_BUFFER_TOO_SMALL)
    MX_TEST_STATUS_CASE(MX_ERR_BAD_STATE)
    MX_TEST_STATUS_CASE(MX_ERR_TIMED_OUT)
    MX_TEST_STATUS_CASE(MX_ERR_SHOULD_WAIT)
    MX_TEST_STATUS_CASE(MX_ERR_CANCELED)
    MX_TEST_STATUS_CASE(MX_ERR_PEER_CLOSED)
    MX_TEST_STATUS_CASE(MX_ERR_NOT_FOUND)
    MX_TEST_STATUS_CASE(MX_ERR_ALREADY_EXISTS)
    MX_TEST_STATUS_CASE(MX_ERR_ALREADY_BOUND)
    MX_TEST_STATUS_CASE(MX_ERR_UNAVAILABLE)
    MX_TEST_STATUS_CASE(MX_ERR_ACCESS_DENIED)
    MX_TEST_STATUS_CASE(MX_ERR_IO)
#undef MX_TEST_STATUS_CASE
    default:
      return "(unknown status)";
  }
}

// ---- File descriptors
// -----------------------------------------------------------------------------

std::vector<FdEntry> ListOpenFds() {
  std::vector<FdEntry> fds;
  DIR* dir = opendir("/proc/self/fd");
  if (dir == nullptr) return fds;
  const int dir_fd = dirfd(dir);
  while (struct dirent* entry = readdir(dir)) {
    if (entry->d_name[0] == '.') continue;
    char* end = nullptr;
    long fd = strtol(entry->d_name, &end, 10);
    if (end == entry->d_name || *end != '\0' || fd == dir_fd) continue;
    FdEntry e;
    e.fd = static_cast<int>(fd);
    char path[64];
    snprintf(path, sizeof(path), "/proc/self/fd/%ld", fd);
    char target[PATH_MAX + 1];
    ssize_t n = readlink(path, target, PATH_MAX);
    if (n > 0) e.target.assign(target, static_cast<size_t>(n));
    struct stat st;
    if (fstat(e.fd, &st) == 0) {
      e.dev = st.st_dev;
      e.ino = st.st_ino;
    }
    fds.push_back(std::move(e));
  }
  closedir(dir);
  return fds;
}

std::string DescribeFds(const std::vector<FdEntry>& fds) {
  std::ostringstream out;
  for (const FdEntry& e : fds) out << "  " << e.fd << " -> " << e.target << "\n";
  return out.str();
}

// ---- Data
// -----------------------------------------------------------------------------------------

uint64_t Fnv1a(const void* data, size_t size, uint64_t hash) {
  const uint8_t* p = static_cast<const uint8_t*>(data);
  for (size_t i = 0; i < size; ++i) {
    hash ^= p[i];
    hash *= 0x100000001b3ull;
  }
  return hash;
}

void WarmUpLibmx() {
  mx_process_self();
  mx_handle_t a = MX_HANDLE_INVALID, b = MX_HANDLE_INVALID, e = MX_HANDLE_INVALID;
  if (mx_channel_create(0, &a, &b) != MX_OK) return;
  mx_event_create(0, &e);
  mx_object_signal(e, 0, MX_EVENT_SIGNALED);
  uint32_t word = 0x7fffff01u;
  mx_channel_write(a, 0, &word, sizeof(word), &e, e == MX_HANDLE_INVALID ? 0 : 1);
  mx_handle_t got = MX_HANDLE_INVALID;
  uint32_t nb = 0, nh = 0;
  mx_channel_read(b, 0, &word, &got, sizeof(word), 1, &nb, &nh);
  if (nh == 1) mx_handle_close(got);
  // A blocking wait and a call that times out (nobody answers on b).
  mx_object_wait_one(b, MX_CHANNEL_READABLE, mx_deadline_after(MX_MSEC(1)), nullptr);
  uint32_t reply = 0;
  mx_channel_call_args_t args = {&word,        nullptr, &reply,        nullptr,
                                 sizeof(word), 0,       sizeof(reply), 0};
  uint32_t ab = 0, ah = 0;
  mx_status_t rs = MX_OK;
  mx_channel_call(a, 0, mx_deadline_after(MX_MSEC(1)), &args, &ab, &ah, &rs);
  mx_handle_close(a);
  mx_handle_close(b);
}

// ---- Fixture
// --------------------------------------------------------------------------------------

void MultiprocessTest::SetUp() {
  WarmUpLibmx();
  fds_before_ = ListOpenFds();
}

void MultiprocessTest::TearDown() {
  std::vector<FdEntry> after = ListOpenFds();
  EXPECT_EQ(after.size(), fds_before_.size())
      << "this process's open fds changed over the test.\nbefore:\n"
      << DescribeFds(fds_before_) << "after:\n"
      << DescribeFds(after);
}

bool CanBecomeAnotherUser() { return geteuid() == 0; }

bool BecomeNobody() {
  return setgroups(0, nullptr) == 0 && setgid(kNobodyId) == 0 && setuid(kNobodyId) == 0 &&
         geteuid() == kNobodyId;
}

}  // namespace mx_test
