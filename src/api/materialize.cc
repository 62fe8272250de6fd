// SPDX-License-Identifier: BSD-3-Clause
#include "api/materialize.h"

#include <magenta/fd.h>

#include <new>

#include "object/channel_endpoint.h"
#include "object/handle_from_raw.h"
#include "os/fd.h"
#include "os/fd_check.h"
#include "os/log.h"
#include "os/socket.h"
#include "transport/endpoint_state.h"

namespace mx::internal {

mx_status_t OutgoingHandles::Begin(const mx_handle_t* values, uint32_t count, const Object* self,
                                   std::vector<RawHandle>* raw) {
  values_ = values;
  count_ = count;
  raw_ = raw;
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
      Abort();  // before the descriptions go: some hold fds lent by their objects
      raw->clear();
      return st;
    }
  }
  return MX_OK;
}

void OutgoingHandles::Commit() {
  if (count_ == 0) return;
  HandleTable::Get().CommitTransfer(values_, count_);
  for (auto& h : handles_) h->TransferOut();
  // The handles live on in the message that left; our copies of their fds go without a ring.
  for (RawHandle& r : *raw_) r.Delivered();
  handles_.clear();
}

void OutgoingHandles::Abort() {
  if (count_ == 0) return;
  for (size_t i = 0; i < prepared_; ++i) {
    handles_[i]->object()->AbortTransfer(*handles_[i], &(*raw_)[i]);
  }
  HandleTable::Get().AbortTransfer(values_, count_);
  handles_.clear();
}

namespace {

// The identity of the queue blob of |raw|, if it is an endpoint whose (well-formed) state says it
// carries one. False otherwise: a malformed endpoint is refused by FromRaw on its own.
bool QueueBlobOf(const RawHandle& raw, bool* has_blob, FileId* id) {
  *has_blob = false;
  if (raw.type != MX_OBJ_TYPE_CHANNEL) return true;
  EndpointState state;
  uint32_t num_fds = 0;
  if (ParseEndpointState(raw.extra.data(), raw.extra.size(), DefaultQueueLimits(), &state,
                         &num_fds) != StateCheck::kOk ||
      num_fds != raw.fds.size() || !(state.flags & kEndpointHasQueue)) {
    return true;
  }
  *has_blob = true;
  return GetFileId(raw.fds[QueueBlobFdIndex(state)].get(), id) == MX_OK;
}

// A copy of |raw| whose fds are duplicates.
mx_status_t DuplicateRaw(const RawHandle& raw, RawHandle* out) {
  out->type = raw.type;
  out->rights = raw.rights;
  out->koid = raw.koid;
  out->related_koid = raw.related_koid;
  out->info = raw.info;
  out->extra = raw.extra;
  out->fds.reserve(raw.fds.size());
  for (const UniqueFd& fd : raw.fds) {
    UniqueFd dup;
    mx_status_t st = DupFd(fd.get(), &dup);
    if (st != MX_OK) return st;
    out->fds.push_back(std::move(dup));
  }
  return MX_OK;
}

}  // namespace

IncomingHandles::~IncomingHandles() { Release(); }

void IncomingHandles::RefuseRepeatedQueueBlobs(const std::vector<RawHandle>& raws) {
  DecodedBlobs& record = DecodedBlobs::Get();
  refused_.assign(raws.size(), false);
  for (size_t i = 0; i < raws.size(); ++i) {
    bool has_blob = false;
    FileId id;
    const bool known = QueueBlobOf(raws[i], &has_blob, &id);
    if (!has_blob) continue;
    if (known && record.Claim(id)) {
      claimed_.push_back(id);
    } else {
      DebugLog("dropped an endpoint whose queue blob was decoded already");
      refused_[i] = true;
    }
  }
}

void IncomingHandles::Release() {
  // The blobs of a message that stays queued will be claimed again when it is read again.
  for (const FileId& id : claimed_) DecodedBlobs::Get().Forget(id);
  claimed_.clear();
  // Objects built in Prepare stand on duplicates of fds the message still holds: they leave as
  // a transferred handle does, without the last-handle logic that would tell their peers they
  // closed (the object lives on in the message). Objects built in Commit from the message's own
  // fds belong to a message being dropped: they close.
  for (size_t i = 0; i < built_.size(); ++i) {
    if (built_[i] != nullptr && prepared_[i]) built_[i]->TransferOut();
  }
  built_.clear();
  prepared_.clear();
  refused_.clear();
  kept_ = 0;
  if (!slots_.empty()) HandleTable::Get().Unreserve(slots_);
  slots_.clear();
}

mx_status_t IncomingHandles::Prepare(const std::vector<RawHandle>& raws) {
  Release();
  if (raws.empty()) return MX_OK;
  mx_status_t st = MX_OK;
  try {
    RefuseRepeatedQueueBlobs(raws);
    kept_ = 0;
    for (bool refused : refused_) kept_ += refused ? 0 : 1;
    if (kept_ > 0 && !HandleTable::Get().Reserve(kept_, &slots_)) {
      Release();
      return MX_ERR_NO_RESOURCES;
    }
    built_.resize(raws.size());
    prepared_.assign(raws.size(), false);
    for (size_t i = 0; i < raws.size() && st == MX_OK; ++i) {
      if (refused_[i] || !RebuildNeedsNewResources(raws[i])) continue;
      RawHandle copy;
      st = DuplicateRaw(raws[i], &copy);
      if (st == MX_OK) st = HandleFromRaw(std::move(copy), &built_[i]);
      prepared_[i] = built_[i] != nullptr;
    }
  } catch (const std::bad_alloc&) {
    // Out of memory (an endpoint's queue is decoded here, bounded by QueueLimits): the message
    // stays where it is.
    st = MX_ERR_NO_MEMORY;
  }
  if (st != MX_OK) Release();
  return st;
}

mx_status_t IncomingHandles::Commit(std::vector<RawHandle>* raws, mx_handle_t* out) {
  // The message is taken: its blobs were decoded for good, whatever happens to it now.
  claimed_.clear();
  for (size_t i = 0; i < raws->size(); ++i) {
    if (refused_[i] || built_[i] != nullptr) continue;
    // Fd, vmo, socket, plain endpoint: validation only, no new resources.
    mx_status_t st = HandleFromRaw(std::move((*raws)[i]), &built_[i]);
    if (st != MX_OK) {
      Release();
      return st;
    }
  }
  // The originals of what Prepare rebuilt from duplicates: the handles live on here.
  for (size_t i = 0; i < raws->size(); ++i) {
    if (prepared_[i]) (*raws)[i].Delivered();
  }
  HandleTable& table = HandleTable::Get();
  size_t next = 0;
  for (size_t i = 0; i < built_.size(); ++i) {
    if (refused_[i]) continue;
    out[next] = table.Fill(slots_[next], std::shared_ptr<Handle>(std::move(built_[i])));
    ++next;
  }
  slots_.clear();
  built_.clear();
  prepared_.clear();
  refused_.clear();
  kept_ = 0;
  raws->clear();  // what is left are the originals of the duplicated fds and the refused handles
  return MX_OK;
}

mx_status_t InstallHandles(std::vector<RawHandle>* raws, mx_handle_t* out, uint32_t* installed) {
  IncomingHandles incoming;
  mx_status_t st = incoming.Prepare(*raws);
  if (st != MX_OK) return st;
  if (incoming.kept() != raws->size() && installed == nullptr) return MX_ERR_IO;
  if (installed != nullptr) *installed = static_cast<uint32_t>(incoming.kept());
  return incoming.Commit(raws, out);
}

}  // namespace mx::internal
