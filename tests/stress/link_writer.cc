// SPDX-License-Identifier: BSD-3-Clause
// LinkThread's writing side: data with attachments, FIN, and roaming endpoints sent on.
#include "worker.h"

namespace mx_soak {

namespace {

uint32_t PickLength(Rng& rng, uint32_t max_payload) {
  const uint32_t r = rng.Below(1000);
  uint32_t n;
  if (r < 600) {
    n = rng.Below(257);
  } else if (r < 900) {
    n = 256 + rng.Below(3841);
  } else if (r < 985) {
    n = 4096 + rng.Below(12289);
  } else {
    n = 16384 + rng.Below(65536 - 16384 + 1);
  }
  return std::min(n, max_payload);
}

}  // namespace

mx_status_t LinkThread::Send(Link& l, MsgHeader* hdr, const void* payload, uint32_t len,
                             mx_handle_t* handles, uint32_t nh, const Nested* nested) {
  hdr->magic = kMsgMagic;
  hdr->link = l.st.link;
  hdr->seq = l.st.send_seq;
  hdr->side = l.st.side;
  hdr->payload_len = len;
  hdr->payload_hash = Fnv1a(payload, len);
  hdr->num_attach = nh;
  out_.resize(sizeof(*hdr) + len);
  memcpy(out_.data(), hdr, sizeof(*hdr));
  if (len > 0) memcpy(out_.data() + sizeof(*hdr), payload, len);
  mx_status_t st = mx_channel_write(l.h, 0, out_.data(), static_cast<uint32_t>(out_.size()),
                                    nh ? handles : nullptr, nh);
  if (st == MX_OK) {
    l.st.send_hash = StreamHash(l.st.send_hash, hdr->seq, hdr->kind, len, hdr->payload_hash);
    ++l.st.send_seq;
    w_.Add(kMsgsSent);
    w_.Add(kBytesSent, out_.size());
    w_.Add(kHandlesSent, nh);
    if (nested != nullptr) {
      w_.Add(kMsgsSent, nested->msgs);
      w_.Add(kBytesSent, nested->bytes);
      w_.Add(kHandlesSent, nested->handles);
      w_.Add(kEventsSent, nested->events);
      w_.Add(kFdsSent, nested->fds);
      w_.Add(kCargoSent, nested->cargo);
    }
  } else if (st == MX_ERR_SHOULD_WAIT) {
    l.write_blocked = true;
    w_.Add(kShouldWait);
  } else if (st == MX_ERR_PEER_CLOSED) {
    l.write_peer_closed = true;  // the read side will see PEER_CLOSED once drained
  } else {
    w_.Error(kOtherErrors, "link %llu side %u: mx_channel_write (%u bytes, %u handles): %s",
             (unsigned long long)l.st.link, l.st.side, static_cast<uint32_t>(out_.size()), nh,
             StatusName(st));
  }
  return st;
}

mx_status_t LinkThread::MakeAttachment(AttachDesc* d, mx_handle_t* h, Nested* nested) {
  const uint32_t r = rng_.Below(100);
  mx_status_t st;
  if (r < 60) {
    d->kind = kAttachEvent;
    d->aux = static_cast<uint32_t>(rng_.Next()) & MX_EVENT_SIGNAL_MASK;
    st = mx_event_create(0, h);
    if (st != MX_OK) return st;
    if (d->aux) mx_object_signal(*h, 0, d->aux);
    ++nested->events;
    return MX_OK;
  }
  if (r < 85) {
    d->kind = kAttachFd;
    d->token = rng_.Next();
    int fds[2];
    if (pipe2(fds, O_CLOEXEC) != 0) return MX_ERR_NO_RESOURCES;
    ssize_t n = write(fds[1], &d->token, sizeof(d->token));
    close(fds[1]);
    if (n != sizeof(d->token)) {
      close(fds[0]);
      return MX_ERR_IO;
    }
    st = mx_fd_wrap(fds[0], h);
    if (st == MX_ERR_BAD_HANDLE) close(fds[0]);
    if (st == MX_OK) ++nested->fds;
    return st;
  }
  d->kind = kAttachCargo;
  d->aux = 1 + rng_.Below(3);
  d->token = rng_.Next();
  mx_handle_t p;
  st = mx_channel_create(0, &p, h);
  if (st != MX_OK) return st;
  for (uint32_t i = 0; i < d->aux && st == MX_OK; ++i) {
    CargoMsg m = {d->token, i, d->aux};
    mx_handle_t ev = MX_HANDLE_INVALID;
    if (i + 1 == d->aux && (d->token & 1)) {
      st = mx_event_create(0, &ev);
      if (st != MX_OK) break;
      mx_object_signal(ev, 0, kCargoEventSignal);
    }
    st = mx_channel_write(p, 0, &m, sizeof(m), ev == MX_HANDLE_INVALID ? nullptr : &ev,
                          ev == MX_HANDLE_INVALID ? 0 : 1);
    if (st != MX_OK && ev != MX_HANDLE_INVALID) mx_handle_close(ev);
    if (st == MX_OK) {
      ++nested->msgs;
      nested->bytes += sizeof(m);
      if (ev != MX_HANDLE_INVALID) ++nested->handles;
    }
  }
  mx_handle_close(p);
  if (st != MX_OK) {
    mx_handle_close(*h);
    return st;
  }
  ++nested->cargo;
  return MX_OK;
}

bool LinkThread::WriteData(Link& l) {
  MsgHeader hdr = {};
  hdr.kind = kData;
  const uint32_t max_payload = w_.opt.max_bytes - static_cast<uint32_t>(sizeof(MsgHeader));
  const uint32_t len = PickLength(rng_, max_payload);
  payload_.resize(len);
  FillPattern(payload_.data(), len, l.st.link, l.st.side, l.st.send_seq);
  mx_handle_t handles[kMaxAttach];
  uint32_t nh = 0;
  Nested nested;
  for (uint32_t k = 0; k < kMaxAttach; ++k) {
    if (!rng_.Chance(k == 0 ? 250 : 120)) break;
    Nested one;
    mx_status_t st = MakeAttachment(&hdr.attach[nh], &handles[nh], &one);
    if (st != MX_OK) {
      w_.Error(kOtherErrors, "creating an attachment: %s", StatusName(st));
      break;
    }
    nested.msgs += one.msgs;
    nested.bytes += one.bytes;
    nested.handles += one.handles;
    nested.events += one.events;
    nested.fds += one.fds;
    nested.cargo += one.cargo;
    ++nh;
  }
  mx_status_t st = Send(l, &hdr, payload_.data(), len, handles, nh, &nested);
  if (st != MX_OK) CloseHandles(handles, nh);
  return st == MX_OK;
}

bool LinkThread::WriteFin(Link& l) {
  MsgHeader hdr = {};
  hdr.kind = kFin;
  FinPayload fin = {l.st.send_seq, l.st.send_hash};
  mx_status_t st = Send(l, &hdr, &fin, sizeof(fin), nullptr, 0);
  if (st == MX_OK) l.fin_sent = true;
  return st == MX_OK;
}

// Sends the roaming link links_[roamer] to another process inside a message on links_[carrier].
void LinkThread::Migrate(size_t carrier, size_t roamer) {
  Link& c = links_[carrier];
  Link& r = links_[roamer];
  MsgHeader hdr = {};
  hdr.kind = kMigrate;
  hdr.attach[0].kind = kAttachEndpoint;
  hdr.attach[0].token = r.st.link;
  mx_handle_t h = r.h;
  if (Send(c, &hdr, &r.st, sizeof(r.st), &h, 1) == MX_OK) {
    w_.Add(kHops);
    r.h = MX_HANDLE_INVALID;  // gone with the message; dropped after this pass
  }
}

void LinkThread::WriteSome(size_t i) {
  Link& l = links_[i];
  if (l.st.type == kCall) {
    if (!l.write_blocked && !l.write_peer_closed) FlushReplies(l);
    if (l.fin_received && l.pending.empty()) {
      Finish(l, kOutcomeClean);
      return;
    }
    TryHandoff(l);
    return;
  }
  if (l.write_peer_closed) return;
  if (w_.stopping.load()) {
    if (!l.fin_sent && !l.write_blocked) WriteFin(l);
    if (l.fin_sent && l.fin_received) Finish(l, kOutcomeClean);
    return;
  }
  if (l.write_blocked) return;
  // Now and then hand a link to another thread of this process.
  if (TryHandoff(l)) return;
  // A static link sometimes carries one of this thread's roaming links to the process at its
  // other end. (Roaming links never carry endpoints, so no endpoint can end up inside itself.)
  if (l.st.type == kStatic && rng_.Chance(40)) {
    std::vector<size_t> candidates;
    for (size_t j = 0; j < links_.size(); ++j) {
      if (links_[j].st.type == kRoaming && links_[j].h != MX_HANDLE_INVALID)
        candidates.push_back(j);
    }
    if (!candidates.empty()) {
      Migrate(i, candidates[rng_.Below(static_cast<uint32_t>(candidates.size()))]);
      return;
    }
  }
  // Mostly 0-2 messages; now and then a burst until backpressure pushes back.
  const uint32_t n = rng_.Chance(3) ? 1000 : rng_.Below(3);
  for (uint32_t k = 0; k < n && !l.write_blocked && !l.write_peer_closed; ++k) {
    if (!WriteData(l)) break;
  }
}

}  // namespace mx_soak
