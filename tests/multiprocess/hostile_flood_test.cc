// SPDX-License-Identifier: BSD-3-Clause
// Floods from a hostile peer: control frames, fds, and handle descriptors that cost memory.
//
// Each attacker is a real child process holding the raw SOCK_SEQPACKET socket under a libmx
// endpoint (it reaches the victim through a named rendezvous, doing the Hello by hand; see
// tests/support/wire_layout.h). The victim runs in a child of its own too, so that it can lower
// its limits (RLIMIT_NOFILE, RLIMIT_AS) and measure its peak memory (ru_maxrss) without touching
// the test binary. The victim reports its figures to the test over a channel; each test prints
// them as "[attack] <name>: ..." and checks them with loose bounds:
//   - ControlFloodDoesNotHoldWaitsPastTheirDeadline: kick and signal frames keep the victim's
//     socket full for up to 20 s; a wait, a poll, a read and a call with 0.5 s deadlines each
//     come back within 3 s.
//   - FdFloodLeavesOtherChannelsAndTheFdTableAlone: under RLIMIT_NOFILE 512, a peer sends 64-byte
//     messages with one fd each while the victim only waits; the victim's fd table grows by at
//     most the 32 fds a wait may queue (the refresh limit), an innocent client's messages with fds
//     still arrive, mx_event_create still works, and a read that lacks fd headroom returns
//     NO_RESOURCES and keeps its message.
//   - DescriptorHeavyRepliesToACallAreBounded: 84 KB frames of 64 handle descriptors (no fds)
//     with the wrong txid answer a pending mx_channel_call; the victim neither aborts nor grows
//     by more than a bounded amount.
//   - WaitingServerWithSixteenHostileClientsIsBounded: a server that only waits on 16 channels
//     flooded with such frames stays within a bounded peak RSS; the wait does not spin once the
//     clients hang up.
//   - AllocationFailureWhileReceivingBreaksOnlyThatChannel: the allocation of a received
//     frame's payload fails (an injected std::bad_alloc, see below); that channel reads as
//     closed, the process lives on and its other channels work.
// Outside sanitizers the victims of the last two cap their address space, so that unbounded
// growth ends in an allocation failure quickly instead of exhausting the machine.
#include <errno.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <magenta/service.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstddef>
#include <cstdlib>
#include <new>
#include <string>
#include <vector>

#include "support/multiprocess.h"
#include "support/wire_layout.h"

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define MX_FLOOD_TEST_SANITIZED 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer)
#define MX_FLOOD_TEST_SANITIZED 1
#endif
#endif

// Allocation failure on demand: while g_fail_allocation_size is non-zero, every operator new of
// exactly that many bytes throws std::bad_alloc, in the process that armed it (a victim child).
// The sanitizers bring their own operator new; there the test that needs this is skipped.
std::atomic<size_t> g_fail_allocation_size{0};
std::atomic<int> g_failed_allocations{0};

#ifndef MX_FLOOD_TEST_SANITIZED
// GCC 12 at -O3 takes the malloc/free pair inside a replaced operator new/delete for a mismatch.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"
#endif
void* operator new(size_t size) {
  if (size != 0 && size == g_fail_allocation_size.load(std::memory_order_relaxed)) {
    g_failed_allocations.fetch_add(1, std::memory_order_relaxed);
    throw std::bad_alloc();
  }
  void* p = malloc(size == 0 ? 1 : size);
  if (p == nullptr) throw std::bad_alloc();
  return p;
}
void operator delete(void* p) noexcept { free(p); }
void operator delete(void* p, size_t) noexcept { free(p); }
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic pop
#endif
#endif

namespace {

using namespace mx_test::wire;
using mx_test::Message;

#ifdef MX_FLOOD_TEST_SANITIZED
constexpr bool kSanitized = true;
#else
constexpr bool kSanitized = false;
#endif

// How long an attacker floods at most (it stops earlier once the victim hangs up).
constexpr mx_duration_t kFloodFor = MX_SEC(20);
constexpr uint32_t kVictimTxid = 0x12345678u;
constexpr uint32_t kWrongTxid = 0xbad0bad0u;

double MsSince(mx_time_t start) {
  return static_cast<double>(mx_time_get(MX_CLOCK_MONOTONIC) - start) / 1e6;
}

// Open fds of this process, counted without opening one (a full table cannot list /proc/self/fd):
// Linux 6.2 and later report the count as the size of /proc/self/fd; -1 where it does not.
long OpenFdsWithoutAnFd() {
  struct stat st;
  if (stat("/proc/self/fd", &st) != 0 || st.st_size == 0) return -1;
  return static_cast<long>(st.st_size);
}

long MaxRssKib() {
  struct rusage ru = {};
  getrusage(RUSAGE_SELF, &ru);
  return ru.ru_maxrss;
}

size_t VmSizeBytes() {
  FILE* f = fopen("/proc/self/status", "r");
  if (f == nullptr) return 0;
  char line[256];
  size_t kib = 0;
  while (fgets(line, sizeof(line), f) != nullptr) {
    if (sscanf(line, "VmSize: %zu kB", &kib) == 1) break;
  }
  fclose(f);
  return kib * 1024;
}

// Caps the address space 768 MiB above what the process uses now (not under sanitizers, whose
// shadow memory needs terabytes of address space): a victim whose memory grows without bound
// then meets an allocation failure within seconds.
void CapAddressSpace() {
  if (kSanitized) return;
  struct rlimit lim;
  CHILD_CHECK(getrlimit(RLIMIT_AS, &lim) == 0);
  lim.rlim_cur = VmSizeBytes() + (size_t{768} << 20);
  CHILD_CHECK(setrlimit(RLIMIT_AS, &lim) == 0);
}

mx_handle_t AcceptOne(mx_handle_t listener) {
  const mx_time_t deadline = mx_test::DefaultDeadline();
  for (;;) {
    CHILD_CHECK_OK(mx_object_wait_one(listener, MX_SERVICE_READABLE, deadline, nullptr));
    mx_handle_t ch = MX_HANDLE_INVALID;
    mx_status_t st = mx_service_accept(listener, &ch);
    if (st == MX_OK) return ch;
    CHILD_CHECK_EQ(st, MX_ERR_SHOULD_WAIT);
  }
}

// ---- Attackers
// ------------------------------------------------------------------------------------

// True while the victim still holds its end (a send did not fail with EPIPE / ECONNRESET).
bool Alive(int err) { return err != EPIPE && err != ECONNRESET; }

// Sends |frames| (one datagram each, no fds) with one sendmmsg; returns how many the kernel took
// and sets |*err| to the errno of the first it refused (0 if all went).
size_t SendBatch(int sock, const std::vector<std::vector<uint8_t>>& frames, int* err) {
  std::vector<struct iovec> iov(frames.size());
  std::vector<struct mmsghdr> msgs(frames.size());
  for (size_t i = 0; i < frames.size(); ++i) {
    iov[i] = {const_cast<uint8_t*>(frames[i].data()), frames[i].size()};
    msgs[i] = {};
    msgs[i].msg_hdr.msg_iov = &iov[i];
    msgs[i].msg_hdr.msg_iovlen = 1;
  }
  int n =
      sendmmsg(sock, msgs.data(), static_cast<unsigned>(msgs.size()), MSG_DONTWAIT | MSG_NOSIGNAL);
  *err = 0;
  if (n < 0) {
    *err = errno;
    return 0;
  }
  if (static_cast<size_t>(n) < frames.size()) {
    // Why the rest were refused: ask again for the next one alone.
    if (send(sock, frames[n].data(), frames[n].size(), MSG_DONTWAIT | MSG_NOSIGNAL) < 0) {
      *err = errno;
    } else {
      ++n;
    }
  }
  return static_cast<size_t>(n);
}

// Keeps the victim's socket as full as the kernel allows: on a full socket, retry at once
// (yielding the CPU) so that every datagram the victim takes is replaced right away, and sleep in
// poll() only after a long run of refusals (a victim that stopped reading).
class Refiller {
 public:
  void Refused(int sock) {
    if (++refusals_ < 2000) {
      sched_yield();
      return;
    }
    struct pollfd p = {sock, POLLOUT, 0};
    poll(&p, 1, 10);
  }
  void Sent() { refusals_ = 0; }

 private:
  int refusals_ = 0;
};

// The largest send buffer an unprivileged process may ask for (the kernel caps it).
void GrowSendBuffer(int sock) {
  int bytes = 64 << 20;
  setsockopt(sock, SOL_SOCKET, SO_SNDBUF, &bytes, sizeof(bytes));
}

// What an attacker tells the test when it is done.
struct AttackerReport {
  uint64_t frames;
  uint64_t fds;
  double seconds;
};

// Kick frames and signal frames (USER_SIGNAL_1 toggled), 64 per system call, after one signal
// frame that sets USER_SIGNAL_0 (the victim's cue that the flood has begun).
void FloodControl(int sock, AttackerReport* report) {
  FrameSpec cue(kFrameSignal, 0, std::string(8, '\0'));
  uint32_t masks[2] = {0, MX_USER_SIGNAL_0};
  memcpy(cue.payload.data(), masks, sizeof(masks));
  CHILD_CHECK_EQ(SendOn(sock, cue.Encode().data(), cue.Encode().size(), nullptr, 0), 0);
  std::vector<std::vector<uint8_t>> batch;
  for (int i = 0; i < 64; ++i) {
    if (i % 2 == 0) {
      batch.push_back(FrameSpec(kFrameKick, 0).Encode());
    } else {
      FrameSpec sig(kFrameSignal, 0, std::string(8, '\0'));
      uint32_t toggle[2] = {(i % 4 == 1) ? 0u : MX_USER_SIGNAL_1,
                            (i % 4 == 1) ? MX_USER_SIGNAL_1 : 0u};
      memcpy(sig.payload.data(), toggle, sizeof(toggle));
      batch.push_back(sig.Encode());
    }
  }
  GrowSendBuffer(sock);
  Refiller refiller;
  const mx_time_t start = mx_time_get(MX_CLOCK_MONOTONIC);
  const mx_time_t end = start + kFloodFor;
  report->frames = 1;
  while (mx_time_get(MX_CLOCK_MONOTONIC) < end) {
    int err = 0;
    size_t n = SendBatch(sock, batch, &err);
    report->frames += n;
    if (!Alive(err)) break;
    if (n > 0) refiller.Sent();
    if (err == EAGAIN) refiller.Refused(sock);
  }
  report->seconds = MsSince(start) / 1e3;
}

// 64-byte messages with one fd each (an fd handle: a copy of /dev/null), in sequence order.
void FloodFds(int sock, AttackerReport* report) {
  int devnull = open("/dev/null", O_RDONLY | O_CLOEXEC);
  CHILD_CHECK(devnull >= 0);
  std::vector<uint8_t> desc;
  AppendHandle(&desc, MX_OBJ_TYPE_FD, 1);
  const mx_time_t start = mx_time_get(MX_CLOCK_MONOTONIC);
  const mx_time_t end = start + kFloodFor;
  uint64_t seq = 0;
  while (mx_time_get(MX_CLOCK_MONOTONIC) < end) {
    std::vector<uint8_t> frame =
        FrameSpec(kFrameData, seq, std::string(64, 'f'), desc, 1, 1).Encode();
    struct iovec iov = {frame.data(), frame.size()};
    struct msghdr msg = {};
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    alignas(struct cmsghdr) char control[CMSG_SPACE(sizeof(int))] = {};
    msg.msg_control = control;
    msg.msg_controllen = sizeof(control);
    struct cmsghdr* c = CMSG_FIRSTHDR(&msg);
    c->cmsg_level = SOL_SOCKET;
    c->cmsg_type = SCM_RIGHTS;
    c->cmsg_len = CMSG_LEN(sizeof(int));
    memcpy(CMSG_DATA(c), &devnull, sizeof(int));
    if (sendmsg(sock, &msg, MSG_DONTWAIT | MSG_NOSIGNAL) >= 0) {
      ++seq;
      ++report->frames;
      ++report->fds;
      continue;
    }
    if (errno == EINTR) continue;
    if (errno == EAGAIN || errno == ETOOMANYREFS) {
      struct pollfd p = {sock, POLLOUT, 0};
      poll(&p, 1, 10);
      continue;
    }
    break;
  }
  close(devnull);
  report->seconds = MsSince(start) / 1e3;
}

// A frame of 64 handle descriptors with 1279 extra bytes each and no fds, 84 KB in all, with the
// wrong txid: as large as a frame may be, and costly to hold once decoded. The sequence number
// is patched in place for each send.
std::vector<uint8_t> HeavyFrame(uint64_t seq) {
  std::vector<uint8_t> desc;
  std::vector<uint8_t> extra(1279, 0x5a);
  for (int i = 0; i < 64; ++i) {
    AppendHandle(&desc, MX_OBJ_TYPE_VMO, 0, extra.data(), static_cast<uint32_t>(extra.size()));
  }
  std::string txid(4, '\0');
  memcpy(txid.data(), &kWrongTxid, sizeof(kWrongTxid));
  return FrameSpec(kFrameData, seq, txid, desc, 64, 0).Encode();
}

// Heavy frames on every socket, round robin, until each victim endpoint hung up or time is up.
// A well-formed message of kOddPayload bytes: a size nothing else in the victim allocates.
constexpr size_t kOddPayload = 65001;
std::vector<uint8_t> OddFrame(uint64_t seq) {
  return FrameSpec(kFrameData, seq, std::string(kOddPayload, 'o')).Encode();
}

void FloodFrames(const std::vector<int>& socks, std::vector<uint8_t> (*make)(uint64_t),
                 AttackerReport* report) {
  std::vector<uint64_t> seqs(socks.size(), 0);
  std::vector<bool> alive(socks.size(), true);
  size_t live = socks.size();
  for (int sock : socks) GrowSendBuffer(sock);
  std::vector<uint8_t> frame = make(0);
  Refiller refiller;
  const mx_time_t start = mx_time_get(MX_CLOCK_MONOTONIC);
  const mx_time_t end = start + kFloodFor;
  while (live > 0 && mx_time_get(MX_CLOCK_MONOTONIC) < end) {
    bool sent_any = false;
    for (size_t i = 0; i < socks.size(); ++i) {
      if (!alive[i]) continue;
      memcpy(frame.data() + offsetof(FrameHeader, seq), &seqs[i], sizeof(uint64_t));
      if (send(socks[i], frame.data(), frame.size(), MSG_DONTWAIT | MSG_NOSIGNAL) >= 0) {
        ++seqs[i];
        ++report->frames;
        sent_any = true;
      } else if (!Alive(errno)) {
        alive[i] = false;
        --live;
      }
    }
    if (sent_any) {
      refiller.Sent();
    } else if (live > 0) {
      refiller.Refused(socks[0]);
    }
  }
  report->seconds = MsSince(start) / 1e3;
}

// args: mode ("control", "fds", "heavy"), service, connections. PA_USER0: a channel to the test.
// Tells the test once it is connected, floods, then reports.
MX_CHILD(flood_attacker) {
  CHILD_CHECK_EQ(args.size(), 3u);
  const std::string& mode = args[0];
  const int connections = std::stoi(args[2]);
  mx_handle_t ctl = mx_test::TakeStartupHandle(PA_HND(PA_USER0, 0));
  if (mx_test::CanBecomeAnotherUser()) CHILD_CHECK(mx_test::BecomeNobody());
  std::vector<int> socks;
  for (int i = 0; i < connections; ++i) {
    int sock = -1;
    CHILD_CHECK_EQ(ConnectRawPeer(args[1], &sock, 0x7e57000000000100ull + 0x10u * i), 0);
    socks.push_back(sock);
  }
  CHILD_CHECK_OK(mx_test::WriteMessage(ctl, "connected", 9));
  AttackerReport report = {};
  if (mode == "control") {
    FloodControl(socks[0], &report);
  } else if (mode == "fds") {
    FloodFds(socks[0], &report);
  } else if (mode == "odd") {
    FloodFrames(socks, OddFrame, &report);
  } else {
    CHILD_CHECK(mode == "heavy");
    FloodFrames(socks, HeavyFrame, &report);
  }
  for (int sock : socks) close(sock);
  CHILD_CHECK_OK(mx_test::WritePod(ctl, report));
  mx_handle_close(ctl);
  return 0;
}

// A well-behaved libmx client: connects, then answers each request with a message that carries
// one fd handle (a copy of /dev/null) and echoes the request's bytes.
MX_CHILD(innocent_client) {
  CHILD_CHECK_EQ(args.size(), 1u);
  mx_handle_t ch = MX_HANDLE_INVALID;
  CHILD_CHECK_OK(mx_service_connect(args[0].c_str(), 0, &ch));
  for (;;) {
    Message request;
    mx_status_t st = mx_test::ReadMessage(ch, &request, mx_deadline_after(MX_SEC(120)));
    if (st == MX_ERR_PEER_CLOSED) break;
    CHILD_CHECK_OK(st);
    int fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
    CHILD_CHECK(fd >= 0);
    mx_handle_t h;
    CHILD_CHECK_OK(mx_fd_wrap(fd, &h));
    st = mx_test::WriteMessage(ch, request.bytes.data(), request.bytes.size(), {h});
    if (st == MX_ERR_PEER_CLOSED) break;
    CHILD_CHECK_OK(st);
  }
  mx_handle_close(ch);
  return 0;
}

// ---- Victims
// --------------------------------------------------------------------------------------

struct ControlReport {
  mx_status_t wait_status;
  double wait_ms;  // mx_object_wait_one for READABLE, 0.5 s deadline
  double poll_ms;  // mx_object_wait_one with deadline 0
  mx_status_t read_status;
  double read_ms;
  mx_status_t call_status;
  double call_ms;  // mx_channel_call, 0.5 s deadline
};

struct FdReport {
  long fd_limit;
  long fds_before;          // open fds once both channels were accepted
  long fds_after_wait;      // ... after the victim waited 1 s while flooded
  mx_status_t wait_status;  // that wait (for a user signal nobody sets)
  mx_signals_t attacker_signals;
  mx_status_t event_status;   // mx_event_create after the wait
  mx_status_t innocent_read;  // the innocent client's reply with an fd
  uint32_t innocent_handles;
  mx_status_t starved_read;  // the next reply, read with 8 free fds
  mx_status_t freed_read;    // the same read once fds were freed
  uint32_t freed_handles;
  char freed_text[8];
};

struct OomReport {
  int failed_allocations;   // injected failures
  mx_status_t wait_status;  // waiting for PEER_CLOSED on the attacked channel
  mx_signals_t signals;
  mx_status_t read_status;    // reading it afterwards
  mx_status_t other_channel;  // a write and read on another channel
  mx_status_t event_status;   // mx_event_create
};

struct MemoryReport {
  long rss_before_kib;
  long rss_after_kib;
  mx_status_t status;       // the call's (or the wait's) status
  mx_status_t read_status;  // the call's read status
  double ms;
};

// args: mode ("control", "fds", "call", "wait16"), service. PA_USER0: a channel to the test.
MX_CHILD(flood_victim) {
  CHILD_CHECK_EQ(args.size(), 2u);
  const std::string& mode = args[0];
  mx_handle_t ctl = mx_test::TakeStartupHandle(PA_HND(PA_USER0, 0));
  if (mode == "call" || mode == "wait16") CapAddressSpace();
  if (mode == "fds") {
    struct rlimit lim;
    CHILD_CHECK(getrlimit(RLIMIT_NOFILE, &lim) == 0);
    lim.rlim_cur = std::min<rlim_t>(lim.rlim_max, 512);
    CHILD_CHECK(setrlimit(RLIMIT_NOFILE, &lim) == 0);
  }
  mx_handle_t listener;
  CHILD_CHECK_OK(mx_service_listen(args[1].c_str(), 0, &listener));
  CHILD_CHECK_OK(mx_test::WriteMessage(ctl, "ready", 5));

  if (mode == "control") {
    mx_handle_t ch = AcceptOne(listener);
    CHILD_CHECK_OK(mx_object_wait_one(ch, MX_USER_SIGNAL_0, mx_test::DefaultDeadline(), nullptr));
    ControlReport r = {};
    mx_time_t t = mx_time_get(MX_CLOCK_MONOTONIC);
    r.wait_status = mx_object_wait_one(ch, MX_CHANNEL_READABLE, t + MX_MSEC(500), nullptr);
    r.wait_ms = MsSince(t);
    t = mx_time_get(MX_CLOCK_MONOTONIC);
    mx_signals_t pending = 0;
    mx_object_wait_one(ch, MX_CHANNEL_READABLE, 0, &pending);
    r.poll_ms = MsSince(t);
    t = mx_time_get(MX_CLOCK_MONOTONIC);
    char buf[64];
    uint32_t nb = 0, nh = 0;
    r.read_status = mx_channel_read(ch, 0, buf, nullptr, sizeof(buf), 0, &nb, &nh);
    r.read_ms = MsSince(t);
    uint32_t request = kVictimTxid, reply = 0;
    mx_channel_call_args_t call = {&request,        nullptr, &reply,        nullptr,
                                   sizeof(request), 0,       sizeof(reply), 0};
    mx_status_t rs = MX_OK;
    t = mx_time_get(MX_CLOCK_MONOTONIC);
    r.call_status = mx_channel_call(ch, 0, t + MX_MSEC(500), &call, &nb, &nh, &rs);
    r.call_ms = MsSince(t);
    mx_handle_close(ch);
    CHILD_CHECK_OK(mx_test::WritePod(ctl, r));
  } else if (mode == "fds") {
    mx_handle_t attacker = AcceptOne(listener);
    CHILD_CHECK_OK(mx_test::WriteMessage(ctl, "accepted", 8));
    mx_handle_t innocent = AcceptOne(listener);
    FdReport r = {};
    struct rlimit lim;
    getrlimit(RLIMIT_NOFILE, &lim);
    r.fd_limit = static_cast<long>(lim.rlim_cur);
    CHILD_CHECK_OK(
        mx_object_wait_one(attacker, MX_CHANNEL_READABLE, mx_test::DefaultDeadline(), nullptr));
    r.fds_before = OpenFdsWithoutAnFd();
    // A server that only waits, on both channels, for something that never comes.
    mx_wait_item_t items[2] = {{attacker, MX_USER_SIGNAL_7, 0}, {innocent, MX_USER_SIGNAL_7, 0}};
    r.wait_status = mx_object_wait_many(items, 2, mx_deadline_after(MX_SEC(1)));
    r.attacker_signals = items[0].pending;
    r.fds_after_wait = OpenFdsWithoutAnFd();
    mx_handle_t event = MX_HANDLE_INVALID;
    r.event_status = mx_event_create(0, &event);
    if (r.event_status == MX_OK) mx_handle_close(event);
    // The innocent client's reply carries an fd.
    CHILD_CHECK_OK(mx_test::WriteMessage(innocent, "one", 3));
    Message got;
    r.innocent_read = mx_test::ReadMessage(innocent, &got);
    r.innocent_handles = static_cast<uint32_t>(got.handles.size());
    mx_test::CloseAll(&got.handles);
    // Out of fd headroom: fill the table, leave 8 slots free, ask for another reply.
    std::vector<int> filler;
    for (;;) {
      int fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
      if (fd < 0) break;
      filler.push_back(fd);
    }
    for (int i = 0; i < 8 && !filler.empty(); ++i) {
      close(filler.back());
      filler.pop_back();
    }
    if (r.innocent_read == MX_OK) {
      CHILD_CHECK_OK(mx_test::WriteMessage(innocent, "two", 3));
      mx_object_wait_one(innocent, MX_CHANNEL_READABLE | MX_CHANNEL_PEER_CLOSED,
                         mx_test::DefaultDeadline(), nullptr);
      char buf[8] = {};
      mx_handle_t h = MX_HANDLE_INVALID;
      uint32_t nb = 0, nh = 0;
      r.starved_read = mx_channel_read(innocent, 0, buf, &h, sizeof(buf), 1, &nb, &nh);
      if (r.starved_read == MX_OK && nh == 1) mx_handle_close(h);
      for (int fd : filler) close(fd);
      filler.clear();
      if (r.starved_read != MX_OK) {
        r.freed_read = mx_channel_read(innocent, 0, buf, &h, sizeof(buf), 1, &nb, &nh);
        r.freed_handles = nh;
        memcpy(r.freed_text, buf, std::min<size_t>(nb, sizeof(r.freed_text) - 1));
        if (r.freed_read == MX_OK && nh == 1) mx_handle_close(h);
      }
    }
    for (int fd : filler) close(fd);
    mx_handle_close(innocent);
    mx_handle_close(attacker);
    CHILD_CHECK_OK(mx_test::WritePod(ctl, r));
  } else if (mode == "call") {
    mx_handle_t ch = AcceptOne(listener);
    MemoryReport r = {};
    r.rss_before_kib = MaxRssKib();
    uint32_t request = kVictimTxid, reply = 0, nb = 0, nh = 0;
    mx_channel_call_args_t call = {&request,        nullptr, &reply,        nullptr,
                                   sizeof(request), 0,       sizeof(reply), 0};
    mx_time_t t = mx_time_get(MX_CLOCK_MONOTONIC);
    r.status = mx_channel_call(ch, 0, t + MX_SEC(3), &call, &nb, &nh, &r.read_status);
    r.ms = MsSince(t);
    r.rss_after_kib = MaxRssKib();
    mx_handle_close(ch);
    CHILD_CHECK_OK(mx_test::WritePod(ctl, r));
  } else if (mode == "oom") {
    mx_handle_t ch = AcceptOne(listener);
    OomReport r = {};
    g_fail_allocation_size.store(kOddPayload, std::memory_order_relaxed);
    r.wait_status =
        mx_object_wait_one(ch, MX_CHANNEL_PEER_CLOSED, mx_test::DefaultDeadline(), &r.signals);
    g_fail_allocation_size.store(0, std::memory_order_relaxed);
    r.failed_allocations = g_failed_allocations.load(std::memory_order_relaxed);
    std::vector<uint8_t> buf(kOddPayload);
    uint32_t nb = 0, nh = 0;
    r.read_status =
        mx_channel_read(ch, 0, buf.data(), nullptr, static_cast<uint32_t>(buf.size()), 0, &nb, &nh);
    mx_handle_t a, b;
    r.other_channel = mx_channel_create(0, &a, &b);
    if (r.other_channel == MX_OK) {
      r.other_channel = mx_channel_write(a, 0, "ok", 2, nullptr, 0);
      char two[2];
      if (r.other_channel == MX_OK) {
        r.other_channel = mx_channel_read(b, 0, two, nullptr, 2, 0, &nb, &nh);
      }
      mx_handle_close(a);
      mx_handle_close(b);
    }
    mx_handle_t event;
    r.event_status = mx_event_create(0, &event);
    if (r.event_status == MX_OK) mx_handle_close(event);
    mx_handle_close(ch);
    CHILD_CHECK_OK(mx_test::WritePod(ctl, r));
  } else {
    CHILD_CHECK(mode == "wait16");
    std::vector<mx_wait_item_t> items;
    for (int i = 0; i < 16; ++i) items.push_back({AcceptOne(listener), MX_USER_SIGNAL_7, 0});
    MemoryReport r = {};
    r.rss_before_kib = MaxRssKib();
    mx_time_t t = mx_time_get(MX_CLOCK_MONOTONIC);
    r.status =
        mx_object_wait_many(items.data(), static_cast<uint32_t>(items.size()), t + MX_SEC(4));
    r.ms = MsSince(t);
    r.rss_after_kib = MaxRssKib();
    for (auto& item : items) mx_handle_close(item.handle);
    CHILD_CHECK_OK(mx_test::WritePod(ctl, r));
  }
  mx_handle_close(listener);
  mx_handle_close(ctl);
  return 0;
}

// ---- The tests
// ------------------------------------------------------------------------------------

std::atomic<uint32_t> g_service_counter{0};

class HostileFloodTest : public mx_test::MultiprocessTest {
 protected:
  // Spawns the victim in |mode| and waits until it listens.
  void StartVictim(const char* mode) {
    service_ =
        "@libmx-flood-" + std::to_string(getpid()) + "-" + std::to_string(g_service_counter++);
    mx_handle_t remote, process;
    ASSERT_EQ(mx_channel_create(0, &victim_ctl_, &remote), MX_OK);
    ASSERT_EQ(mx_test::SpawnChild("flood_victim", {{PA_HND(PA_USER0, 0), remote}}, {mode, service_},
                                  &process),
              MX_OK);
    victim_ = mx_test::ScopedProcess(process);
    Message ready;
    ASSERT_EQ(mx_test::ReadMessage(victim_ctl_, &ready), MX_OK);
  }

  // Spawns an attacker in |mode| with |connections| raw connections; waits until connected.
  void StartAttacker(const char* mode, int connections) {
    mx_handle_t remote, process;
    ASSERT_EQ(mx_channel_create(0, &attacker_ctl_, &remote), MX_OK);
    ASSERT_EQ(mx_test::SpawnChild("flood_attacker", {{PA_HND(PA_USER0, 0), remote}},
                                  {mode, service_, std::to_string(connections)}, &process),
              MX_OK);
    attacker_ = mx_test::ScopedProcess(process);
    Message connected;
    ASSERT_EQ(mx_test::ReadMessage(attacker_ctl_, &connected), MX_OK);
  }

  // The victim's report (it may take until an old victim's attacker gives up: 20 s).
  template <typename T>
  void VictimReport(T* report) {
    ASSERT_EQ(mx_test::ReadPod(victim_ctl_, report, nullptr, mx_deadline_after(MX_SEC(90))), MX_OK)
        << "the victim died (exit " << victim_.Join() << ")";
  }

  AttackerReport FinishAttacker() {
    AttackerReport report = {};
    EXPECT_EQ(mx_test::ReadPod(attacker_ctl_, &report, nullptr, mx_deadline_after(MX_SEC(60))),
              MX_OK);
    EXPECT_EQ(attacker_.Join(), 0);
    return report;
  }

  void TearDown() override {
    if (victim_ctl_ != MX_HANDLE_INVALID) mx_handle_close(victim_ctl_);
    if (attacker_ctl_ != MX_HANDLE_INVALID) mx_handle_close(attacker_ctl_);
    victim_ = mx_test::ScopedProcess();
    attacker_ = mx_test::ScopedProcess();
    MultiprocessTest::TearDown();
  }

  std::string service_;
  mx_handle_t victim_ctl_ = MX_HANDLE_INVALID;
  mx_handle_t attacker_ctl_ = MX_HANDLE_INVALID;
  mx_test::ScopedProcess victim_;
  mx_test::ScopedProcess attacker_;
};

TEST_F(HostileFloodTest, ControlFloodDoesNotHoldWaitsPastTheirDeadline) {
  ASSERT_NO_FATAL_FAILURE(StartVictim("control"));
  ASSERT_NO_FATAL_FAILURE(StartAttacker("control", 1));
  ControlReport r = {};
  ASSERT_NO_FATAL_FAILURE(VictimReport(&r));
  EXPECT_EQ(victim_.Join(), 0);
  AttackerReport a = FinishAttacker();
  printf(
      "[attack] control flood: %llu kick/signal frames in %.1f s; victim: wait(0.5 s) %s "
      "after %.0f ms, poll %.1f ms, read %s after %.1f ms, call(0.5 s) %s after %.0f ms\n",
      static_cast<unsigned long long>(a.frames), a.seconds, mx_test::StatusName(r.wait_status),
      r.wait_ms, r.poll_ms, mx_test::StatusName(r.read_status), r.read_ms,
      mx_test::StatusName(r.call_status), r.call_ms);
  EXPECT_EQ(r.wait_status, MX_ERR_TIMED_OUT);
  EXPECT_LT(r.wait_ms, 3000);
  EXPECT_LT(r.poll_ms, 3000);
  EXPECT_EQ(r.read_status, MX_ERR_SHOULD_WAIT);
  EXPECT_LT(r.read_ms, 3000);
  EXPECT_EQ(r.call_status, MX_ERR_TIMED_OUT);
  EXPECT_LT(r.call_ms, 3000);
}

TEST_F(HostileFloodTest, FdFloodLeavesOtherChannelsAndTheFdTableAlone) {
  ASSERT_NO_FATAL_FAILURE(StartVictim("fds"));
  ASSERT_NO_FATAL_FAILURE(StartAttacker("fds", 1));
  Message accepted;
  ASSERT_EQ(mx_test::ReadMessage(victim_ctl_, &accepted), MX_OK);
  mx_handle_t process;
  ASSERT_EQ(mx_test::SpawnChild("innocent_client", {}, {service_}, &process), MX_OK);
  mx_test::ScopedProcess innocent(process);
  FdReport r = {};
  ASSERT_NO_FATAL_FAILURE(VictimReport(&r));
  EXPECT_EQ(victim_.Join(), 0);
  EXPECT_EQ(innocent.Join(), 0);
  AttackerReport a = FinishAttacker();
  printf(
      "[attack] fd flood: %llu messages with %llu fds in %.1f s against RLIMIT_NOFILE %ld; "
      "victim's open fds %ld -> %ld after waiting (%s, attacker's channel signals 0x%x); "
      "mx_event_create %s; innocent channel's reply %s with %u handles; read with 8 free "
      "fds %s, after freeing %s with %u handles (\"%s\")\n",
      static_cast<unsigned long long>(a.frames), static_cast<unsigned long long>(a.fds), a.seconds,
      r.fd_limit, r.fds_before, r.fds_after_wait, mx_test::StatusName(r.wait_status),
      r.attacker_signals, mx_test::StatusName(r.event_status), mx_test::StatusName(r.innocent_read),
      r.innocent_handles, mx_test::StatusName(r.starved_read), mx_test::StatusName(r.freed_read),
      r.freed_handles, r.freed_text);
  EXPECT_EQ(r.wait_status, MX_ERR_TIMED_OUT);
  EXPECT_TRUE(r.attacker_signals & MX_CHANNEL_READABLE);
  // A wait installs the fds of the messages it queues, but only within the refresh limit
  // (128 KiB, each fd charged 4 KiB: fewer than 32 of the flood's fds), however long it waits;
  // the reader that takes them frees them. (It must install the head message's fds: else the
  // frames behind it, user signals and wake-ups, are never seen; see HeldMessageWakeupTest.)
  if (r.fds_before >= 0) {
    EXPECT_LE(r.fds_after_wait, r.fds_before + 4 + 32);
  }
  EXPECT_EQ(r.event_status, MX_OK);
  EXPECT_EQ(r.innocent_read, MX_OK);
  EXPECT_EQ(r.innocent_handles, 1u);
  EXPECT_EQ(r.starved_read, MX_ERR_NO_RESOURCES);
  EXPECT_EQ(r.freed_read, MX_OK);
  EXPECT_EQ(r.freed_handles, 1u);
  EXPECT_STREQ(r.freed_text, "two");
}

TEST_F(HostileFloodTest, DescriptorHeavyRepliesToACallAreBounded) {
  ASSERT_NO_FATAL_FAILURE(StartVictim("call"));
  ASSERT_NO_FATAL_FAILURE(StartAttacker("heavy", 1));
  MemoryReport r = {};
  ASSERT_NO_FATAL_FAILURE(VictimReport(&r));
  EXPECT_EQ(victim_.Join(), 0);
  AttackerReport a = FinishAttacker();
  printf(
      "[attack] descriptor-heavy frames against a call: %llu frames of 84 KB in %.1f s; "
      "victim's call %s/%s after %.0f ms, peak RSS %ld -> %ld KiB%s\n",
      static_cast<unsigned long long>(a.frames), a.seconds, mx_test::StatusName(r.status),
      mx_test::StatusName(r.read_status), r.ms, r.rss_before_kib, r.rss_after_kib,
      kSanitized ? " (sanitizer build: no address-space cap)" : "");
  // The peer breaks the protocol only if frame decoding checks fd counts per handle type;
  // either way the call ends on its own terms. Frames that arrived before the call broke the
  // channel already when the call pumps what came before its request: PEER_CLOSED.
  EXPECT_TRUE(r.status == MX_ERR_TIMED_OUT || r.status == MX_ERR_CALL_FAILED ||
              r.status == MX_ERR_PEER_CLOSED)
      << mx_test::StatusName(r.status);
  EXPECT_LT(r.rss_after_kib - r.rss_before_kib, 128 * 1024);
}

TEST_F(HostileFloodTest, WaitingServerWithSixteenHostileClientsIsBounded) {
  ASSERT_NO_FATAL_FAILURE(StartVictim("wait16"));
  ASSERT_NO_FATAL_FAILURE(StartAttacker("heavy", 16));
  MemoryReport r = {};
  ASSERT_NO_FATAL_FAILURE(VictimReport(&r));
  EXPECT_EQ(victim_.Join(), 0);
  AttackerReport a = FinishAttacker();
  printf(
      "[attack] waiting server, 16 hostile clients: %llu frames of 84 KB in %.1f s; wait %s "
      "after %.0f ms, peak RSS %ld -> %ld KiB%s\n",
      static_cast<unsigned long long>(a.frames), a.seconds, mx_test::StatusName(r.status), r.ms,
      r.rss_before_kib, r.rss_after_kib,
      kSanitized ? " (sanitizer build: no address-space cap)" : "");
  EXPECT_EQ(r.status, MX_ERR_TIMED_OUT);
  // The designed bound: a wait queues messages on each channel until their charges reach the
  // refresh limit (128 KiB), the last one whole: here two decoded frames of about 91 KiB each
  // (64 descriptors of 1,279 extra bytes), so 16 x 182 KiB, about 3 MiB of live memory; the
  // rest stays in the kernel's socket buffers. The assertion is far looser (the victim's RSS
  // also holds libmx's per-thread receive buffer and whatever the allocator keeps). It holds
  // under ASan too, whose quarantine keeps freed memory resident: a wait that allocates on
  // every round (one that spins) shows there first.
  EXPECT_LT(r.rss_after_kib - r.rss_before_kib, 128 * 1024);
}

TEST_F(HostileFloodTest, AllocationFailureWhileReceivingBreaksOnlyThatChannel) {
  if (kSanitized) GTEST_SKIP() << "the sanitizers' operator new cannot be replaced to fail";
  ASSERT_NO_FATAL_FAILURE(StartVictim("oom"));
  ASSERT_NO_FATAL_FAILURE(StartAttacker("odd", 1));
  OomReport r = {};
  ASSERT_NO_FATAL_FAILURE(VictimReport(&r));
  EXPECT_EQ(victim_.Join(), 0);
  AttackerReport a = FinishAttacker();
  printf(
      "[attack] allocation failure while receiving: %llu frames of 65 KB sent, %d allocations "
      "failed; victim: wait for PEER_CLOSED %s (signals 0x%x), read %s, another channel %s, "
      "mx_event_create %s\n",
      static_cast<unsigned long long>(a.frames), r.failed_allocations,
      mx_test::StatusName(r.wait_status), r.signals, mx_test::StatusName(r.read_status),
      mx_test::StatusName(r.other_channel), mx_test::StatusName(r.event_status));
  EXPECT_GE(r.failed_allocations, 1);
  EXPECT_EQ(r.wait_status, MX_OK);
  EXPECT_TRUE(r.signals & MX_CHANNEL_PEER_CLOSED);
  EXPECT_EQ(r.read_status, MX_ERR_PEER_CLOSED);
  EXPECT_EQ(r.other_channel, MX_OK);
  EXPECT_EQ(r.event_status, MX_OK);
}

}  // namespace
