// SPDX-License-Identifier: BSD-3-Clause
// The coordinator's run: start the workers, kill while traffic flows, stop, drain, and judge.
#include "coordinator.h"

extern char** environ;

namespace mx_soak {

int Coordinator::Run() {
  char path[PATH_MAX + 1];
  ssize_t n = readlink("/proc/self/exe", path, PATH_MAX);
  if (n <= 0) {
    perror("mx_soak: readlink /proc/self/exe");
    return 2;
  }
  exe_.assign(path, static_cast<size_t>(n));
  for (char** e = environ; *e; ++e) {
    if (strncmp(*e, "MX_CHANNEL_BUFFER_BYTES=", 24) == 0 && opt_.buffer_bytes != 0) continue;
    env_.push_back(*e);
  }
  if (opt_.buffer_bytes != 0)
    env_.push_back("MX_CHANNEL_BUFFER_BYTES=" + std::to_string(opt_.buffer_bytes));

  // Lazily created libmx state first, then the baseline.
  mx_process_self();
  WarmUp();
  const int fd_baseline = CountOpenFds();
  service_ = "@mx_soak." + std::to_string(getpid()) + "." + std::to_string(opt_.seed);
  mx_status_t listening = mx_service_listen(service_.c_str(), 0, &listener_);
  if (listening != MX_OK) {
    fprintf(stderr, "mx_soak: mx_service_listen(%s): %s\n", service_.c_str(),
            StatusName(listening));
    return 1;
  }
  const double t0 = Now();

  for (int i = 0; i < opt_.workers; ++i) {
    if (!Spawn()) return 1;
  }
  for (int i = 0; i < opt_.workers; ++i) LinkUp(i);

  const double end = Now() + opt_.seconds;
  double next_kill = opt_.kill_every > 0 ? Now() + opt_.kill_every * (0.5 + rng_.Unit()) : 1e300;
  while (Now() < end) {
    const double until = std::min(end, next_kill);
    Poll(DeadlineAfterSeconds(std::max(0.0, std::min(until - Now(), 0.25))));
    if (Now() >= next_kill && Now() < end) {
      KillOne();
      // A replacement keeps the number of workers up, with fresh links.
      if (Spawn()) LinkUp(static_cast<int>(workers_.size()) - 1);
      next_kill = Now() + opt_.kill_every * (0.5 + rng_.Unit());
    }
  }
  const double traffic_seconds = Now() - t0;

  // Stop phase.
  for (auto& w : workers_) {
    if (!w.alive) continue;
    CtrlMsg m = {};
    m.magic = kCtrlMagic;
    m.kind = kCtrlStop;
    mx_status_t st = WriteCtrl(w.ctrl, m);
    if (st != MX_OK) Violation("worker %d: sending STOP: %s", w.index, StatusName(st));
  }
  // Collect every survivor's report, reading all control channels as messages come.
  const mx_time_t report_deadline = DeadlineAfterSeconds(opt_.drain + 30);
  for (;;) {
    std::vector<mx_wait_item_t> items;
    std::vector<int> who;
    for (auto& w : workers_) {
      if (!w.alive || w.reported) continue;
      items.push_back({w.ctrl, MX_CHANNEL_READABLE | MX_CHANNEL_PEER_CLOSED, 0});
      who.push_back(w.index);
    }
    if (items.empty()) break;
    mx_status_t st =
        mx_object_wait_many(items.data(), static_cast<uint32_t>(items.size()), report_deadline);
    if (st != MX_OK) {
      for (int i : who) Violation("worker %d: no report (%s)", i, StatusName(st));
      break;
    }
    for (size_t i = 0; i < who.size(); ++i) {
      if (!(items[i].pending & (MX_CHANNEL_READABLE | MX_CHANNEL_PEER_CLOSED))) continue;
      WorkerRec& w = workers_[who[i]];
      if (!ReadCtrl(w) && !w.reported) {
        Violation("worker %d: control channel closed without a report", w.index);
        w.reported = true;  // nothing more will come
      }
    }
  }
  for (auto& w : workers_) {
    if (!w.alive) continue;
    int code = 0;
    mx_status_t st = mx_object_wait_one(w.process, MX_PROCESS_TERMINATED,
                                        mx_deadline_after(MX_SEC(30)), nullptr);
    mx_info_process_t info = {};
    if (st == MX_OK)
      st = mx_object_get_info(w.process, MX_INFO_PROCESS, &info, sizeof(info), nullptr, nullptr);
    if (st != MX_OK || !info.exited) {
      Violation("worker %d did not exit (%s)", w.index, StatusName(st));
      mx_task_kill(w.process);
      mx_object_wait_one(w.process, MX_PROCESS_TERMINATED, mx_deadline_after(MX_SEC(10)), nullptr);
    } else {
      code = info.return_code;
      if (code != 0) Violation("worker %d exited with %d", w.index, code);
    }
    w.exit_code = code;
    // The fd count it took after closing every handle (the pipe is at EOF if it died first).
    int32_t count = -1;
    if (read(w.count_pipe, &count, sizeof(count)) != sizeof(count)) {
      Violation("worker %d did not report its final fd count", w.index);
    } else {
      w.fd_final = count;
    }
  }
  const double total_seconds = Now() - t0;

  // The links: both ends in survivors => closed cleanly on both sides with matching counts;
  // one end reported as cut => the other end died with a killed worker.
  uint64_t clean = 0, cut = 0, lost = 0;
  for (auto& [id, l] : links_) {
    for (int s = 0; s < 2; ++s) {
      if (l.reports[s] > 1)
        Violation("link %llu side %d reported %d times", (unsigned long long)id, s, l.reports[s]);
    }
    const bool r0 = l.reports[0] > 0, r1 = l.reports[1] > 0;
    if (r0 && r1) {
      if (l.out[0].kind != kOutcomeClean || l.out[1].kind != kOutcomeClean) {
        Violation("link %llu: both ends survived but ended %u / %u (1 clean, 2 cut, 3 error)",
                  (unsigned long long)id, l.out[0].kind, l.out[1].kind);
      } else if (l.out[0].sent != l.out[1].received || l.out[1].sent != l.out[0].received) {
        Violation("link %llu: side 0 sent %llu received %llu, side 1 sent %llu received %llu",
                  (unsigned long long)id, (unsigned long long)l.out[0].sent,
                  (unsigned long long)l.out[0].received, (unsigned long long)l.out[1].sent,
                  (unsigned long long)l.out[1].received);
      } else {
        ++clean;
      }
    } else if (r0 || r1) {
      const Outcome& o = l.out[r0 ? 0 : 1];
      if (o.kind == kOutcomeCut && kills_ > 0) {
        ++cut;
      } else {
        Violation(
            "link %llu: side %d ended %u (1 clean, 2 cut, 3 error) but side %d was not "
            "reported by any survivor (%d kills)",
            (unsigned long long)id, r0 ? 0 : 1, o.kind, r0 ? 1 : 0, kills_);
      }
    } else {
      if (kills_ == 0) Violation("link %llu: neither end was reported", (unsigned long long)id);
      ++lost;
    }
  }

  // Totals: survivors' final reports plus killed workers' last stats.
  Stats total = {};
  int fd_leaked = 0, survivors = 0;
  for (auto& w : workers_) {
    for (uint32_t i = 0; i < kNumCounters; ++i) total.v[i] += w.stats.v[i];
    if (!w.killed) {
      ++survivors;
      if (!w.reported || w.fd_final < 0) continue;  // already a violation
      if (w.fd_final != w.fd_baseline) {
        Violation("worker %d: %d fds at start, %d after closing every handle", w.index,
                  w.fd_baseline, w.fd_final);
        fd_leaked += std::abs(w.fd_final - w.fd_baseline);
      }
      if (opt_.verbose)
        fprintf(stderr, "mx_soak: worker %d: %llu messages verified, fds %d -> %d\n", w.index,
                (unsigned long long)w.stats.v[kMsgsVerified], w.fd_baseline, w.fd_final);
    }
  }
  const uint64_t worker_errors = ErrorCount(total);
  for (auto& w : workers_) {
    if (w.ctrl != MX_HANDLE_INVALID) mx_handle_close(w.ctrl);
    if (w.process != MX_HANDLE_INVALID) mx_handle_close(w.process);
    if (w.count_pipe >= 0) close(w.count_pipe);
    w.ctrl = w.process = MX_HANDLE_INVALID;
    w.count_pipe = -1;
  }
  mx_handle_close(listener_);
  const int fd_end = CountOpenFds();
  if (fd_end != fd_baseline) {
    Violation("coordinator: %d fds at start, %d at the end", fd_baseline, fd_end);
    fd_leaked += std::abs(fd_end - fd_baseline);
  }
  if (worker_errors != 0) Violation("workers found %llu errors", (unsigned long long)worker_errors);
  if (kills_ == 0) {
    // Nothing died, so everything sent arrived and was checked.
    if (total.v[kMsgsSent] != total.v[kMsgsVerified] ||
        total.v[kBytesSent] != total.v[kBytesVerified] ||
        total.v[kHandlesSent] != total.v[kHandlesVerified]) {
      Violation(
          "no kills, yet sent != verified: %llu/%llu messages, %llu/%llu bytes, %llu/%llu "
          "handles",
          (unsigned long long)total.v[kMsgsSent], (unsigned long long)total.v[kMsgsVerified],
          (unsigned long long)total.v[kBytesSent], (unsigned long long)total.v[kBytesVerified],
          (unsigned long long)total.v[kHandlesSent], (unsigned long long)total.v[kHandlesVerified]);
    }
  }

  auto u = [](uint64_t v) { return static_cast<unsigned long long>(v); };
  printf("\n== mx_soak: %.1f s of traffic (%.1f s in all), seed %llu ==\n", traffic_seconds,
         total_seconds, u(opt_.seed));
  printf(
      "processes            %d workers x %d threads alive at a time; %zu spawned, %d killed "
      "(SIGKILL), %d survived\n",
      opt_.workers, opt_.threads, workers_.size(), kills_, survivors);
  printf("messages exchanged   %llu sent, %llu received and verified (%.0f/s)\n",
         u(total.v[kMsgsSent]), u(total.v[kMsgsVerified]),
         static_cast<double>(total.v[kMsgsVerified]) / std::max(traffic_seconds, 1e-3));
  printf("bytes                %llu sent, %llu verified (%.1f MiB)\n", u(total.v[kBytesSent]),
         u(total.v[kBytesVerified]), static_cast<double>(total.v[kBytesVerified]) / 1048576.0);
  printf(
      "handles transferred  %llu by workers (%llu events, %llu fds, %llu cargo channels, "
      "%llu endpoint hops), %llu verified on arrival; %llu by the coordinator\n",
      u(total.v[kHandlesSent]), u(total.v[kEventsSent]), u(total.v[kFdsSent]),
      u(total.v[kCargoSent]), u(total.v[kHops]), u(total.v[kHandlesVerified]),
      u(coordinator_handles_sent_));
  printf(
      "channel calls        %llu answered and verified (up to %d threads calling on one "
      "endpoint), "
      "%llu failed with PEER_CLOSED (server killed)\n",
      u(total.v[kCallsOk]), opt_.callers, u(total.v[kCallsPeerClosed]));
  printf("thread hand-offs     %llu; writes refused by backpressure: %llu\n", u(total.v[kHandoffs]),
         u(total.v[kShouldWait]));
  printf(
      "links                %zu created: %llu closed cleanly on both ends, %llu cut by kills "
      "(survivor saw PEER_CLOSED), %llu lost with both ends in killed workers; "
      "PEER_CLOSED seen on %llu links in all\n",
      links_.size(), u(clean), u(cut), u(lost), u(total.v[kLinksCut]));
  printf("ordering errors      %llu\n", u(total.v[kOrderErrors]));
  printf("checksum errors      %llu\n", u(total.v[kChecksumErrors]));
  printf("handle errors        %llu\n", u(total.v[kHandleErrors]));
  printf("other errors         %llu\n", u(total.v[kOtherErrors]));
  printf("fds leaked           %d (%d surviving workers + the coordinator)\n", fd_leaked,
         survivors);
  printf("violations           %d\n", violations_);
  printf("RESULT: %s\n", violations_ == 0 ? "PASS" : "FAIL");
  fflush(stdout);
  return violations_ == 0 ? 0 : 1;
}

}  // namespace mx_soak
