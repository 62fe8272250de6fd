#include "api/materialize.h"

#include <magenta/fd.h>
#include <sys/eventfd.h>

#include "object/channel_endpoint.h"
#include "object/event.h"
#include "object/eventpair.h"
#include "object/fd_object.h"
#include "object/socket_object.h"
#include "object/vmo.h"

namespace mx::internal {

mx_status_t OutgoingHandles::Begin(const mx_handle_t* values, uint32_t count, const Object* self,
                                   std::vector<RawHandle>* raw) {
  values_ = values;
  count_ = count;
  raw->clear();
  if (count == 0) return MX_OK;
  mx_status_t st = HandleTable::Get().BeginTransfer(
      values, count,
      [self](const Handle& h) -> mx_status_t {
        if (self != nullptr && h.object().get() == self) return MX_ERR_NOT_SUPPORTED;
        if (!h.HasRights(MX_RIGHT_TRANSFER)) return MX_ERR_ACCESS_DENIED;
        return MX_OK;
      },
      &handles_);
  if (st != MX_OK) return st;
  raw->resize(count);
  for (prepared_ = 0; prepared_ < count; ++prepared_) {
    st = handles_[prepared_]->object()->PrepareTransfer(*handles_[prepared_], &(*raw)[prepared_]);
    if (st != MX_OK) {
      raw->clear();
      Abort();
      return st;
    }
  }
  return MX_OK;
}

void OutgoingHandles::Commit() {
  if (count_ == 0) return;
  HandleTable::Get().CommitTransfer(values_, count_);
  for (auto& h : handles_) h->TransferOut();
  handles_.clear();
}

void OutgoingHandles::Abort() {
  if (count_ == 0) return;
  for (size_t i = 0; i < prepared_; ++i) handles_[i]->object()->AbortTransfer(*handles_[i]);
  HandleTable::Get().AbortTransfer(values_, count_);
  handles_.clear();
}

namespace {

// Rebuilds an object whose handles share it (T::FromRaw gives the object), with the rights the
// sender claimed cut down to what the type can carry.
template <typename T>
mx_status_t SharedObjectHandle(RawHandle raw, mx_rights_t allowed, std::unique_ptr<Handle>* out) {
  mx_rights_t rights = raw.rights & allowed;
  std::shared_ptr<T> object;
  mx_status_t st = T::FromRaw(std::move(raw), &object);
  if (st != MX_OK) return st;
  *out = std::make_unique<Handle>(std::move(object), rights);
  return MX_OK;
}

}  // namespace

mx_status_t HandleFromRaw(RawHandle raw, std::unique_ptr<Handle>* out) {
  switch (raw.type) {
    case MX_OBJ_TYPE_CHANNEL:
      return SharedObjectHandle<ChannelEndpoint>(std::move(raw), MX_DEFAULT_CHANNEL_RIGHTS, out);
    case MX_OBJ_TYPE_FD:
      return SharedObjectHandle<FdObject>(std::move(raw), MX_DEFAULT_FD_RIGHTS, out);
    case MX_OBJ_TYPE_VMO:
      return SharedObjectHandle<Vmo>(std::move(raw), MX_DEFAULT_VMO_RIGHTS, out);
    case MX_OBJ_TYPE_SOCKET:
      return SharedObjectHandle<SocketObject>(std::move(raw), MX_DEFAULT_SOCKET_RIGHTS, out);
    // Events and eventpair sides build the handle themselves: it carries a per-handle lock.
    case MX_OBJ_TYPE_EVENT:
      raw.rights &= MX_DEFAULT_EVENT_RIGHTS;
      return Event::FromRaw(std::move(raw), out);
    case MX_OBJ_TYPE_EVENT_PAIR:
      raw.rights &= MX_DEFAULT_EVENTPAIR_RIGHTS;
      return EventPairSide::FromRaw(std::move(raw), out);
    default:
      return MX_ERR_IO;
  }
}

mx_status_t CheckInstallResources(const std::vector<RawHandle>& raws) {
  if (raws.empty()) return MX_OK;
  if (!HandleTable::Get().HasRoom(raws.size())) return MX_ERR_NO_RESOURCES;
  // Fds a rebuild may open: an event reopens its memfd; an endpoint with rings or a queue blob
  // duplicates those fds while it checks them.
  size_t need = 0;
  for (const RawHandle& raw : raws) {
    if (raw.type == MX_OBJ_TYPE_EVENT) need += 1;
    if (raw.type == MX_OBJ_TYPE_CHANNEL) need += raw.fds.size() > 1 ? 3 : 0;
  }
  std::vector<UniqueFd> probe;
  for (size_t i = 0; i < need; ++i) {
    probe.emplace_back(::eventfd(0, EFD_CLOEXEC));
    if (!probe.back()) return MX_ERR_NO_RESOURCES;
  }
  return MX_OK;
}

mx_status_t InstallHandles(std::vector<RawHandle>* raws, mx_handle_t* out) {
  // Build every handle first, then add them all, so a failure leaves the table untouched.
  std::vector<std::unique_ptr<Handle>> built;
  built.reserve(raws->size());
  for (RawHandle& raw : *raws) {
    std::unique_ptr<Handle> h;
    mx_status_t st = HandleFromRaw(std::move(raw), &h);
    if (st != MX_OK) {
      for (auto& b : built) b->Close();
      return st;
    }
    built.push_back(std::move(h));
  }
  HandleTable& table = HandleTable::Get();
  std::vector<mx_handle_t> values;
  values.reserve(built.size());
  for (auto& h : built) {
    mx_handle_t v = table.Add(std::shared_ptr<Handle>(std::move(h)));
    if (v == MX_HANDLE_INVALID) {
      for (mx_handle_t added : values) {
        std::shared_ptr<Handle> back;
        if (table.Remove(added, &back) == MX_OK) back->Close();
      }
      return MX_ERR_NO_RESOURCES;
    }
    values.push_back(v);
  }
  for (size_t i = 0; i < values.size(); ++i) out[i] = values[i];
  return MX_OK;
}

}  // namespace mx::internal
