// SPDX-License-Identifier: BSD-3-Clause
// The coordinator's pieces: spawning, linking, reading reports, killing.
#include "coordinator.h"

extern char** environ;

namespace mx_soak {

void Coordinator::Violation(const char* fmt, ...) {
  ++violations_;
  if (violations_ > 50) return;
  char buf[512];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(buf, sizeof(buf), fmt, ap);
  va_end(ap);
  fprintf(stderr, "mx_soak: VIOLATION: %s\n", buf);
}

bool Coordinator::Spawn() {
  WorkerRec w;
  w.index = static_cast<int>(workers_.size());
  mx_handle_t count_write;
  int pipe_fds[2];
  if (pipe2(pipe_fds, O_CLOEXEC) != 0 || mx_fd_wrap(pipe_fds[1], &count_write) != MX_OK) {
    Violation("pipe2 / mx_fd_wrap failed");
    return false;
  }
  w.count_pipe = pipe_fds[0];
  auto fmt = [](double v) {
    char b[32];
    snprintf(b, sizeof(b), "%g", v);
    return std::string(b);
  };
  std::vector<std::string> args = {exe_,
                                   "--worker-index",
                                   std::to_string(w.index),
                                   "--parent-pid",
                                   std::to_string(getpid()),
                                   "--service",
                                   service_,
                                   "--seed",
                                   std::to_string(opt_.seed),
                                   "--seconds",
                                   fmt(opt_.seconds),
                                   "--threads",
                                   std::to_string(opt_.threads),
                                   "--callers",
                                   std::to_string(opt_.callers),
                                   "--call-timeout",
                                   fmt(opt_.call_timeout),
                                   "--max-bytes",
                                   std::to_string(opt_.max_bytes),
                                   "--drain",
                                   fmt(opt_.drain)};
  if (opt_.verbose) args.push_back("--verbose");
  std::vector<const char*> argv;
  for (const auto& a : args) argv.push_back(a.c_str());
  argv.push_back(nullptr);
  std::vector<const char*> envp;
  for (const auto& e : env_) envp.push_back(e.c_str());
  envp.push_back(nullptr);
  mx_spawn_handle_t sh = {PA_HND(PA_USER0, 0), count_write};
  mx_status_t st = mx_spawn(exe_.c_str(), argv.data(), envp.data(), &sh, 1, &w.process);
  if (st != MX_OK) {
    Violation("mx_spawn: %s", StatusName(st));
    mx_handle_close(count_write);
    close(w.count_pipe);
    return false;
  }
  coordinator_handles_sent_ += 1;
  w.alive = true;
  workers_.push_back(w);
  if (!WaitHello(workers_.back())) return false;
  if (opt_.verbose)
    fprintf(stderr, "mx_soak: worker %d started (fds %d)\n", w.index, workers_.back().fd_baseline);
  return true;
}

// The new worker connects to our rendezvous and says hello with its index.
bool Coordinator::WaitHello(WorkerRec& w) {
  const mx_time_t deadline = mx_deadline_after(MX_SEC(60));
  CtrlMsg m;
  uint32_t nb = 0, nh = 0;
  mx_status_t st = mx_object_wait_one(listener_, MX_SERVICE_READABLE, deadline, nullptr);
  if (st == MX_OK) st = mx_service_accept(listener_, &w.ctrl);
  if (st == MX_OK)
    st =
        mx_object_wait_one(w.ctrl, MX_CHANNEL_READABLE | MX_CHANNEL_PEER_CLOSED, deadline, nullptr);
  if (st == MX_OK) st = mx_channel_read(w.ctrl, 0, &m, nullptr, sizeof(m), 0, &nb, &nh);
  if (st != MX_OK || nb != sizeof(m) || m.magic != kCtrlMagic || m.kind != kCtrlHello ||
      m.num_outcomes != static_cast<uint32_t>(w.index)) {
    Violation("worker %d: no hello (%s)", w.index, StatusName(st));
    mx_task_kill(w.process);
    w.alive = false;
    return false;
  }
  w.fd_baseline = m.fd_baseline;
  return true;
}

void Coordinator::SendLink(WorkerRec& w, uint64_t id, uint32_t side, LinkType type, mx_handle_t h,
                           mx_koid_t koid, mx_koid_t peer_koid) {
  CtrlMsg m = {};
  m.magic = kCtrlMagic;
  m.kind = kCtrlAddLink;
  m.link.link = id;
  m.link.side = side;
  m.link.type = type;
  m.link.send_hash = kFnvOffset;
  m.link.recv_hash = kFnvOffset;
  m.link.koid = koid;
  m.link.peer_koid = peer_koid;
  mx_status_t st = WriteCtrl(w.ctrl, m, nullptr, 0, &h, 1);
  if (st == MX_OK) {
    ++coordinator_handles_sent_;
  } else {
    // The worker died on its own (a kill is the only expected way, and kills are ours).
    Violation("worker %d: sending link %llu: %s", w.index, (unsigned long long)id, StatusName(st));
    mx_handle_close(h);
  }
}

void Coordinator::NewLink(int a, int b, LinkType type) {
  if (a < 0 || b < 0) return;
  mx_handle_t h0, h1;
  if (mx_channel_create(0, &h0, &h1) != MX_OK) {
    Violation("mx_channel_create failed");
    return;
  }
  const uint64_t id = next_link_++;
  links_[id].type = type;
  const mx_koid_t k0 = BasicInfo(h0).koid, k1 = BasicInfo(h1).koid;
  SendLink(workers_[a], id, 0, type, h0, k0, k1);
  SendLink(workers_[b], id, 1, type, h1, k1, k0);
}

// The links of a new worker: |degree| static links to random others; |roaming| roaming links whose
// other end is anywhere (possibly itself); |call_links| call links on which it calls another.
void Coordinator::LinkUp(int fresh) {
  for (int k = 0; k < opt_.degree; ++k) NewLink(fresh, PickAlive(fresh), kStatic);
  for (int k = 0; k < opt_.roaming; ++k) NewLink(fresh, PickAlive(-1), kRoaming);
  if (opt_.callers > 0)
    for (int k = 0; k < opt_.call_links; ++k) NewLink(fresh, PickAlive(fresh), kCall);
}

int Coordinator::PickAlive(int exclude) {
  std::vector<int> alive;
  for (const auto& w : workers_)
    if (w.alive && w.index != exclude) alive.push_back(w.index);
  if (alive.empty()) return -1;
  return alive[rng_.Below(static_cast<uint32_t>(alive.size()))];
}

bool Coordinator::ReadCtrl(WorkerRec& w) {
  std::vector<uint8_t>& bytes = ctrl_buf_;
  bytes.resize(MX_CHANNEL_MAX_MSG_BYTES);
  for (;;) {
    mx_handle_t h[4];
    uint32_t nb = 0, nh = 0;
    mx_status_t st = mx_channel_read(w.ctrl, 0, bytes.data(), h,
                                     static_cast<uint32_t>(bytes.size()), 4, &nb, &nh);
    if (st == MX_ERR_SHOULD_WAIT) return true;
    if (st == MX_ERR_PEER_CLOSED) return false;
    if (st != MX_OK) {
      Violation("worker %d: reading its control channel: %s", w.index, StatusName(st));
      return false;
    }
    CloseHandles(h, nh);
    CtrlMsg m;
    if (nb < sizeof(m)) {
      Violation("worker %d: short control message", w.index);
      continue;
    }
    memcpy(&m, bytes.data(), sizeof(m));
    if (m.magic != kCtrlMagic) {
      Violation("worker %d: bad control message", w.index);
      continue;
    }
    switch (m.kind) {
      case kCtrlStats:
        w.stats = m.stats;
        break;
      case kCtrlOutcomes: {
        if (nb != sizeof(m) + m.num_outcomes * sizeof(Outcome)) {
          Violation("worker %d: outcome batch of the wrong size", w.index);
          break;
        }
        for (uint32_t i = 0; i < m.num_outcomes; ++i) {
          Outcome o;
          memcpy(&o, bytes.data() + sizeof(m) + i * sizeof(Outcome), sizeof(o));
          auto it = links_.find(o.link);
          if (it == links_.end() || o.side > 1) {
            Violation("worker %d reported unknown link %llu side %u", w.index,
                      (unsigned long long)o.link, o.side);
            continue;
          }
          it->second.reports[o.side]++;
          it->second.out[o.side] = o;
        }
        break;
      }
      case kCtrlReport:
        w.stats = m.stats;
        w.reported = true;
        w.fd_baseline = m.fd_baseline;
        break;
      default:
        Violation("worker %d: unexpected control message kind %u", w.index, m.kind);
        break;
    }
  }
}

// Reads control messages and notices workers that die on their own, until |deadline|.
void Coordinator::Poll(mx_time_t deadline) {
  std::vector<mx_wait_item_t> items;
  std::vector<int> who;
  for (const auto& w : workers_) {
    if (!w.alive) continue;
    items.push_back({w.ctrl, MX_CHANNEL_READABLE | MX_CHANNEL_PEER_CLOSED, 0});
    items.push_back({w.process, MX_PROCESS_TERMINATED, 0});
    who.push_back(w.index);
  }
  if (items.empty()) {
    mx_nanosleep(deadline);
    return;
  }
  mx_status_t st = mx_object_wait_many(items.data(), static_cast<uint32_t>(items.size()), deadline);
  if (st == MX_ERR_TIMED_OUT) return;
  if (st != MX_OK) {
    Violation("coordinator: mx_object_wait_many: %s", StatusName(st));
    return;
  }
  for (size_t i = 0; i < who.size(); ++i) {
    WorkerRec& w = workers_[who[i]];
    if (items[2 * i].pending & MX_CHANNEL_READABLE) ReadCtrl(w);
    if (items[2 * i + 1].pending & MX_PROCESS_TERMINATED) {
      ReadCtrl(w);
      mx_info_process_t info = {};
      mx_object_get_info(w.process, MX_INFO_PROCESS, &info, sizeof(info), nullptr, nullptr);
      Violation("worker %d exited on its own with code %d", w.index, info.return_code);
      w.alive = false;
      w.exit_code = info.return_code;
    }
  }
}

void Coordinator::KillOne() {
  const int victim = PickAlive(-1);
  if (victim < 0) return;
  WorkerRec& w = workers_[victim];
  if (opt_.verbose) fprintf(stderr, "mx_soak: SIGKILL worker %d\n", w.index);
  mx_status_t st = mx_task_kill(w.process);
  if (st != MX_OK) {
    Violation("mx_task_kill(worker %d): %s", w.index, StatusName(st));
    return;
  }
  w.alive = false;
  w.killed = true;
  ++kills_;
  st = mx_object_wait_one(w.process, MX_PROCESS_TERMINATED, mx_deadline_after(MX_SEC(30)), nullptr);
  mx_info_process_t info = {};
  if (st == MX_OK)
    st = mx_object_get_info(w.process, MX_INFO_PROCESS, &info, sizeof(info), nullptr, nullptr);
  if (st != MX_OK || !info.exited) {
    Violation("worker %d: not terminated 30 s after SIGKILL (%s)", w.index, StatusName(st));
  } else if (info.return_code != -SIGKILL) {
    // It may have died of something else just before; that is a failure too.
    Violation("worker %d: return code %d after SIGKILL, expected %d", w.index, info.return_code,
              -SIGKILL);
  }
  w.exit_code = info.return_code;
  // Its end of the control channel is gone: PEER_CLOSED, after whatever it wrote before dying.
  st = mx_object_wait_one(w.ctrl, MX_CHANNEL_PEER_CLOSED, mx_deadline_after(MX_SEC(30)), nullptr);
  if (st != MX_OK)
    Violation("worker %d: no PEER_CLOSED on its control channel after SIGKILL (%s)", w.index,
              StatusName(st));
  ReadCtrl(w);  // its last stats
  // Done with it (a long run kills thousands of workers: keep no fds for the dead).
  mx_handle_close(w.ctrl);
  mx_handle_close(w.process);
  close(w.count_pipe);
  w.ctrl = w.process = MX_HANDLE_INVALID;
  w.count_pipe = -1;
}

}  // namespace mx_soak
