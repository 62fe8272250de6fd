// SPDX-License-Identifier: BSD-3-Clause
// LinkThread's loop and its reading side: serving calls, handoffs between threads, PEER_CLOSED.
#include "worker.h"

namespace mx_soak {

void LinkThread::Finish(Link& l, OutcomeKind kind) {
  w_.Record(l.st, kind, l.st.send_seq, l.st.recv_seq);
  for (PendingReply& r : l.pending) CloseHandles(r.handles, r.num_handles);
  l.pending.clear();
  mx_handle_close(l.h);
  l.h = MX_HANDLE_INVALID;
}

bool LinkThread::TryHandoff(Link& l) {
  if (w_.threads.size() < 2 || w_.stopping.load() || !rng_.Chance(2)) return false;
  ThreadCtx& other = *w_.threads[rng_.Below(static_cast<uint32_t>(w_.threads.size()))];
  if (&other == &t_ || !w_.Push(other, l)) return false;
  w_.Add(kHandoffs);
  l.h = MX_HANDLE_INVALID;  // the other thread has it now (pending replies went with the copy)
  l.pending.clear();
  return true;
}

// The server side of a call link: answers each request with a reply carrying its txid.
void LinkThread::ServeCall(Link& l, const MsgHeader& hdr, const uint8_t* payload, uint32_t len,
                           mx_handle_t* handles, uint32_t nh) {
  const uint64_t payload_hash = Fnv1a(payload, len);
  w_.Add(kMsgsVerified);
  w_.Add(kBytesVerified, sizeof(hdr) + len);
  if (hdr.payload_len != len || hdr.payload_hash != payload_hash) {
    w_.Error(kChecksumErrors, "call link %llu: request %08x: payload %u bytes, header says %u",
             (unsigned long long)l.st.link, hdr.txid, len, hdr.payload_len);
    CloseHandles(handles, nh);
    return;
  }
  if (hdr.num_attach != nh || nh > kMaxAttach) {
    w_.Error(kHandleErrors, "call link %llu: request %08x: %u handles, header says %u",
             (unsigned long long)l.st.link, hdr.txid, nh, hdr.num_attach);
    CloseHandles(handles, nh);
    return;
  }
  if (hdr.kind == kFin) {
    FinPayload fin;
    if (len != sizeof(fin) || nh != 0) {
      w_.Error(kChecksumErrors, "call link %llu: malformed FIN", (unsigned long long)l.st.link);
      CloseHandles(handles, nh);
      return;
    }
    memcpy(&fin, payload, sizeof(fin));
    if (fin.sent != l.st.recv_seq) {
      w_.Error(kOrderErrors, "call link %llu: FIN says %llu requests were sent, %llu arrived",
               (unsigned long long)l.st.link, (unsigned long long)fin.sent,
               (unsigned long long)l.st.recv_seq);
    }
    l.fin_received = true;
    return;
  }
  if (hdr.kind != kCallRequest || hdr.txid == 0 || hdr.seq != hdr.txid) {
    w_.Error(kOrderErrors, "call link %llu: unexpected message kind %u txid %08x",
             (unsigned long long)l.st.link, hdr.kind, hdr.txid);
    CloseHandles(handles, nh);
    return;
  }
  out_.resize(len);
  FillPattern(out_.data(), len, hdr.link, 0, hdr.txid);
  if (!SameBytes(out_.data(), payload, len)) {
    w_.Error(kChecksumErrors, "call link %llu: request %08x: payload differs from the pattern",
             (unsigned long long)l.st.link, hdr.txid);
  }
  for (uint32_t i = 0; i < nh; ++i) VerifyAttachment(l, hdr, hdr.attach[i], handles[i]);
  ++l.st.recv_seq;

  MsgHeader reply = {};
  reply.txid = hdr.txid;
  reply.magic = kMsgMagic;
  reply.kind = kCallReply;
  reply.side = 1;
  reply.link = l.st.link;
  reply.seq = hdr.txid;
  reply.payload_len = rng_.Below(8193);
  PendingReply r;
  r.bytes.resize(sizeof(reply) + reply.payload_len);
  FillPattern(r.bytes.data() + sizeof(reply), reply.payload_len, l.st.link, 1, hdr.txid);
  reply.payload_hash = Fnv1a(r.bytes.data() + sizeof(reply), reply.payload_len);
  if (rng_.Chance(250)) {
    reply.attach[0].kind = kAttachEvent;
    reply.attach[0].aux = static_cast<uint32_t>(rng_.Next()) & MX_EVENT_SIGNAL_MASK;
    if (mx_event_create(0, &r.handles[0]) == MX_OK) {
      mx_object_signal(r.handles[0], 0, reply.attach[0].aux);
      r.num_handles = 1;
      reply.num_attach = 1;
    }
  }
  memcpy(r.bytes.data(), &reply, sizeof(reply));
  l.pending.push_back(std::move(r));
  FlushReplies(l);
}

void LinkThread::FlushReplies(Link& l) {
  size_t done = 0;
  for (; done < l.pending.size(); ++done) {
    PendingReply& r = l.pending[done];
    mx_status_t st = mx_channel_write(l.h, 0, r.bytes.data(), static_cast<uint32_t>(r.bytes.size()),
                                      r.num_handles ? r.handles : nullptr, r.num_handles);
    if (st == MX_OK) {
      ++l.st.send_seq;
      w_.Add(kMsgsSent);
      w_.Add(kBytesSent, r.bytes.size());
      w_.Add(kHandlesSent, r.num_handles);
      w_.Add(kEventsSent, r.num_handles);
      r.num_handles = 0;
      continue;
    }
    if (st == MX_ERR_SHOULD_WAIT) {
      l.write_blocked = true;
      w_.Add(kShouldWait);
      break;
    }
    if (st == MX_ERR_PEER_CLOSED) {
      l.write_peer_closed = true;  // the caller's process was killed
    } else {
      w_.Error(kOtherErrors, "call link %llu: writing a reply: %s", (unsigned long long)l.st.link,
               StatusName(st));
    }
    for (PendingReply& rest : l.pending) CloseHandles(rest.handles, rest.num_handles);
    done = l.pending.size();
    break;
  }
  l.pending.erase(l.pending.begin(), l.pending.begin() + static_cast<long>(done));
}

void LinkThread::Run() {
  std::vector<mx_wait_item_t> items;
  bool busy = false;
  bool doorbell = true;
  auto take_inbox = [this] {
    std::lock_guard<std::mutex> lock(t_.mu);
    for (Link& l : t_.inbox) links_.push_back(l);
    t_.inbox.clear();
  };
  for (;;) {
    // Adopt what other threads (or the control thread) handed us: clear the doorbell, then
    // empty the inbox (a push after the clear rings it again).
    if (doorbell) {
      mx_object_signal(t_.doorbell, MX_EVENT_SIGNALED, 0);
      take_inbox();
      doorbell = false;
    }
    const bool stopping = w_.stopping.load();
    if (stopping && links_.empty()) {
      std::lock_guard<std::mutex> lock(t_.mu);
      if (t_.inbox.empty()) {
        t_.closed = true;  // later pushes fail and the pusher keeps its link
        return;
      }
      for (Link& l : t_.inbox) links_.push_back(l);
      t_.inbox.clear();
    }
    if (stopping && mx_time_get(MX_CLOCK_MONOTONIC) > w_.drain_deadline.load()) {
      for (Link& l : links_) {
        w_.Error(kOtherErrors,
                 "link %llu side %u: stop phase timed out (fin sent %d, fin received %d, "
                 "sent %llu, received %llu)",
                 (unsigned long long)l.st.link, l.st.side, l.fin_sent, l.fin_received,
                 (unsigned long long)l.st.send_seq, (unsigned long long)l.st.recv_seq);
        Finish(l, kOutcomeError);
      }
      links_.clear();
      continue;
    }

    items.clear();
    items.push_back(mx_wait_item_t{t_.doorbell, MX_EVENT_SIGNALED, 0});
    for (const Link& l : links_) {
      mx_signals_t want = MX_CHANNEL_READABLE | MX_CHANNEL_PEER_CLOSED;
      if (l.write_blocked) want |= MX_CHANNEL_WRITABLE;
      items.push_back(mx_wait_item_t{l.h, want, 0});
    }
    const mx_time_t deadline = busy ? 0 : mx_deadline_after(MX_MSEC(stopping ? 20 : 2));
    mx_status_t st =
        mx_object_wait_many(items.data(), static_cast<uint32_t>(items.size()), deadline);
    if (st != MX_OK && st != MX_ERR_TIMED_OUT) {
      w_.Error(kOtherErrors, "mx_object_wait_many over %zu items: %s", items.size(),
               StatusName(st));
      mx_nanosleep(mx_deadline_after(MX_MSEC(10)));
      continue;
    }
    busy = false;
    doorbell = (items[0].pending & MX_EVENT_SIGNALED) != 0;
    for (size_t i = 0; i < links_.size(); ++i) {
      Link& l = links_[i];
      if (l.h == MX_HANDLE_INVALID) continue;  // migrated or handed off earlier this pass
      const mx_signals_t pending = items[i + 1].pending;
      if (pending & MX_CHANNEL_WRITABLE) l.write_blocked = false;
      if (pending & (MX_CHANNEL_READABLE | MX_CHANNEL_PEER_CLOSED)) busy |= ReadSome(l);
      if (l.h == MX_HANDLE_INVALID) continue;
      WriteSome(i);
    }
    links_.erase(std::remove_if(links_.begin(), links_.end(),
                                [](const Link& l) { return l.h == MX_HANDLE_INVALID; }),
                 links_.end());
    for (Link& l : incoming_) links_.push_back(l);
    incoming_.clear();
  }
}

bool LinkThread::ReadSome(Link& l) {
  mx_handle_t handles[MX_CHANNEL_MAX_MSG_HANDLES];
  bool any = false;
  for (int n = 0; n < 32 && l.h != MX_HANDLE_INVALID; ++n) {
    uint32_t nb = 0, nh = 0;
    mx_status_t st =
        mx_channel_read(l.h, 0, buf_.data(), handles, static_cast<uint32_t>(buf_.size()),
                        MX_CHANNEL_MAX_MSG_HANDLES, &nb, &nh);
    if (st == MX_ERR_SHOULD_WAIT) break;
    if (st == MX_ERR_PEER_CLOSED) {
      PeerGone(l);
      break;
    }
    if (st != MX_OK) {
      w_.Error(kOtherErrors, "link %llu side %u: mx_channel_read: %s",
               (unsigned long long)l.st.link, l.st.side, StatusName(st));
      break;
    }
    any = true;
    HandleMessage(l, nb, handles, nh);
  }
  if (l.h != MX_HANDLE_INVALID && l.st.type != kCall && w_.stopping.load() && l.fin_sent &&
      l.fin_received)
    Finish(l, kOutcomeClean);
  return any;
}

void LinkThread::PeerGone(Link& l) {
  if (l.st.type == kCall) {
    // The caller closes its end after FIN, or its process was killed.
    Finish(l, l.fin_received ? kOutcomeClean : kOutcomeCut);
  } else if (l.fin_received && !l.fin_sent) {
    w_.Error(kOtherErrors, "link %llu side %u: peer closed after its FIN but before ours",
             (unsigned long long)l.st.link, l.st.side);
    Finish(l, kOutcomeError);
  } else if (l.fin_received) {
    Finish(l, kOutcomeClean);
  } else {
    if (w_.opt.verbose)
      fprintf(stderr, "mx_soak[worker %d]: link %llu side %u: PEER_CLOSED after %llu messages\n",
              w_.index, (unsigned long long)l.st.link, l.st.side,
              (unsigned long long)l.st.recv_seq);
    Finish(l, kOutcomeCut);
  }
}

}  // namespace mx_soak
