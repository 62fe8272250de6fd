// mx_spawn, mx_process_self, mx_get_startup_handle.
//
// Startup handles travel like a channel message: the parent makes a socket pair, sends one
// kFrameStartup frame with every handle (descriptors + fds) on one end, and passes the other
// end to the child as its only inherited fd, named by the MX_STARTUP_FD environment variable.
// The child's libmx reads the frame at load time, puts the handles in its table, and closes the
// socket. Until the child takes them, the handles are held by the kernel in that socket; if the
// child never runs or exits first, the kernel closes them.
#include <errno.h>
#include <fcntl.h>
#include <magenta/launch.h>
#include <magenta/process.h>
#include <magenta/syscalls.h>
#include <signal.h>
#include <spawn.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <map>
#include <mutex>
#include <string>

#include "api/materialize.h"
#include "object/process.h"
#include "os/datagram_peek.h"
#include "os/fd_check.h"
#include "os/fd_registry.h"
#include "os/socket.h"
#include "transport/startup.h"
#include "transport/wire.h"

extern char** environ;

using namespace mx::internal;

namespace {

constexpr const char kStartupEnv[] = "MX_STARTUP_FD";

struct StartupHandles {
  std::mutex mu;
  std::map<uint32_t, mx_handle_t> by_info;
};

StartupHandles& Startup() {
  static auto* s = new StartupHandles();
  return *s;
}

mx_status_t SpawnErrno(int err) {
  switch (err) {
    case ENOENT:
    case ENOTDIR:
      return MX_ERR_NOT_FOUND;
    case EACCES:
    case EPERM:
      return MX_ERR_ACCESS_DENIED;
    case ENOMEM:
      return MX_ERR_NO_MEMORY;
    case EAGAIN:
    case EMFILE:
    case ENFILE:
      return MX_ERR_NO_RESOURCES;
    case ENOEXEC:
    case E2BIG:
    case EINVAL:
      return MX_ERR_INVALID_ARGS;
    default:
      return MX_ERR_INTERNAL;
  }
}

// Reads the startup frame (if this process was spawned by mx_spawn) into the table. The fd the
// environment names is touched only if it is a channel socket with a startup frame queued
// (transport/startup.h); anything else is left exactly as it was: not read, not closed, its
// close-on-exec flag unchanged.
void TakeStartupHandles() {
  const char* env = ::getenv(kStartupEnv);
  if (env == nullptr) return;
  char* end = nullptr;
  long fd = ::strtol(env, &end, 10);
  ::unsetenv(kStartupEnv);
  if (end == env || *end != '\0' || fd < 0 || fd > 1 << 24) return;
  int sock = static_cast<int>(fd);
  if (!IsChannelSocket(sock)) return;
  uint8_t head[sizeof(FrameHeader)];
  size_t datagram_size = 0;
  if (PeekDatagram(sock, head, sizeof(head), &datagram_size) != MX_OK) return;
  if (!StartupHeaderAcceptable(head, std::min(sizeof(head), datagram_size), datagram_size)) {
    return;
  }
  // From here on the socket is mx_spawn's: it is read and closed whatever the frame holds.
  if (::fcntl(sock, F_SETFD, FD_CLOEXEC) != 0) return;
  UniqueFd owned(sock);
  std::vector<uint8_t> buffer(datagram_size + 1);
  ReceivedDatagram got;
  if (ReceiveDatagram(owned.get(), buffer.data(), buffer.size(), &got) != MX_OK) return;
  if (got.truncated || got.bad_control) return;
  std::vector<RawHandle> handles;
  if (DecodeStartupFrame(buffer.data(), got.size, std::move(got.fds), &handles) != MX_OK) return;
  StartupHandles& s = Startup();
  std::lock_guard<std::mutex> lock(s.mu);
  for (RawHandle& raw : handles) {
    uint32_t info = raw.info;
    std::vector<RawHandle> one;
    one.push_back(std::move(raw));
    mx_handle_t value;
    if (InstallHandles(&one, &value) == MX_OK) s.by_info[info] = value;
  }
}

__attribute__((constructor)) void StartupConstructor() { TakeStartupHandles(); }

struct SelfHandle {
  std::mutex mu;
  mx_handle_t value = MX_HANDLE_INVALID;
  unsigned generation = 0;
};

SelfHandle& Self() {
  static auto* s = new SelfHandle();
  return *s;
}

}  // namespace

extern "C" {

__MX_EXPORT mx_handle_t mx_get_startup_handle(uint32_t info) {
  StartupHandles& s = Startup();
  std::lock_guard<std::mutex> lock(s.mu);
  auto it = s.by_info.find(info);
  if (it == s.by_info.end()) return MX_HANDLE_INVALID;
  mx_handle_t v = it->second;
  s.by_info.erase(it);
  return v;
}

__MX_EXPORT mx_handle_t mx_process_self(void) {
  SelfHandle& s = Self();
  std::lock_guard<std::mutex> lock(s.mu);
  if (s.value != MX_HANDLE_INVALID && s.generation == ForkGeneration()) {
    // Still ours unless the caller closed it (it should not): then make a new one.
    std::shared_ptr<Handle> h;
    if (HandleTable::Get().Lookup(s.value, 0, MX_OBJ_TYPE_PROCESS, &h) == MX_OK) return s.value;
  }
  int pidfd = static_cast<int>(::syscall(SYS_pidfd_open, ::getpid(), 0));
  if (pidfd < 0) return MX_HANDLE_INVALID;
  ::fcntl(pidfd, F_SETFD, FD_CLOEXEC);
  auto obj = std::make_shared<ProcessObject>(UniqueFd(pidfd), ::getpid(), true);
  auto h = std::make_shared<Handle>(obj, MX_DEFAULT_PROCESS_RIGHTS & ~MX_RIGHT_WRITE);
  s.value = HandleTable::Get().Add(h);
  s.generation = ForkGeneration();
  return s.value;
}

__MX_EXPORT mx_status_t mx_spawn(const char* path, const char* const* argv,
                                 const char* const* envp, const mx_spawn_handle_t* handles,
                                 uint32_t num_handles, mx_handle_t* out_process) {
  if (path == nullptr || argv == nullptr) return MX_ERR_INVALID_ARGS;
  if (num_handles > 0 && handles == nullptr) return MX_ERR_INVALID_ARGS;
  if (num_handles > MX_CHANNEL_MAX_MSG_HANDLES) return MX_ERR_INVALID_ARGS;
  std::vector<mx_handle_t> values(num_handles);
  for (uint32_t i = 0; i < num_handles; ++i) {
    for (uint32_t j = 0; j < i; ++j) {
      if (handles[j].info == handles[i].info) return MX_ERR_INVALID_ARGS;
    }
    values[i] = handles[i].handle;
  }
  ProcessObject::ReapOrphans();

  OutgoingHandles outgoing;
  Message message;
  mx_status_t st = outgoing.Begin(values.data(), num_handles, nullptr, &message.handles);
  if (st != MX_OK) return st;
  for (uint32_t i = 0; i < num_handles; ++i) message.handles[i].info = handles[i].info;

  // The process handle's table slot is taken before the child starts: once the startup handles
  // are in the child, the call can no longer fail with them back in the caller's table.
  HandleTable& table = HandleTable::Get();
  std::vector<uint32_t> process_slot;
  if (out_process != nullptr && !table.Reserve(1, &process_slot)) {
    outgoing.Abort();
    return MX_ERR_NO_RESOURCES;
  }

  UniqueFd parent_end, child_end;
  st = CreateSeqpacketPair(&parent_end, &child_end);
  if (st == MX_OK) {
    FrameHeader header = {};
    header.kind = kFrameStartup;
    std::vector<uint8_t> bytes;
    std::vector<int> fds;
    UniqueFd overflow;
    st = EncodeFrame(header, nullptr, 0, message.handles, &bytes, &fds, &overflow);
    if (st == MX_OK) {
      struct iovec iov = {bytes.data(), bytes.size()};
      st = SendDatagram(parent_end.get(), &iov, 1, fds.data(), fds.size());
      if (st == MX_ERR_SHOULD_WAIT) st = MX_ERR_NO_RESOURCES;
    }
  }
  if (st != MX_OK) {
    outgoing.Abort();
    table.Unreserve(process_slot);
    return st;
  }

  // The child's environment: the given one (or ours), without a stale MX_STARTUP_FD, plus ours.
  std::vector<std::string> env_storage;
  for (char* const* e = envp != nullptr ? const_cast<char* const*>(envp) : environ;
       e != nullptr && *e != nullptr; ++e) {
    if (std::strncmp(*e, kStartupEnv, sizeof(kStartupEnv) - 1) == 0 &&
        (*e)[sizeof(kStartupEnv) - 1] == '=') {
      continue;
    }
    env_storage.emplace_back(*e);
  }
  env_storage.push_back(std::string(kStartupEnv) + "=" + std::to_string(child_end.get()));
  std::vector<char*> env;
  for (auto& s : env_storage) env.push_back(s.data());
  env.push_back(nullptr);

  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  // dup2 onto itself clears close-on-exec for the child only (glibc >= 2.29).
  posix_spawn_file_actions_adddup2(&actions, child_end.get(), child_end.get());
  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  sigset_t none;
  sigemptyset(&none);
  posix_spawnattr_setsigmask(&attr, &none);
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK);
  pid_t pid = -1;
  int err = ::posix_spawn(&pid, path, &actions, &attr, const_cast<char* const*>(argv),
                          env.data());
  posix_spawn_file_actions_destroy(&actions);
  posix_spawnattr_destroy(&attr);
  if (err != 0) {
    outgoing.Abort();
    table.Unreserve(process_slot);
    return SpawnErrno(err);
  }
  // The handles are in the child's startup socket now.
  outgoing.Commit();
  // Closing the two ends frees the fds the pidfd needs (unless another thread takes them).
  child_end.reset();
  parent_end.reset();

  int pidfd = static_cast<int>(::syscall(SYS_pidfd_open, pid, 0));
  if (pidfd >= 0) ::fcntl(pidfd, F_SETFD, FD_CLOEXEC);
  if (out_process == nullptr) {
    if (pidfd >= 0) {
      // Nobody will wait: let the orphan reaper collect it.
      auto obj = std::make_shared<ProcessObject>(UniqueFd(pidfd), pid, false);
      Handle(obj, MX_DEFAULT_PROCESS_RIGHTS).Close();
    }
    return MX_OK;
  }
  if (pidfd < 0) {
    table.Unreserve(process_slot);
    return MX_ERR_NO_RESOURCES;
  }
  auto obj = std::make_shared<ProcessObject>(UniqueFd(pidfd), pid, false);
  auto h = std::make_shared<Handle>(obj, MX_DEFAULT_PROCESS_RIGHTS);
  *out_process = table.Fill(process_slot[0], std::move(h));
  return MX_OK;
}

}  // extern "C"
