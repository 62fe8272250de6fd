// SPDX-License-Identifier: BSD-3-Clause
#include "object/handle_from_raw.h"

#include "object/channel_endpoint.h"
#include "object/event.h"
#include "object/eventpair.h"
#include "object/fd_object.h"
#include "object/fifo.h"
#include "object/socket_object.h"
#include "object/vmo.h"

namespace mx::internal {
namespace {

// Frame decoding (transport/wire.h) enforces each type's shape with its own copy of the numbers;
// the objects define them.
static_assert(Event::kWireFds == kEventWireFds);
static_assert(EventPairSide::kWireFds == kEventPairWireFds);
static_assert(FifoEndpoint::kWireFds == kFifoWireFds);

// Rebuilds an object whose handles share it (T::FromRaw gives the object); |raw|'s rights were
// cut already.
template <typename T>
mx_status_t SharedObjectHandle(RawHandle raw, std::unique_ptr<Handle>* out) {
  const mx_rights_t rights = raw.rights;
  std::shared_ptr<T> object;
  mx_status_t st = T::FromRaw(std::move(raw), &object);
  if (st != MX_OK) return st;
  *out = std::make_unique<Handle>(std::move(object), rights);
  return MX_OK;
}

bool Never(const RawHandle&) { return false; }
bool Always(const RawHandle&) { return true; }
// An endpoint needs new resources only for rings or a queue beside its socket.
bool EndpointCarriesMore(const RawHandle& raw) { return raw.fds.size() > 1; }

struct TransferableType {
  uint32_t type;
  mx_rights_t rights;  // the most a handle of this type may carry
  mx_status_t (*build)(RawHandle raw, std::unique_ptr<Handle>* out);
  bool (*needs_new_resources)(const RawHandle& raw);
};

// VMOs, events and eventpair sides build the handle themselves: a VMO's rights also depend on
// the description's access mode, and events carry a per-handle lock.
constexpr TransferableType kTypes[] = {
    {ChannelEndpoint::kType, MX_DEFAULT_CHANNEL_RIGHTS, &SharedObjectHandle<ChannelEndpoint>,
     &EndpointCarriesMore},
    {FdObject::kType, MX_DEFAULT_FD_RIGHTS, &SharedObjectHandle<FdObject>, &Never},
    {Vmo::kType, MX_DEFAULT_VMO_RIGHTS, &Vmo::FromRaw, &Never},
    {SocketObject::kType, MX_DEFAULT_SOCKET_RIGHTS, &SharedObjectHandle<SocketObject>, &Never},
    {Event::kType, MX_DEFAULT_EVENT_RIGHTS, &Event::FromRaw, &Always},
    {EventPairSide::kType, MX_DEFAULT_EVENTPAIR_RIGHTS, &EventPairSide::FromRaw, &Always},
    // A fifo side maps its page: memory the rebuild may not get.
    {FifoEndpoint::kType, MX_DEFAULT_FIFO_RIGHTS, &SharedObjectHandle<FifoEndpoint>, &Always},
};

const TransferableType* Find(uint32_t type) {
  for (const TransferableType& t : kTypes) {
    if (t.type == type) return &t;
  }
  return nullptr;
}

}  // namespace

mx_status_t HandleFromRaw(RawHandle raw, std::unique_ptr<Handle>* out) {
  const TransferableType* t = Find(raw.type);
  if (t == nullptr) return MX_ERR_IO;
  raw.rights &= t->rights;
  return t->build(std::move(raw), out);
}

bool RebuildNeedsNewResources(const RawHandle& raw) {
  const TransferableType* t = Find(raw.type);
  return t != nullptr && t->needs_new_resources(raw);
}

}  // namespace mx::internal
