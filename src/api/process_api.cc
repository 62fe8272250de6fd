// SPDX-License-Identifier: BSD-3-Clause
// mx_spawn, mx_process_self, mx_get_startup_handle.
//
// Startup handles travel like a channel message (object/process.h): mx_spawn takes them out of
// the table as for a write, and ProcessObject::Spawn leaves them in the child's startup socket.
// The child's libmx reads that frame at load time, puts the handles in its table, and closes the
// socket.
#include <magenta/launch.h>
#include <magenta/process.h>
#include <magenta/syscalls.h>
#include <stdlib.h>

#include <algorithm>
#include <map>
#include <mutex>

#include "api/lookup.h"
#include "api/materialize.h"
#include "base/mutex.h"
#include "object/process.h"
#include "os/datagram_peek.h"
#include "os/fd.h"
#include "os/fd_check.h"
#include "os/fd_registry.h"
#include "os/socket.h"
#include "transport/startup.h"
#include "transport/wire.h"

using namespace mx::internal;

namespace {

struct StartupHandles {
  Mutex mu;
  std::map<uint32_t, mx_handle_t> by_info TA_GUARDED(mu);
};

StartupHandles& Startup() {
  static auto* s = new StartupHandles();
  return *s;
}

// Reads the startup frame (if this process was spawned by mx_spawn) into the table. The fd the
// environment names is touched only if it is a channel socket with a startup frame queued
// (transport/startup.h); anything else is left exactly as it was: not read, not closed, its
// close-on-exec flag unchanged.
void TakeStartupHandles() {
  const char* env = ::getenv(kStartupFdVariable);
  if (env == nullptr) return;
  char* end = nullptr;
  long fd = ::strtol(env, &end, 10);
  ::unsetenv(kStartupFdVariable);
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
  if (!SetCloseOnExec(sock)) return;
  UniqueFd owned(sock);
  std::vector<uint8_t> buffer(datagram_size + 1);
  ReceivedDatagram got;
  if (ReceiveDatagram(owned.get(), buffer.data(), buffer.size(), &got) != MX_OK) return;
  if (got.truncated || got.bad_control) return;
  std::vector<RawHandle> handles;
  if (DecodeStartupFrame(buffer.data(), got.size, std::move(got.fds), &handles) != MX_OK) return;
  StartupHandles& s = Startup();
  MutexLock lock(&s.mu);
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
  Mutex mu;
  mx_handle_t value TA_GUARDED(mu) = MX_HANDLE_INVALID;
  unsigned generation TA_GUARDED(mu) = 0;
};

SelfHandle& Self() {
  static auto* s = new SelfHandle();
  return *s;
}

}  // namespace

extern "C" {

__MX_EXPORT mx_handle_t mx_get_startup_handle(uint32_t info) {
  StartupHandles& s = Startup();
  MutexLock lock(&s.mu);
  auto it = s.by_info.find(info);
  if (it == s.by_info.end()) return MX_HANDLE_INVALID;
  mx_handle_t v = it->second;
  s.by_info.erase(it);
  return v;
}

__MX_EXPORT mx_handle_t mx_process_self(void) {
  SelfHandle& s = Self();
  MutexLock lock(&s.mu);
  if (s.value != MX_HANDLE_INVALID && s.generation == ForkGeneration()) {
    // Still ours unless the caller closed it (it should not): then make a new one.
    std::shared_ptr<ProcessObject> live;
    if (LookupObject(s.value, 0, &live) == MX_OK) return s.value;
  }
  std::shared_ptr<ProcessObject> obj = ProcessObject::Self();
  if (!obj) return MX_HANDLE_INVALID;
  auto h = std::make_shared<Handle>(obj, MX_DEFAULT_PROCESS_RIGHTS & ~MX_RIGHT_WRITE);
  s.value = HandleTable::Get().Add(h);
  s.generation = ForkGeneration();
  return s.value;
}

__MX_EXPORT mx_status_t mx_spawn(const char* path, const char* const* argv, const char* const* envp,
                                 const mx_spawn_handle_t* handles, uint32_t num_handles,
                                 mx_handle_t* out_process) {
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
  std::vector<RawHandle> raws;
  mx_status_t st = outgoing.Begin(values.data(), num_handles, nullptr, &raws);
  if (st != MX_OK) return st;
  for (uint32_t i = 0; i < num_handles; ++i) raws[i].info = handles[i].info;

  // The process handle's table slot is taken before the child starts: once the startup handles
  // are in the child, the call can no longer fail with them back in the caller's table.
  HandleTable& table = HandleTable::Get();
  std::vector<uint32_t> process_slot;
  if (out_process != nullptr && !table.Reserve(1, &process_slot)) {
    outgoing.Abort();
    return MX_ERR_NO_RESOURCES;
  }
  std::shared_ptr<ProcessObject> process;
  st = ProcessObject::Spawn(path, argv, envp, raws, &process);
  if (st != MX_OK) {
    outgoing.Abort();
    table.Unreserve(process_slot);
    return st;
  }
  outgoing.Commit();  // the handles are in the child's startup socket now
  if (out_process == nullptr) {
    // Nobody will wait: let the orphan reaper collect it.
    if (process) Handle(process, MX_DEFAULT_PROCESS_RIGHTS).Close();
    return MX_OK;
  }
  if (!process) {
    table.Unreserve(process_slot);
    return MX_ERR_NO_RESOURCES;
  }
  *out_process = table.Fill(
      process_slot[0], std::make_shared<Handle>(std::move(process), MX_DEFAULT_PROCESS_RIGHTS));
  return MX_OK;
}

}  // extern "C"
