#include "object/event.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstring>

#include "os/handle_lock.h"
#include "os/koid.h"
#include "os/status.h"

namespace mx::internal {

struct Event::Shared {
  uint32_t magic;
  uint32_t version;
  uint64_t koid;
  std::atomic<uint32_t> signals;
  std::atomic<uint32_t> generation;
};

namespace {

constexpr uint32_t kEventMagic = 0x5456454du;  // "MEVT"
constexpr size_t kEventBytes = 4096;

mx_status_t ResourceError() {
  return errno == ENOMEM ? MX_ERR_NO_MEMORY : MX_ERR_NO_RESOURCES;
}

bool IsEventFd(int fd) {
  char path[64], target[64];
  snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
  ssize_t n = ::readlink(path, target, sizeof(target) - 1);
  if (n <= 0) return false;
  target[n] = '\0';
  return std::strcmp(target, "anon_inode:[eventfd]") == 0;
}

}  // namespace

Event::Event(mx_koid_t koid, UniqueFd memfd, UniqueFd eventfd, Shared* shared)
    : Object(koid), memfd_(std::move(memfd)), eventfd_(std::move(eventfd)), shared_(shared) {}

Event::~Event() { ::munmap(shared_, kEventBytes); }

mx_status_t Event::Create(std::shared_ptr<Event>* event, std::unique_ptr<Handle>* handle,
                          mx_rights_t rights) {
  UniqueFd memfd(::memfd_create("mx-event", MFD_CLOEXEC | MFD_ALLOW_SEALING));
  if (!memfd) return ResourceError();
  if (::ftruncate(memfd.get(), kEventBytes) != 0) return ResourceError();
  if (::fcntl(memfd.get(), F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL) != 0) {
    return MX_ERR_INTERNAL;
  }
  UniqueFd efd(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK));
  if (!efd) return ResourceError();
  void* map = ::mmap(nullptr, kEventBytes, PROT_READ | PROT_WRITE, MAP_SHARED, memfd.get(), 0);
  if (map == MAP_FAILED) return MX_ERR_NO_MEMORY;
  auto* shared = new (map) Shared();
  shared->magic = kEventMagic;
  shared->version = 1;
  shared->koid = AllocateKoid();
  std::shared_ptr<Event> ev(new Event(shared->koid, std::move(memfd), std::move(efd), shared));
  UniqueFd token;
  mx_status_t st = ev->NewToken(&token);
  if (st != MX_OK) return st;
  *handle = std::make_unique<Handle>(ev, rights);
  (*handle)->token() = std::move(token);
  *event = std::move(ev);
  return MX_OK;
}

mx_status_t Event::FromRaw(RawHandle raw, std::unique_ptr<Handle>* handle) {
  if (raw.type != MX_OBJ_TYPE_EVENT || raw.fds.size() != 2 || !raw.extra.empty()) {
    return MX_ERR_IO;
  }
  struct stat st;
  if (::fstat(raw.fds[0].get(), &st) != 0 || !S_ISREG(st.st_mode) ||
      static_cast<size_t>(st.st_size) != kEventBytes) {
    return MX_ERR_IO;
  }
  int seals = ::fcntl(raw.fds[0].get(), F_GET_SEALS);
  if (seals < 0 || (seals & F_SEAL_SHRINK) == 0) return MX_ERR_IO;
  if (!IsEventFd(raw.fds[1].get())) return MX_ERR_IO;
  // The arriving description keeps the sender's lock: it becomes this handle's token. The object
  // maps and opens duplicates' tokens through a separate, unlocked description: a mapping holds
  // its file description, so mapping the token would keep the lock after this handle closed
  // and a duplicate would never see LAST_HANDLE (found by the sequence fuzzer).
  UniqueFd master = ReopenDescription(raw.fds[0].get());
  if (!master) return ResourceError();
  void* map = ::mmap(nullptr, kEventBytes, PROT_READ | PROT_WRITE, MAP_SHARED, master.get(), 0);
  if (map == MAP_FAILED) return MX_ERR_NO_MEMORY;
  auto* shared = static_cast<Shared*>(map);
  if (shared->magic != kEventMagic || shared->koid != raw.koid) {
    ::munmap(map, kEventBytes);
    return MX_ERR_IO;
  }
  std::shared_ptr<Event> ev(new Event(raw.koid, std::move(master), std::move(raw.fds[1]), shared));
  *handle = std::make_unique<Handle>(ev, raw.rights);
  (*handle)->token() = std::move(raw.fds[0]);
  return MX_OK;
}

mx_status_t Event::NewToken(UniqueFd* out) const { return OpenLockedDescription(memfd_.get(), out); }

void Event::Kick() {
  shared_->generation.fetch_add(1, std::memory_order_acq_rel);
  uint64_t one = 1;
  ssize_t r;
  do {
    r = ::write(eventfd_.get(), &one, sizeof(one));
  } while (r < 0 && errno == EINTR);
}

mx_signals_t Event::Signals() { return shared_->signals.load(std::memory_order_acquire); }

void Event::AddWaitSources(mx_signals_t, std::vector<WaitSource>* out) {
  out->push_back({eventfd_.get(), EPOLLIN, true});
}

mx_status_t Event::UserSignal(uint32_t clear_mask, uint32_t set_mask) {
  if (((clear_mask | set_mask) & ~MX_EVENT_SIGNAL_MASK) != 0) return MX_ERR_INVALID_ARGS;
  uint32_t old = shared_->signals.load(std::memory_order_relaxed);
  while (!shared_->signals.compare_exchange_weak(old, (old & ~clear_mask) | set_mask,
                                                 std::memory_order_acq_rel)) {
  }
  Kick();
  NotifySignalsChanged(set_mask, clear_mask & old);
  return MX_OK;
}

bool Event::IsLastHandle(const Handle& handle) const {
  return handle.token() && IsSoleLockHolder(handle.token().get());
}

void Event::OnHandleCountChanged() {
  Kick();
  NotifySignalsSet(0);
}

mx_status_t Event::PrepareTransfer(const Handle& handle, RawHandle* out) {
  out->type = MX_OBJ_TYPE_EVENT;
  out->rights = handle.rights();
  out->koid = koid();
  UniqueFd token(::fcntl(handle.token().get(), F_DUPFD_CLOEXEC, 0));
  UniqueFd efd(::fcntl(eventfd_.get(), F_DUPFD_CLOEXEC, 0));
  if (!token || !efd) return MX_ERR_NO_RESOURCES;
  out->fds.push_back(std::move(token));
  out->fds.push_back(std::move(efd));
  return MX_OK;
}

mx_status_t Event::PrepareNewHandle(const Handle& from, mx_rights_t rights,
                                    std::unique_ptr<Handle>* out) {
  UniqueFd token;
  mx_status_t st = NewToken(&token);
  if (st != MX_OK) return st;
  auto h = std::make_unique<Handle>(from.object(), rights);
  h->token() = std::move(token);
  *out = std::move(h);
  return MX_OK;
}

}  // namespace mx::internal
