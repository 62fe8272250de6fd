// SPDX-License-Identifier: BSD-3-Clause
#include "worker.h"

namespace mx_soak {

// A caller thread: mx_channel_call on a random call link of this worker, many threads at once on
// one endpoint, until STOP. Each reply is checked against its request's txid.
void CallerMain(Worker& w, uint64_t seed) {
  Rng rng(seed);
  std::vector<uint8_t> req, reply(MX_CHANNEL_MAX_MSG_BYTES), expect;
  while (!w.stopping.load()) {
    CallLink* c = nullptr;
    {
      std::lock_guard<std::mutex> lock(w.calls.mu);
      std::vector<CallLink*> live;
      for (auto& l : w.calls.links)
        if (!l->dead.load()) live.push_back(l.get());
      if (!live.empty()) c = live[rng.Below(static_cast<uint32_t>(live.size()))];
    }
    if (c == nullptr) {
      mx_nanosleep(mx_deadline_after(MX_MSEC(5)));
      continue;
    }
    const uint32_t txid = w.calls.next_txid.fetch_add(1) | 0x80000000u;  // never 0
    MsgHeader hdr = {};
    hdr.txid = txid;
    hdr.magic = kMsgMagic;
    hdr.kind = kCallRequest;
    hdr.side = 0;
    hdr.link = c->st.link;
    hdr.seq = txid;
    hdr.payload_len = rng.Below(4097);
    req.resize(sizeof(hdr) + hdr.payload_len);
    FillPattern(req.data() + sizeof(hdr), hdr.payload_len, c->st.link, 0, txid);
    hdr.payload_hash = Fnv1a(req.data() + sizeof(hdr), hdr.payload_len);
    mx_handle_t hs[1];
    uint32_t nh = 0;
    if (rng.Chance(250)) {
      hdr.attach[0].kind = kAttachEvent;
      hdr.attach[0].aux = static_cast<uint32_t>(rng.Next()) & MX_EVENT_SIGNAL_MASK;
      if (mx_event_create(0, &hs[0]) == MX_OK) {
        mx_object_signal(hs[0], 0, hdr.attach[0].aux);
        nh = 1;
      }
    }
    hdr.num_attach = nh;
    memcpy(req.data(), &hdr, sizeof(hdr));
    mx_handle_t rh[4];
    uint32_t ab = 0, ah = 0;
    mx_status_t rs = MX_OK;
    mx_channel_call_args_t args = {req.data(),
                                   nh ? hs : nullptr,
                                   reply.data(),
                                   rh,
                                   static_cast<uint32_t>(req.size()),
                                   nh,
                                   static_cast<uint32_t>(reply.size()),
                                   4};
    mx_status_t st =
        mx_channel_call(c->h, 0, DeadlineAfterSeconds(w.opt.call_timeout), &args, &ab, &ah, &rs);
    // Write-phase failures: the request did not go out and the caller keeps its handles.
    if (st == MX_ERR_SHOULD_WAIT) {
      CloseHandles(hs, nh);
      w.Add(kShouldWait);
      mx_nanosleep(mx_deadline_after(MX_MSEC(1)));
      continue;
    }
    if (st == MX_ERR_PEER_CLOSED) {
      CloseHandles(hs, nh);
      c->dead.store(true);
      continue;
    }
    if (st != MX_OK && st != MX_ERR_CALL_FAILED && st != MX_ERR_TIMED_OUT) {
      CloseHandles(hs, nh);
      w.Error(kOtherErrors, "call link %llu: mx_channel_call: %s", (unsigned long long)c->st.link,
              StatusName(st));
      continue;
    }
    c->requests.fetch_add(1);
    w.Add(kMsgsSent);
    w.Add(kBytesSent, req.size());
    w.Add(kHandlesSent, nh);
    w.Add(kEventsSent, nh);
    if (st == MX_ERR_TIMED_OUT) {
      w.Error(kOtherErrors, "call link %llu: call %08x got no reply in %g s",
              (unsigned long long)c->st.link, txid, w.opt.call_timeout);
      continue;
    }
    if (st == MX_ERR_CALL_FAILED) {
      if (rs == MX_ERR_PEER_CLOSED) {
        c->dead.store(true);  // the server was killed
        w.Add(kCallsPeerClosed);
      } else {
        w.Error(kOtherErrors, "call link %llu: call %08x: CALL_FAILED / %s",
                (unsigned long long)c->st.link, txid, StatusName(rs));
      }
      continue;
    }
    c->replies.fetch_add(1);
    // The reply: same txid, the server's pattern, the handles it announced.
    MsgHeader got;
    bool ok = ab >= sizeof(got);
    if (ok) {
      memcpy(&got, reply.data(), sizeof(got));
      const uint32_t len = ab - static_cast<uint32_t>(sizeof(got));
      expect.resize(len);
      FillPattern(expect.data(), len, c->st.link, 1, txid);
      ok = got.txid == txid && got.magic == kMsgMagic && got.kind == kCallReply && got.side == 1 &&
           got.link == c->st.link && got.seq == txid && got.payload_len == len &&
           got.payload_hash == Fnv1a(reply.data() + sizeof(got), len) &&
           SameBytes(expect.data(), reply.data() + sizeof(got), len);
      if (!ok) {
        w.Error(kChecksumErrors,
                "call link %llu: call %08x: wrong reply (txid %08x kind %u, "
                "%u bytes)",
                (unsigned long long)c->st.link, txid, got.txid, got.kind, ab);
      } else if (got.num_attach != ah) {
        w.Error(kHandleErrors, "call link %llu: call %08x: reply has %u handles, header says %u",
                (unsigned long long)c->st.link, txid, ah, got.num_attach);
      } else {
        for (uint32_t i = 0; i < ah; ++i) {
          mx_signals_t sig = 0;
          mx_object_wait_one(rh[i], 0, 0, &sig);
          if (BasicInfo(rh[i]).type != MX_OBJ_TYPE_EVENT ||
              (sig & MX_EVENT_SIGNAL_MASK) != got.attach[i].aux) {
            w.Error(kHandleErrors,
                    "call link %llu: call %08x: reply event signals %08x, "
                    "expected %08x",
                    (unsigned long long)c->st.link, txid, sig & MX_EVENT_SIGNAL_MASK,
                    got.attach[i].aux);
          } else {
            w.Add(kHandlesVerified);
          }
        }
      }
    } else {
      w.Error(kChecksumErrors, "call link %llu: call %08x: a %u-byte reply",
              (unsigned long long)c->st.link, txid, ab);
    }
    CloseHandles(rh, ah);
    w.Add(kMsgsVerified);
    w.Add(kBytesVerified, ab);
    if (ok) w.Add(kCallsOk);
  }
}

// After STOP and once the caller threads are done: FIN on each call link (the request count), then
// wait for the server to close its end.
void FinishCallLinks(Worker& w) {
  for (auto& c : w.calls.links) {
    OutcomeKind kind = kOutcomeCut;
    if (!c->dead.load()) {
      MsgHeader hdr = {};
      hdr.magic = kMsgMagic;
      hdr.kind = kFin;
      hdr.side = 0;
      hdr.link = c->st.link;
      hdr.seq = c->requests.load();
      FinPayload fin = {c->requests.load(), 0};
      hdr.payload_len = sizeof(fin);
      hdr.payload_hash = Fnv1a(&fin, sizeof(fin));
      uint8_t bytes[sizeof(hdr) + sizeof(fin)];
      memcpy(bytes, &hdr, sizeof(hdr));
      memcpy(bytes + sizeof(hdr), &fin, sizeof(fin));
      const mx_time_t deadline = w.drain_deadline.load();
      mx_status_t st;
      for (;;) {
        st = mx_channel_write(c->h, 0, bytes, sizeof(bytes), nullptr, 0);
        if (st != MX_ERR_SHOULD_WAIT) break;
        st = mx_object_wait_one(c->h, MX_CHANNEL_WRITABLE | MX_CHANNEL_PEER_CLOSED, deadline,
                                nullptr);
        if (st != MX_OK) break;
      }
      if (st == MX_OK) {
        w.Add(kMsgsSent);
        w.Add(kBytesSent, sizeof(bytes));
        // Nothing may arrive any more (every call has its reply): only PEER_CLOSED.
        st = mx_object_wait_one(c->h, MX_CHANNEL_PEER_CLOSED, deadline, nullptr);
        uint32_t nb = 0, nh = 0;
        mx_status_t rs =
            mx_channel_read(c->h, MX_CHANNEL_READ_MAY_DISCARD, nullptr, nullptr, 0, 0, &nb, &nh);
        if (st != MX_OK) {
          w.Error(kOtherErrors, "call link %llu: the server did not close after FIN (%s)",
                  (unsigned long long)c->st.link, StatusName(st));
          kind = kOutcomeError;
        } else if (rs != MX_ERR_PEER_CLOSED) {
          w.Error(kOtherErrors, "call link %llu: a message nobody called for (%s, %u bytes)",
                  (unsigned long long)c->st.link, StatusName(rs), nb);
          kind = kOutcomeError;
        } else {
          kind = kOutcomeClean;
        }
      } else if (st != MX_ERR_PEER_CLOSED) {
        w.Error(kOtherErrors, "call link %llu: writing FIN: %s", (unsigned long long)c->st.link,
                StatusName(st));
        kind = kOutcomeError;
      }
    }
    if (kind == kOutcomeCut && w.opt.verbose)
      fprintf(stderr, "mx_soak[worker %d]: call link %llu: the server is gone\n", w.index,
              (unsigned long long)c->st.link);
    w.Record(c->st, kind, c->requests.load(), c->replies.load());
    mx_handle_close(c->h);
    c->h = MX_HANDLE_INVALID;
  }
}

}  // namespace mx_soak
