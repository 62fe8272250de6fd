// SPDX-License-Identifier: BSD-3-Clause
// mx_channel_*: argument checks in Magenta's order, then the ChannelEndpoint.
#include <magenta/syscalls.h>

#include <cstring>

#include "api/lookup.h"
#include "api/materialize.h"
#include "object/channel_endpoint.h"

using namespace mx::internal;

namespace {

// Checks shared by write and call's write phase (after the endpoint lookup).
mx_status_t CheckOutgoing(const void* bytes, uint32_t num_bytes, const mx_handle_t* handles,
                          uint32_t num_handles) {
  if (num_bytes > MX_CHANNEL_MAX_MSG_BYTES || num_handles > MX_CHANNEL_MAX_MSG_HANDLES) {
    return MX_ERR_OUT_OF_RANGE;
  }
  if ((bytes == nullptr && num_bytes > 0) || (handles == nullptr && num_handles > 0)) {
    return MX_ERR_INVALID_ARGS;
  }
  return MX_OK;
}

// Builds the message and takes its handles out of the table (phase 1 of the transfer).
mx_status_t BuildMessage(ChannelEndpoint* ep, const void* bytes, uint32_t num_bytes,
                         const mx_handle_t* handles, uint32_t num_handles,
                         OutgoingHandles* outgoing, Message* message) {
  if (num_bytes > 0) {
    const auto* b = static_cast<const uint8_t*>(bytes);
    message->bytes.assign(b, b + num_bytes);
  }
  return outgoing->Begin(handles, num_handles, ep, &message->handles);
}

// The request of mx_channel_call leaves: straight into the shared-memory ring when it carries no
// handles and the ring takes it (no Message built), else as a Message whose handles leave this
// process once it is sent.
mx_status_t SendCallRequest(ChannelEndpoint* ep, const mx_channel_call_args_t* args,
                            CallWaiter* waiter) {
  if (args->wr_num_handles == 0) {
    mx_status_t st = ep->BeginCallBytes(args->wr_bytes, args->wr_num_bytes, waiter);
    if (st != MX_ERR_NEXT) return st;
  }
  OutgoingHandles outgoing;
  Message request;
  mx_status_t st = BuildMessage(ep, args->wr_bytes, args->wr_num_bytes, args->wr_handles,
                                args->wr_num_handles, &outgoing, &request);
  if (st != MX_OK) return st;
  st = ep->BeginCall(request, waiter);
  if (st != MX_OK) {
    outgoing.Abort();
    return st;
  }
  outgoing.Commit();
  return MX_OK;
}

// Hands the reply the wait brought to the caller's buffers: CALL_FAILED with |read_status| set
// when they cannot take it (the reply is discarded; its handles close with it).
mx_status_t CopyOutReply(Message* reply, const mx_channel_call_args_t* args, uint32_t* actual_bytes,
                         uint32_t* actual_handles, mx_status_t* read_status) {
  uint32_t size = static_cast<uint32_t>(reply->bytes.size());
  uint32_t count = static_cast<uint32_t>(reply->handles.size());
  if (size > args->rd_num_bytes || count > args->rd_num_handles ||
      (size > 0 && args->rd_bytes == nullptr) || (count > 0 && args->rd_handles == nullptr)) {
    if (read_status != nullptr) *read_status = MX_ERR_BUFFER_TOO_SMALL;
    return MX_ERR_CALL_FAILED;
  }
  if (count > 0) {
    mx_status_t st = InstallHandles(&reply->handles, args->rd_handles, &count);
    if (st != MX_OK) {
      if (read_status != nullptr) *read_status = st == MX_ERR_IO ? MX_ERR_PEER_CLOSED : st;
      return MX_ERR_CALL_FAILED;
    }
  }
  if (size > 0) std::memcpy(args->rd_bytes, reply->bytes.data(), size);
  if (actual_bytes != nullptr) *actual_bytes = size;
  if (actual_handles != nullptr) *actual_handles = count;
  return MX_OK;
}

}  // namespace

extern "C" {

__MX_EXPORT mx_status_t mx_channel_create(uint32_t options, mx_handle_t* out0, mx_handle_t* out1) {
  if (options != 0 || out0 == nullptr || out1 == nullptr) return MX_ERR_INVALID_ARGS;
  std::shared_ptr<ChannelEndpoint> a, b;
  mx_status_t st = ChannelEndpoint::CreatePair(&a, &b);
  if (st != MX_OK) return st;
  auto ha = std::make_shared<Handle>(a, MX_DEFAULT_CHANNEL_RIGHTS);
  auto hb = std::make_shared<Handle>(b, MX_DEFAULT_CHANNEL_RIGHTS);
  HandleTable& table = HandleTable::Get();
  mx_handle_t va = table.Add(ha);
  if (va == MX_HANDLE_INVALID) return MX_ERR_NO_RESOURCES;
  mx_handle_t vb = table.Add(hb);
  if (vb == MX_HANDLE_INVALID) {
    std::shared_ptr<Handle> back;
    if (table.Remove(va, &back) == MX_OK) back->Close();
    return MX_ERR_NO_RESOURCES;
  }
  *out0 = va;
  *out1 = vb;
  return MX_OK;
}

__MX_EXPORT mx_status_t mx_channel_write(mx_handle_t handle, uint32_t options, const void* bytes,
                                         uint32_t num_bytes, const mx_handle_t* handles,
                                         uint32_t num_handles) {
  if (options != 0) return MX_ERR_INVALID_ARGS;
  std::shared_ptr<ChannelEndpoint> ep;
  mx_status_t st = LookupObject(handle, MX_RIGHT_WRITE, &ep);
  if (st != MX_OK) return st;
  st = CheckOutgoing(bytes, num_bytes, handles, num_handles);
  if (st != MX_OK) return st;
  if (num_handles == 0) {
    // The fast path: straight into the shared-memory ring.
    st = ep->WriteBytes(bytes, num_bytes);
    if (st != MX_ERR_NEXT) return st;
  }
  OutgoingHandles outgoing;
  Message message;
  st = BuildMessage(ep.get(), bytes, num_bytes, handles, num_handles, &outgoing, &message);
  if (st != MX_OK) return st;
  st = ep->Write(message);
  if (st != MX_OK) {
    outgoing.Abort();
    return st;
  }
  outgoing.Commit();
  return MX_OK;
}

__MX_EXPORT mx_status_t mx_channel_read(mx_handle_t handle, uint32_t options, void* bytes,
                                        mx_handle_t* handles, uint32_t num_bytes,
                                        uint32_t num_handles, uint32_t* actual_bytes,
                                        uint32_t* actual_handles) {
  std::shared_ptr<ChannelEndpoint> ep;
  mx_status_t st = LookupObject(handle, MX_RIGHT_READ, &ep);
  if (st != MX_OK) return st;
  if ((options & ~MX_CHANNEL_READ_MAY_DISCARD) != 0) return MX_ERR_NOT_SUPPORTED;
  {
    // The fast path: a handle-free message straight from the shared-memory ring.
    uint32_t size = 0;
    st = ep->ReadBytes(bytes, num_bytes, (options & MX_CHANNEL_READ_MAY_DISCARD) != 0, &size);
    if (st != MX_ERR_NEXT) {
      if (actual_bytes != nullptr) *actual_bytes = size;
      if (actual_handles != nullptr) *actual_handles = 0;
      return st;
    }
  }
  // A peer can send malformed messages without end: one read skips at most this many, then
  // returns SHOULD_WAIT (READABLE stays asserted while more is queued), so it always returns.
  constexpr int kMaxSkippedPerRead = 64;
  for (int skipped = 0;; ++skipped) {
    if (skipped == kMaxSkippedPerRead) return MX_ERR_SHOULD_WAIT;
    ChannelEndpoint::ReadTransaction read = ep->BeginRead();
    if (read.status() != MX_OK) return read.status();
    const Message& front = read.front();
    uint32_t size = static_cast<uint32_t>(front.bytes.size());
    uint32_t count = static_cast<uint32_t>(front.handles.size());
    if (actual_bytes != nullptr) *actual_bytes = size;
    if (actual_handles != nullptr) *actual_handles = count;
    if (size > num_bytes || count > num_handles || (size > 0 && bytes == nullptr) ||
        (count > 0 && handles == nullptr)) {
      if (options & MX_CHANNEL_READ_MAY_DISCARD) read.Discard();
      return MX_ERR_BUFFER_TOO_SMALL;
    }
    // Everything that can run out (table slots, fds, memory) is taken while the message is
    // still first in the queue: on failure it stays there, untouched.
    IncomingHandles incoming;
    if (count > 0) {
      st = incoming.Prepare(front.handles);
      if (st == MX_ERR_IO) {
        // A malformed handle from a hostile peer: skip the message and go on to the next one.
        read.Discard();
        continue;
      }
      if (st != MX_OK) return st;
      // Endpoints whose queue blob was refused are not installed.
      count = static_cast<uint32_t>(incoming.kept());
      if (actual_handles != nullptr) *actual_handles = count;
    }
    Message m = read.Commit();
    if (count > 0 && incoming.Commit(&m.handles, handles) != MX_OK) continue;  // malformed
    if (size > 0) std::memcpy(bytes, m.bytes.data(), size);
    return MX_OK;
  }
}

__MX_EXPORT mx_status_t mx_channel_call(mx_handle_t handle, uint32_t options, mx_time_t deadline,
                                        const mx_channel_call_args_t* args, uint32_t* actual_bytes,
                                        uint32_t* actual_handles, mx_status_t* read_status) {
  if (args == nullptr || options != 0) return MX_ERR_INVALID_ARGS;
  std::shared_ptr<ChannelEndpoint> ep;
  mx_status_t st = LookupObject(handle, MX_RIGHT_READ | MX_RIGHT_WRITE, &ep);
  if (st != MX_OK) return st;
  st = CheckOutgoing(args->wr_bytes, args->wr_num_bytes, args->wr_handles, args->wr_num_handles);
  if (st != MX_OK) return st;
  CallWaiter waiter;
  waiter.out = args->rd_bytes;
  waiter.out_capacity = args->rd_num_bytes;
  st = SendCallRequest(ep.get(), args, &waiter);
  if (st != MX_OK) return st;
  // The request left: its handles are gone from this process, whatever the wait brings.
  mx_status_t rs = MX_OK;
  st = ep->FinishCall(&waiter, deadline, &rs);
  if (st == MX_ERR_CALL_FAILED) {
    if (read_status != nullptr) *read_status = rs;
    return st;
  }
  if (st != MX_OK) return st;
  if (waiter.in_place) {
    if (actual_bytes != nullptr) *actual_bytes = waiter.in_place_bytes;
    if (actual_handles != nullptr) *actual_handles = 0;
    return MX_OK;
  }
  return CopyOutReply(&waiter.reply, args, actual_bytes, actual_handles, read_status);
}

}  // extern "C"
