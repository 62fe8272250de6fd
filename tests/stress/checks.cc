// SPDX-License-Identifier: BSD-3-Clause
// LinkThread's checks of what arrives: order, checksums, and every attached handle.
#include "worker.h"

namespace mx_soak {

void LinkThread::HandleMessage(Link& l, uint32_t nb, mx_handle_t* handles, uint32_t nh) {
  MsgHeader hdr;
  if (nb < sizeof(hdr)) {
    w_.Error(kChecksumErrors, "link %llu side %u: a %u-byte message (shorter than a header)",
             (unsigned long long)l.st.link, l.st.side, nb);
    CloseHandles(handles, nh);
    return;
  }
  memcpy(&hdr, buf_.data(), sizeof(hdr));
  const uint8_t* payload = buf_.data() + sizeof(hdr);
  const uint32_t len = nb - static_cast<uint32_t>(sizeof(hdr));
  if (hdr.magic != kMsgMagic || hdr.link != l.st.link || hdr.side != 1 - l.st.side) {
    w_.Error(kOrderErrors,
             "link %llu side %u: message for link %llu side %u (magic %08x) at seq %llu",
             (unsigned long long)l.st.link, l.st.side, (unsigned long long)hdr.link, hdr.side,
             hdr.magic, (unsigned long long)l.st.recv_seq);
    CloseHandles(handles, nh);
    return;
  }
  if (l.st.type == kCall) {
    ServeCall(l, hdr, payload, len, handles, nh);
    return;
  }
  if (hdr.seq != l.st.recv_seq) {
    w_.Error(kOrderErrors, "link %llu side %u: expected seq %llu, got %llu (kind %u)",
             (unsigned long long)l.st.link, l.st.side, (unsigned long long)l.st.recv_seq,
             (unsigned long long)hdr.seq, hdr.kind);
  }
  const uint64_t payload_hash = Fnv1a(payload, len);
  bool ok = true;
  if (hdr.payload_len != len || hdr.payload_hash != payload_hash) {
    w_.Error(kChecksumErrors,
             "link %llu side %u seq %llu: payload %u bytes hash %016llx, header says %u bytes "
             "hash %016llx",
             (unsigned long long)l.st.link, l.st.side, (unsigned long long)hdr.seq, len,
             (unsigned long long)payload_hash, hdr.payload_len,
             (unsigned long long)hdr.payload_hash);
    ok = false;
  }
  if (hdr.num_attach != nh || nh > kMaxAttach) {
    w_.Error(kHandleErrors, "link %llu side %u seq %llu: %u handles, header says %u",
             (unsigned long long)l.st.link, l.st.side, (unsigned long long)hdr.seq, nh,
             hdr.num_attach);
    CloseHandles(handles, nh);
    nh = 0;
    ok = false;
  }
  if (ok) {
    switch (hdr.kind) {
      case kData: {
        out_.resize(len);
        FillPattern(out_.data(), len, hdr.link, hdr.side, hdr.seq);
        if (!SameBytes(out_.data(), payload, len)) {
          w_.Error(kChecksumErrors, "link %llu side %u seq %llu: payload differs from the pattern",
                   (unsigned long long)l.st.link, l.st.side, (unsigned long long)hdr.seq);
        }
        for (uint32_t i = 0; i < nh; ++i) {
          VerifyAttachment(l, hdr, hdr.attach[i], handles[i]);
          handles[i] = MX_HANDLE_INVALID;
        }
        break;
      }
      case kMigrate: {
        LinkState st;
        if (len != sizeof(st) || nh != 1 || hdr.attach[0].kind != kAttachEndpoint) {
          w_.Error(kHandleErrors, "link %llu side %u seq %llu: malformed migration",
                   (unsigned long long)l.st.link, l.st.side, (unsigned long long)hdr.seq);
          CloseHandles(handles, nh);
          break;
        }
        memcpy(&st, payload, sizeof(st));
        mx_info_handle_basic_t info = BasicInfo(handles[0]);
        if (info.type != MX_OBJ_TYPE_CHANNEL || info.koid != st.koid ||
            info.related_koid != st.peer_koid) {
          w_.Error(kHandleErrors,
                   "link %llu side %u seq %llu: migrated endpoint of link %llu is type %u "
                   "koid %llu (peer %llu), expected a channel with koid %llu (peer %llu)",
                   (unsigned long long)l.st.link, l.st.side, (unsigned long long)hdr.seq,
                   (unsigned long long)st.link, info.type, (unsigned long long)info.koid,
                   (unsigned long long)info.related_koid, (unsigned long long)st.koid,
                   (unsigned long long)st.peer_koid);
        }
        Link in;
        in.st = st;
        in.h = handles[0];
        incoming_.push_back(in);
        w_.Add(kHandlesVerified);
        break;
      }
      case kFin: {
        FinPayload fin;
        if (len != sizeof(fin) || nh != 0) {
          w_.Error(kChecksumErrors, "link %llu side %u seq %llu: malformed FIN",
                   (unsigned long long)l.st.link, l.st.side, (unsigned long long)hdr.seq);
          CloseHandles(handles, nh);
          break;
        }
        memcpy(&fin, payload, sizeof(fin));
        if (fin.sent != hdr.seq || fin.sent != l.st.recv_seq) {
          w_.Error(kOrderErrors,
                   "link %llu side %u: FIN says %llu messages were sent, %llu arrived",
                   (unsigned long long)l.st.link, l.st.side, (unsigned long long)fin.sent,
                   (unsigned long long)l.st.recv_seq);
        }
        if (fin.send_hash != l.st.recv_hash) {
          w_.Error(kChecksumErrors,
                   "link %llu side %u: running hash of %llu messages: sender %016llx, "
                   "receiver %016llx",
                   (unsigned long long)l.st.link, l.st.side, (unsigned long long)fin.sent,
                   (unsigned long long)fin.send_hash, (unsigned long long)l.st.recv_hash);
        }
        l.fin_received = true;
        break;
      }
      default:
        w_.Error(kOrderErrors, "link %llu side %u seq %llu: unknown kind %u",
                 (unsigned long long)l.st.link, l.st.side, (unsigned long long)hdr.seq, hdr.kind);
        CloseHandles(handles, nh);
        break;
    }
  }
  l.st.recv_hash = StreamHash(l.st.recv_hash, hdr.seq, hdr.kind, len, payload_hash);
  l.st.recv_seq = hdr.seq + 1;
  w_.Add(kMsgsVerified);
  w_.Add(kBytesVerified, nb);
}

bool LinkThread::VerifyAttachment(const Link& l, const MsgHeader& hdr, const AttachDesc& d,
                                  mx_handle_t h) {
  mx_info_handle_basic_t info = BasicInfo(h);
  bool ok = true;
  char what[160] = "";
  switch (d.kind) {
    case kAttachEvent: {
      mx_signals_t observed = 0;
      mx_status_t st = mx_object_wait_one(h, 0, 0, &observed);
      if (info.type != MX_OBJ_TYPE_EVENT || st != MX_ERR_TIMED_OUT ||
          (observed & MX_EVENT_SIGNAL_MASK) != d.aux) {
        snprintf(what, sizeof(what), "event: type %u, signals %08x, expected %08x (%s)", info.type,
                 observed & MX_EVENT_SIGNAL_MASK, d.aux, StatusName(st));
        ok = false;
      }
      mx_handle_close(h);
      break;
    }
    case kAttachFd: {
      int fd = -1;
      mx_status_t st = info.type == MX_OBJ_TYPE_FD ? mx_fd_unwrap(h, &fd) : MX_ERR_WRONG_TYPE;
      if (st != MX_OK) {
        snprintf(what, sizeof(what), "fd: type %u, unwrap %s", info.type, StatusName(st));
        mx_handle_close(h);
        ok = false;
        break;
      }
      uint64_t token = 0;
      ssize_t n = read(fd, &token, sizeof(token));
      if (n != sizeof(token) || token != d.token) {
        snprintf(what, sizeof(what), "fd: read %zd bytes, token %016llx, expected %016llx", n,
                 (unsigned long long)token, (unsigned long long)d.token);
        ok = false;
      }
      close(fd);
      break;
    }
    case kAttachCargo:
      if (info.type != MX_OBJ_TYPE_CHANNEL) {
        snprintf(what, sizeof(what), "cargo: type %u", info.type);
        mx_handle_close(h);
        ok = false;
        break;
      }
      return VerifyCargo(l, d, h);
    default:
      snprintf(what, sizeof(what), "unknown attachment kind %u", d.kind);
      mx_handle_close(h);
      ok = false;
      break;
  }
  if (ok) {
    w_.Add(kHandlesVerified);
  } else {
    w_.Error(kHandleErrors, "link %llu side %u seq %llu: %s", (unsigned long long)l.st.link,
             l.st.side, (unsigned long long)hdr.seq, what);
  }
  return ok;
}

// A cargo channel: |d.aux| messages were written into its peer before it was sent, then the peer
// was closed. All of them must be readable, in order, then PEER_CLOSED.
bool LinkThread::VerifyCargo(const Link& l, const AttachDesc& d, mx_handle_t q) {
  bool ok = true;
  const mx_time_t deadline = mx_deadline_after(MX_SEC(20));
  for (uint32_t i = 0; i <= d.aux && ok; ++i) {
    mx_signals_t observed = 0;
    mx_status_t st =
        mx_object_wait_one(q, MX_CHANNEL_READABLE | MX_CHANNEL_PEER_CLOSED, deadline, &observed);
    if (st != MX_OK) {
      w_.Error(kHandleErrors, "link %llu side %u: cargo %016llx message %u: wait %s",
               (unsigned long long)l.st.link, l.st.side, (unsigned long long)d.token, i,
               StatusName(st));
      ok = false;
      break;
    }
    CargoMsg m;
    mx_handle_t hs[4];
    uint32_t nb = 0, nh = 0;
    st = mx_channel_read(q, 0, &m, hs, sizeof(m), 4, &nb, &nh);
    if (i == d.aux) {  // all read: the peer is gone, nothing else is queued
      if (st != MX_ERR_PEER_CLOSED) {
        w_.Error(kHandleErrors, "link %llu side %u: cargo %016llx: after %u messages read %s",
                 (unsigned long long)l.st.link, l.st.side, (unsigned long long)d.token, d.aux,
                 StatusName(st));
        if (st == MX_OK) CloseHandles(hs, nh);
        ok = false;
      }
      break;
    }
    if (st != MX_OK || nb != sizeof(m) || m.token != d.token || m.index != i || m.count != d.aux) {
      w_.Error(kHandleErrors,
               "link %llu side %u: cargo %016llx message %u: %s, %u bytes, "
               "token %016llx index %u",
               (unsigned long long)l.st.link, l.st.side, (unsigned long long)d.token, i,
               StatusName(st), nb, (unsigned long long)m.token, m.index);
      if (st == MX_OK) CloseHandles(hs, nh);
      ok = false;
      break;
    }
    w_.Add(kMsgsVerified);
    w_.Add(kBytesVerified, nb);
    const bool want_event = (i + 1 == d.aux) && (d.token & 1);
    if (nh != (want_event ? 1u : 0u)) {
      w_.Error(kHandleErrors, "link %llu side %u: cargo message %u has %u handles",
               (unsigned long long)l.st.link, l.st.side, i, nh);
      CloseHandles(hs, nh);
      ok = false;
      break;
    }
    if (want_event) {
      mx_signals_t sig = 0;
      mx_object_wait_one(hs[0], 0, 0, &sig);
      if (BasicInfo(hs[0]).type != MX_OBJ_TYPE_EVENT ||
          (sig & MX_EVENT_SIGNAL_MASK) != kCargoEventSignal) {
        w_.Error(kHandleErrors, "link %llu side %u: cargo event wrong (signals %08x)",
                 (unsigned long long)l.st.link, l.st.side, sig);
        ok = false;
      } else {
        w_.Add(kHandlesVerified);
      }
      mx_handle_close(hs[0]);
    }
  }
  mx_handle_close(q);
  if (ok) w_.Add(kHandlesVerified);
  return ok;
}

}  // namespace mx_soak
