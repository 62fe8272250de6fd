// SPDX-License-Identifier: BSD-3-Clause
// The worker process's main: connect, take links, run the threads, drain, report.
#include "worker.h"

namespace mx_soak {

int WorkerMain(const Options& opt) {
  prctl(PR_SET_PDEATHSIG, SIGKILL);
  if (getppid() != static_cast<pid_t>(opt.parent_pid)) return 4;  // the coordinator is gone
  // Backstop: a worker never outlives the longest possible run.
  alarm(static_cast<unsigned>(opt.seconds + opt.drain + 120));
  // The fd counts are taken while this process holds no handle at all: the baseline before it
  // connects to the coordinator, the final count after it closed everything, the control
  // channel included. So the only startup handle is a pipe (unwrapped into a plain fd at once)
  // on which the final count goes out, and the control channel comes from a named rendezvous.
  mx_handle_t count_handle = mx_get_startup_handle(PA_HND(PA_USER0, 0));
  int count_fd = -1;
  if (count_handle == MX_HANDLE_INVALID || mx_fd_unwrap(count_handle, &count_fd) != MX_OK ||
      opt.service.empty()) {
    fprintf(stderr,
            "mx_soak: worker without its startup handle (run mx_soak without --worker-index)\n");
    return 2;
  }
  auto w = std::make_unique<Worker>();
  w->opt = opt;
  w->index = opt.worker_index;
  WarmUp();
  const int fd_baseline = CountOpenFds();
  const std::string fds_before = DescribeFds();
  mx_handle_t ctrl = MX_HANDLE_INVALID;
  mx_status_t connected = mx_service_connect(opt.service.c_str(), 0, &ctrl);
  if (connected != MX_OK) {
    fprintf(stderr, "mx_soak[worker %d]: mx_service_connect(%s): %s\n", w->index,
            opt.service.c_str(), StatusName(connected));
    return 4;
  }
  CtrlMsg hello = {};
  hello.magic = kCtrlMagic;
  hello.kind = kCtrlHello;
  hello.fd_baseline = fd_baseline;
  hello.num_outcomes = static_cast<uint32_t>(w->index);  // who is calling
  if (WriteCtrl(ctrl, hello) != MX_OK) return 4;

  for (int i = 0; i < opt.threads; ++i) {
    auto t = std::make_unique<ThreadCtx>();
    t->index = i;
    t->seed = Mix(Mix(opt.seed, static_cast<uint64_t>(opt.worker_index) + 1000), i);
    if (mx_event_create(0, &t->doorbell) != MX_OK) {
      fprintf(stderr, "mx_soak[worker %d]: mx_event_create failed\n", w->index);
      return 1;
    }
    w->threads.push_back(std::move(t));
  }
  for (auto& t : w->threads) {
    ThreadCtx* tp = t.get();
    Worker* wp = w.get();
    t->thread = std::thread([wp, tp] { LinkThread(*wp, *tp).Run(); });
  }
  for (int i = 0; i < opt.callers; ++i) {
    Worker* wp = w.get();
    const uint64_t seed =
        Mix(Mix(opt.seed, static_cast<uint64_t>(opt.worker_index) + 1000), 100 + i);
    w->calls.threads.emplace_back([wp, seed] { CallerMain(*wp, seed); });
  }

  // The control loop: links arrive, stats go out, STOP ends the traffic.
  size_t next_thread = 0;
  mx_time_t next_stats = 0;
  const mx_time_t hard_deadline = DeadlineAfterSeconds(opt.seconds + opt.drain + 60);
  bool stop = false;
  int rc = 0;
  while (!stop) {
    const mx_time_t now = mx_time_get(MX_CLOCK_MONOTONIC);
    if (now > hard_deadline) {
      w->Error(kOtherErrors, "no STOP from the coordinator");
      break;
    }
    if (now >= next_stats) {
      CtrlMsg m = {};
      m.magic = kCtrlMagic;
      m.kind = kCtrlStats;
      m.stats = w->Snapshot();
      WriteCtrl(ctrl, m);
      next_stats = now + MX_MSEC(500);
    }
    mx_signals_t observed = 0;
    mx_status_t st = mx_object_wait_one(ctrl, MX_CHANNEL_READABLE | MX_CHANNEL_PEER_CLOSED,
                                        std::min(next_stats, hard_deadline), &observed);
    if (st == MX_ERR_TIMED_OUT) continue;
    for (;;) {
      CtrlMsg m;
      mx_handle_t h[1];
      uint32_t nb = 0, nh = 0;
      st = mx_channel_read(ctrl, 0, &m, h, sizeof(m), 1, &nb, &nh);
      if (st == MX_ERR_SHOULD_WAIT) break;
      if (st == MX_ERR_PEER_CLOSED) _exit(4);  // the coordinator died
      if (st != MX_OK || nb != sizeof(m) || m.magic != kCtrlMagic) {
        w->Error(kOtherErrors, "bad control message (%s, %u bytes)", StatusName(st), nb);
        if (st == MX_OK) CloseHandles(h, nh);
        continue;
      }
      if (m.kind == kCtrlAddLink && nh == 1 && m.link.type == kCall && m.link.side == 0) {
        auto c = std::make_unique<CallLink>();
        c->st = m.link;
        c->h = h[0];
        std::lock_guard<std::mutex> lock(w->calls.mu);
        w->calls.links.push_back(std::move(c));
      } else if (m.kind == kCtrlAddLink && nh == 1) {
        Link l;
        l.st = m.link;
        l.h = h[0];
        w->Push(*w->threads[next_thread++ % w->threads.size()], l);
      } else if (m.kind == kCtrlStop) {
        CloseHandles(h, nh);
        stop = true;
        break;
      } else {
        w->Error(kOtherErrors, "unexpected control message kind %u", m.kind);
        CloseHandles(h, nh);
      }
    }
  }

  // Stop: every thread sends FIN on its links, waits for the peer's, closes them and exits.
  w->drain_deadline.store(DeadlineAfterSeconds(opt.drain));
  w->stopping.store(true);
  for (auto& t : w->threads) mx_object_signal(t->doorbell, 0, MX_EVENT_SIGNALED);
  for (auto& t : w->calls.threads) t.join();
  FinishCallLinks(*w);  // while the link threads still serve the call links of other workers
  for (auto& t : w->threads) t->thread.join();
  for (auto& t : w->threads) {
    if (!t->inbox.empty())
      w->Error(kOtherErrors, "thread %d exited with links in its inbox", t->index);
    mx_handle_close(t->doorbell);
  }
  // Report: the link outcomes in batches, then the totals.
  for (size_t i = 0; i < w->outcomes.size(); i += kOutcomesPerMsg) {
    const size_t n = std::min<size_t>(kOutcomesPerMsg, w->outcomes.size() - i);
    CtrlMsg m = {};
    m.magic = kCtrlMagic;
    m.kind = kCtrlOutcomes;
    m.num_outcomes = static_cast<uint32_t>(n);
    if (WriteCtrl(ctrl, m, &w->outcomes[i], n * sizeof(Outcome)) != MX_OK) rc = 1;
  }
  CtrlMsg report = {};
  report.magic = kCtrlMagic;
  report.kind = kCtrlReport;
  report.fd_baseline = fd_baseline;
  report.fd_final = -1;  // follows on the pipe
  report.stats = w->Snapshot();
  if (WriteCtrl(ctrl, report) != MX_OK) rc = 1;
  mx_handle_close(ctrl);

  // No handle is left: the fds must be exactly those of the start.
  const int32_t fd_final = CountOpenFds();
  if (fd_final != fd_baseline) {
    w->Error(kOtherErrors,
             "open fds: %d at start, %d with every handle closed\n  before:%s\n  after: %s",
             fd_baseline, fd_final, fds_before.c_str(), DescribeFds().c_str());
    rc = 1;
  }
  if (write(count_fd, &fd_final, sizeof(fd_final)) != sizeof(fd_final)) rc = 1;
  close(count_fd);
  if (ErrorCount(report.stats) != 0) rc = 1;
  return rc;
}

}  // namespace mx_soak
