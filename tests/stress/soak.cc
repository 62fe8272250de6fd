// SPDX-License-Identifier: BSD-3-Clause
// mx_soak: a stress / soak run of libmx between real processes (see
// docs/RELIABILITY.md). `mx_soak --help` lists the options; tools/soak.sh runs it long.
//
// The coordinator (this process) spawns N worker processes (itself, with mx_spawn) and wires them
// into a random graph of channels ("links"). Each worker runs M threads; every thread owns some
// link endpoints and, for --seconds, reads everything that arrives on them and writes messages
// carrying handles: events (with signals set), fds (a pipe holding a token), fresh channels with
// messages already queued inside ("cargo"), and whole link endpoints — *roaming* links hop from
// process to process inside messages on the *static* links, with their unread messages, and
// links hop between the threads of a process. Every message carries its link, sender side,
// per-direction sequence number and a checksum; the payload is regenerated from (link, side, seq)
// and compared byte for byte; every handle is checked on arrival (type, event signals, the pipe's
// token, the cargo's messages). The sequence numbers and a running hash of each direction travel
// with a roaming endpoint, so ordering and content are checked end to end across hops. On *call*
// links, --callers threads per worker call (mx_channel_call) at once on one endpoint; the server
// side answers each request, and each reply is checked against its txid.
//
// Meanwhile the coordinator SIGKILLs a random worker (mx_task_kill) every --kill-every seconds on
// average and spawns a replacement with fresh links. Survivors see PEER_CLOSED on links to killed
// processes (calls fail with CALL_FAILED / PEER_CLOSED), close them and carry on. At the end the
// coordinator sends STOP; every thread then sends FIN (message count + running hash) on each link
// and closes it once FIN came back, so a link between two survivors is checked complete. The
// coordinator cross-checks what each survivor reports about each link (a link between two
// survivors must have closed cleanly on both sides with matching counts; a link cut by
// PEER_CLOSED must have lost its other end to a kill; with no kills, every message and handle sent
// must have been verified).
//
// Fd accounting: a worker counts its open fds (/proc/self/fd) while it holds no handle at all —
// before it connects to the coordinator's named rendezvous (mx_service_connect; its only startup
// handle is a pipe, unwrapped to a plain fd at once), and again after it has closed every handle,
// the control channel included — and sends the final count on the pipe. The coordinator counts its
// own fds the same way. Any difference is a leak.
//
// Bounded: every wait has a deadline, workers die with the coordinator (PR_SET_PDEATHSIG) and have
// an alarm() backstop, and the coordinator has a watchdog thread that ends the run (exit 3) at
// --seconds + --drain + 60 s. Exit codes: 0 pass, 1 violation, 2 usage, 3 watchdog.
//
// The files, by job (namespace mx_soak):
//   soak.cc             main(): worker or coordinator, the seed, the watchdog
//   soak.h, options.cc  the options; small helpers, counters, link and control message layouts
//   util.cc             fd listing, time, status names, WarmUp, the control-channel write
//   worker.h            a worker's state, its threads and LinkThread
//   link_thread.cc      LinkThread's loop and reading side (calls served, handoffs, PEER_CLOSED)
//   checks.cc           the checks of each arriving message and handle
//   link_writer.cc      LinkThread's writing side (data, FIN, roaming endpoints)
//   caller.cc           the caller threads of call links
//   worker.cc           the worker process's main
//   coordinator.h/.cc   the coordinator: spawn, link, read reports, kill
//   coordinator_run.cc  the coordinator's run and its verdict
#include "coordinator.h"
#include "worker.h"

int main(int argc, char** argv) {
  using namespace mx_soak;
  Options opt;
  if (!ParseOptions(argc, argv, &opt)) {
    Usage(stderr);
    return 2;
  }
  if (opt.worker_index >= 0) return WorkerMain(opt);

  if (!opt.seed_given) {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    uint64_t s = static_cast<uint64_t>(ts.tv_nsec) ^ (static_cast<uint64_t>(ts.tv_sec) << 20) ^
                 static_cast<uint64_t>(getpid());
    opt.seed = SplitMix(&s) & 0xffffffffffffull;
  }
  printf(
      "mx_soak: seed %llu; rerun with: %s --seed %llu --seconds %g --workers %d --threads %d "
      "--degree %d --roaming %d --call-links %d --callers %d --kill-every %g --max-bytes %u "
      "--buffer-bytes %u\n",
      static_cast<unsigned long long>(opt.seed), argv[0], static_cast<unsigned long long>(opt.seed),
      opt.seconds, opt.workers, opt.threads, opt.degree, opt.roaming, opt.call_links, opt.callers,
      opt.kill_every, opt.max_bytes, opt.buffer_bytes);
  fflush(stdout);

  // The watchdog: whatever happens, the run ends. Workers die with us (PR_SET_PDEATHSIG).
  const double limit = opt.seconds + opt.drain + 60;
  std::thread([limit] {
    const double end = Now() + limit;
    while (Now() < end) {
      struct timespec ts = {1, 0};
      nanosleep(&ts, nullptr);
    }
    static const char msg[] = "mx_soak: WATCHDOG: the run did not finish in time; giving up\n";
    ssize_t ignored = write(2, msg, sizeof(msg) - 1);
    (void)ignored;
    _exit(3);
  }).detach();

  Coordinator c(opt);
  return c.Run();
}
