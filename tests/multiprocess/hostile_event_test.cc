// SPDX-License-Identifier: BSD-3-Clause
// Hostile holders of events and eventpairs.
//
// An event's or an eventpair side's fds are shared by every holder, in every process: the same
// open file descriptions, so the same flags and the same kernel state. A holder that bypasses
// libmx can do with them whatever the kernel lets it do. Two promises are tested here, each with
// the attacker in a real child process, running as nobody when the test runs as root:
//
// 1. Waking never blocks. The attacker takes the fds of an event or eventpair it holds (one it
//    was sent, or one it created and sends) and abuses every one that wakes waiters: it clears
//    O_NONBLOCK on them, fills eventfd counters to 0xfffffffffffffffe, tries to detach or replace
//    socket filters, shrinks send buffers and floods, or reconnects a datagram socket to a sink
//    of its own whose queue it has filled. The victim, another child, then calls
//    mx_object_signal, mx_object_signal_peer, mx_handle_duplicate and mx_handle_close on its own
//    handles. Each must return at once (the test allows 5 s); the victim runs in a child so that
//    a call stuck in the kernel is ended by the test (20 s watchdog) rather than hanging it.
//    After a flood (not after a reconnect, which silences that object by design) the attacker's
//    own wait still wakes when the victim signals.
//
// 2. A handle without MX_RIGHT_SIGNAL (eventpairs: also SIGNAL_PEER) cannot change the signal
//    word. The attacker, as another user, tries every regular file it was sent: mmap read-write,
//    mmap read-only then mprotect, pwrite, fchmod, and reopening /proc/self/fd/N for writing;
//    each success would set USER_SIGNAL_7. The victim's wait for USER_SIGNAL_7 | LAST_HANDLE
//    must end with LAST_HANDLE only (the attacker closes its handle when done). A handle *with*
//    SIGNAL still signals across users.
//
// Every scenario prints "[attack] <name>: ..." with its figures.
#include <errno.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <linux/filter.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <string>
#include <vector>

#include "support/multiprocess.h"

namespace {

constexpr uint32_t kControlInfo = PA_HND(PA_USER0, 0);
constexpr uint32_t kPeerInfo = PA_HND(PA_USER1, 0);

// The signal word's offset in the shared page: a 4-byte magic, a 4-byte version and an 8-byte
// koid come first (docs/events.md); an eventpair side's page also holds the peer's koid.
constexpr off_t kEventWordOffset = 16;
constexpr off_t kEventPairWordOffset = 24;

// How long the victim may take for one call, and how long the test waits for the victim at all.
constexpr mx_duration_t kPromptCall = MX_SEC(5);
constexpr mx_duration_t kWatchdog = MX_SEC(20);

uint64_t NowNs() {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<uint64_t>(ts.tv_sec) * 1000000000u + static_cast<uint64_t>(ts.tv_nsec);
}

// Drops to nobody if the test runs as root; a child-side check.
void MaybeBecomeNobody(const std::vector<std::string>& args) {
  if (!args.empty() && args[0] == "nobody") CHILD_CHECK(mx_test::BecomeNobody());
}

std::vector<std::string> UserArgs(bool nobody) {
  return nobody ? std::vector<std::string>{"nobody"} : std::vector<std::string>{"same-user"};
}

// The fds in |after| that are not in |before| (by number and inode).
std::vector<mx_test::FdEntry> NewFds(const std::vector<mx_test::FdEntry>& before,
                                     const std::vector<mx_test::FdEntry>& after) {
  std::vector<mx_test::FdEntry> out;
  for (const mx_test::FdEntry& a : after) {
    bool old = false;
    for (const mx_test::FdEntry& b : before) {
      old = old || (a.fd == b.fd && a.ino == b.ino && a.dev == b.dev);
    }
    if (!old) out.push_back(a);
  }
  return out;
}

// Makes sure this thread has its waker (an eventfd libmx creates at the first wait), so that it
// does not show up among the fds of a handle received or created afterwards.
void TouchWaker(mx_handle_t channel) {
  mx_signals_t ignored = 0;
  mx_object_wait_one(channel, MX_CHANNEL_READABLE, 0, &ignored);
}

// ---- 1. Waking never blocks ---------------------------------------------------------------------

enum class Scenario : uint32_t {
  kEventSentToAttacker = 0,      // the victim creates an event and sends a duplicate
  kEventFromAttacker = 1,        // the attacker creates and abuses an event, then sends it
  kEventPairSideToAttacker = 2,  // the victim creates a pair and sends one side
};

enum class Abuse : uint32_t {
  kFill = 0,    // clear O_NONBLOCK, fill counters, shrink buffers, flood
  kRewire = 1,  // clear O_NONBLOCK, reconnect datagram sockets to a full sink of our own
};

const char* ScenarioName(Scenario s) {
  switch (s) {
    case Scenario::kEventSentToAttacker:
      return "event sent to the attacker";
    case Scenario::kEventFromAttacker:
      return "event sent by the attacker";
    case Scenario::kEventPairSideToAttacker:
      return "eventpair side sent to the attacker";
  }
  return "?";
}

const char* AbuseName(Abuse a) { return a == Abuse::kFill ? "fill" : "rewire"; }

// What the attacker did (attacker -> victim).
struct AttackReport {
  uint32_t fds_seen;            // fds that arrived with (or were created for) the handle
  uint32_t nonblock_cleared;    // descriptions whose O_NONBLOCK we cleared
  uint32_t eventfds_filled;     // eventfd counters set to 0xfffffffffffffffe
  uint32_t dgram_sockets;       // datagram sockets found
  uint32_t filters_removed;     // SO_DETACH_FILTER or SO_ATTACH_FILTER that succeeded
  uint32_t rewired;             // datagram sockets reconnected to our full sink
  uint64_t datagrams_accepted;  // sends the kernel accepted during the flood / the sink fill
};

// What the victim measured (victim -> test).
struct VictimReport {
  AttackReport attack;
  int32_t signal_status;
  int32_t signal_peer_status;  // eventpairs only
  int32_t duplicate_status;
  int32_t close_dup_status;
  int32_t close_status;
  int32_t attacker_wait_status;  // the attacker's wait for the victim's signal
  uint64_t signal_ns;
  uint64_t signal_peer_ns;
  uint64_t duplicate_ns;
  uint64_t close_dup_ns;
  uint64_t close_ns;
  int32_t fds_before;
  int32_t fds_after;
  int64_t max_rss_kb;
};

// Abuses one fd of the handle; counts what it did in |r|.
void AbuseFd(const mx_test::FdEntry& entry, Abuse abuse, AttackReport* r) {
  const int fd = entry.fd;
  int flags = fcntl(fd, F_GETFL);
  if (entry.target == "anon_inode:[eventfd]") {
    // Empty the counter (non-blocking), then fill it to one below its limit and clear
    // O_NONBLOCK: every later write of 1 by anyone sharing the description sleeps.
    fcntl(fd, F_SETFL, flags | O_NONBLOCK);
    uint64_t value = 0;
    (void)!read(fd, &value, sizeof(value));
    value = 0xfffffffffffffffeull;
    if (write(fd, &value, sizeof(value)) == sizeof(value)) ++r->eventfds_filled;
    if (fcntl(fd, F_SETFL, flags & ~O_NONBLOCK) == 0) ++r->nonblock_cleared;
    return;
  }
  struct stat st;
  if (fstat(fd, &st) != 0 || !S_ISSOCK(st.st_mode)) return;
  int type = 0;
  socklen_t len = sizeof(type);
  if (getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &len) != 0 || type != SOCK_DGRAM) return;
  ++r->dgram_sockets;
  if (fcntl(fd, F_SETFL, flags & ~O_NONBLOCK) == 0) ++r->nonblock_cleared;
  // Whatever filter there is, try to get rid of it or replace it with one that keeps all.
  int one = 1;
  if (setsockopt(fd, SOL_SOCKET, SO_DETACH_FILTER, &one, sizeof(one)) == 0) ++r->filters_removed;
  struct sock_filter keep_all[] = {BPF_STMT(BPF_RET | BPF_K, 0xffff)};
  struct sock_fprog keep = {1, keep_all};
  if (setsockopt(fd, SOL_SOCKET, SO_ATTACH_FILTER, &keep, sizeof(keep)) == 0) {
    ++r->filters_removed;
  }
  if (abuse == Abuse::kFill) {
    int tiny = 0;  // the kernel rounds up to its minimum
    setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &tiny, sizeof(tiny));
    for (int i = 0; i < 100000; ++i) {
      if (send(fd, "x", 1, MSG_DONTWAIT | MSG_NOSIGNAL) != 1) break;
      ++r->datagrams_accepted;
    }
    return;
  }
  // Rewire: a sink socket of ours whose receive queue we fill, then the shared socket is
  // connected to it. A send on the shared socket now has to wait for room in the sink — unless
  // it is non-blocking per call.
  int sink = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  struct sockaddr_un addr = {};
  addr.sun_family = AF_UNIX;
  if (sink < 0 || bind(sink, reinterpret_cast<sockaddr*>(&addr), sizeof(sa_family_t)) != 0) return;
  socklen_t alen = sizeof(addr);
  getsockname(sink, reinterpret_cast<sockaddr*>(&addr), &alen);
  if (connect(fd, reinterpret_cast<sockaddr*>(&addr), alen) != 0) return;
  ++r->rewired;
  for (int i = 0; i < 100000; ++i) {
    if (send(fd, "x", 1, MSG_DONTWAIT | MSG_NOSIGNAL) != 1) break;
    ++r->datagrams_accepted;
  }
  // |sink| stays open (and full) until the attacker exits.
}

void AbuseAll(const std::vector<mx_test::FdEntry>& fds, Abuse abuse, AttackReport* r) {
  r->fds_seen = static_cast<uint32_t>(fds.size());
  for (const mx_test::FdEntry& e : fds) AbuseFd(e, abuse, r);
}

// args: [user, scenario, abuse]. The victim channel is the startup handle kPeerInfo.
MX_CHILD(event_attacker) {
  mx_handle_t victim = mx_test::TakeStartupHandle(kPeerInfo);
  MaybeBecomeNobody(args);
  const auto scenario = static_cast<Scenario>(std::stoul(args.at(1)));
  const auto abuse = static_cast<Abuse>(std::stoul(args.at(2)));
  TouchWaker(victim);
  AttackReport report = {};
  mx_handle_t held = MX_HANDLE_INVALID;
  mx_signals_t wake_on = MX_EVENT_SIGNALED;
  if (scenario == Scenario::kEventFromAttacker) {
    auto before = mx_test::ListOpenFds();
    CHILD_CHECK_OK(mx_event_create(0, &held));
    auto created = mx_test::ListOpenFds();
    // Duplicate first: duplicating wakes waiters, and the attacker has no reason to get
    // stuck itself.
    mx_handle_t sent = MX_HANDLE_INVALID;
    CHILD_CHECK_OK(mx_handle_duplicate(held, MX_RIGHT_SAME_RIGHTS, &sent));
    AbuseAll(NewFds(before, created), abuse, &report);
    CHILD_CHECK_OK(mx_test::WritePod(victim, report, {sent}));
  } else {
    auto before = mx_test::ListOpenFds();
    std::vector<mx_handle_t> handles;
    uint8_t hello = 0;
    CHILD_CHECK_OK(mx_test::ReadPod(victim, &hello, &handles));
    CHILD_CHECK_EQ(handles.size(), 1u);
    held = handles[0];
    AbuseAll(NewFds(before, mx_test::ListOpenFds()), abuse, &report);
    if (scenario == Scenario::kEventPairSideToAttacker) wake_on = MX_USER_SIGNAL_0;
    CHILD_CHECK_OK(mx_test::WritePod(victim, report));
  }
  // After a flood, do the victim's wake-ups still arrive? (A rewired socket is silent: there is
  // nothing to wait for then.)
  int32_t wait_status = MX_ERR_NOT_SUPPORTED;
  if (abuse == Abuse::kFill) {
    mx_signals_t observed = 0;
    wait_status = mx_object_wait_one(held, wake_on, mx_deadline_after(kWatchdog), &observed);
  }
  CHILD_CHECK_OK(mx_test::WritePod(victim, wait_status));
  // Keep the handle (and our sink) until the victim is done.
  uint8_t done = 0;
  mx_test::ReadPod(victim, &done);
  mx_handle_close(held);
  return 0;
}

// Times one call.
template <typename F>
int32_t Timed(uint64_t* ns, F call) {
  const uint64_t start = NowNs();
  const int32_t st = call();
  *ns = NowNs() - start;
  return st;
}

// args: [scenario]. The test's channel is kControlInfo, the attacker's kPeerInfo.
MX_CHILD(event_victim) {
  mx_handle_t control = mx_test::TakeStartupHandle(kControlInfo);
  mx_handle_t attacker = mx_test::TakeStartupHandle(kPeerInfo);
  const auto scenario = static_cast<Scenario>(std::stoul(args.at(0)));
  TouchWaker(control);  // not |attacker|: that wait could already pull in the attacker's fds
  VictimReport v = {};
  v.fds_before = mx_test::CountOpenFds();
  mx_handle_t mine = MX_HANDLE_INVALID;
  mx_signals_t to_set = MX_EVENT_SIGNALED;
  switch (scenario) {
    case Scenario::kEventSentToAttacker: {
      CHILD_CHECK_OK(mx_event_create(0, &mine));
      mx_handle_t dup = MX_HANDLE_INVALID;
      CHILD_CHECK_OK(mx_handle_duplicate(mine, MX_RIGHT_SAME_RIGHTS, &dup));
      CHILD_CHECK_OK(mx_test::WritePod(attacker, uint8_t{1}, {dup}));
      CHILD_CHECK_OK(mx_test::ReadPod(attacker, &v.attack));
      break;
    }
    case Scenario::kEventFromAttacker: {
      std::vector<mx_handle_t> handles;
      CHILD_CHECK_OK(mx_test::ReadPod(attacker, &v.attack, &handles));
      CHILD_CHECK_EQ(handles.size(), 1u);
      mine = handles[0];
      break;
    }
    case Scenario::kEventPairSideToAttacker: {
      mx_handle_t other = MX_HANDLE_INVALID;
      CHILD_CHECK_OK(mx_eventpair_create(0, &mine, &other));
      CHILD_CHECK_OK(mx_test::WritePod(attacker, uint8_t{1}, {other}));
      CHILD_CHECK_OK(mx_test::ReadPod(attacker, &v.attack));
      to_set = MX_EPAIR_SIGNALED;
      break;
    }
  }
  // Tell the test how far we got: from here on a call stuck in the kernel shows as silence.
  CHILD_CHECK_OK(mx_test::WritePod(control, uint8_t{1}));
  v.signal_status = Timed(&v.signal_ns, [&] { return mx_object_signal(mine, 0, to_set); });
  if (scenario == Scenario::kEventPairSideToAttacker) {
    v.signal_peer_status =
        Timed(&v.signal_peer_ns, [&] { return mx_object_signal_peer(mine, 0, MX_USER_SIGNAL_0); });
  }
  CHILD_CHECK_OK(mx_test::ReadPod(attacker, &v.attacker_wait_status, nullptr,
                                  mx_deadline_after(kWatchdog + MX_SEC(5))));
  mx_handle_t dup = MX_HANDLE_INVALID;
  v.duplicate_status =
      Timed(&v.duplicate_ns, [&] { return mx_handle_duplicate(mine, MX_RIGHT_SAME_RIGHTS, &dup); });
  v.close_dup_status = Timed(&v.close_dup_ns, [&] { return mx_handle_close(dup); });
  v.close_status = Timed(&v.close_ns, [&] { return mx_handle_close(mine); });
  CHILD_CHECK_OK(mx_test::WritePod(attacker, uint8_t{1}));
  v.fds_after = mx_test::CountOpenFds();
  CHILD_CHECK_OK(mx_handle_close(attacker));
  struct rusage ru = {};
  getrusage(RUSAGE_SELF, &ru);
  v.max_rss_kb = ru.ru_maxrss;
  CHILD_CHECK_OK(mx_test::WritePod(control, v));
  return 0;
}

struct WakeCase {
  Scenario scenario;
  Abuse abuse;
};

std::string WakeCaseName(const ::testing::TestParamInfo<WakeCase>& info) {
  static const char* const kScenario[] = {"EventSentToAttacker", "EventFromAttacker",
                                          "EventPairSideToAttacker"};
  return std::string(kScenario[static_cast<uint32_t>(info.param.scenario)]) +
         (info.param.abuse == Abuse::kFill ? "Fill" : "Rewire");
}

class HostileEventWakeTest : public mx_test::MultiprocessTest,
                             public ::testing::WithParamInterface<WakeCase> {};

TEST_P(HostileEventWakeTest, VictimCallsReturnAtOnce) {
  const WakeCase c = GetParam();
  const bool nobody = mx_test::CanBecomeAnotherUser();
  mx_handle_t control, control_child, v_end, a_end;
  ASSERT_EQ(mx_channel_create(0, &control, &control_child), MX_OK);
  ASSERT_EQ(mx_channel_create(0, &v_end, &a_end), MX_OK);
  std::vector<std::string> attacker_args = UserArgs(nobody);
  attacker_args.push_back(std::to_string(static_cast<uint32_t>(c.scenario)));
  attacker_args.push_back(std::to_string(static_cast<uint32_t>(c.abuse)));
  mx_handle_t process = MX_HANDLE_INVALID;
  ASSERT_EQ(mx_test::SpawnChild("event_attacker", {{kPeerInfo, a_end}}, attacker_args, &process),
            MX_OK);
  mx_test::ScopedProcess attacker(process);
  ASSERT_EQ(mx_test::SpawnChild("event_victim", {{kControlInfo, control_child}, {kPeerInfo, v_end}},
                                {std::to_string(static_cast<uint32_t>(c.scenario))}, &process),
            MX_OK);
  mx_test::ScopedProcess victim(process);

  uint8_t attacked = 0;
  ASSERT_EQ(mx_test::ReadPod(control, &attacked), MX_OK) << "the attack never completed";
  const uint64_t start = NowNs();
  VictimReport v = {};
  const mx_status_t st = mx_test::ReadPod(control, &v, nullptr, mx_deadline_after(kWatchdog));
  const double waited_s = static_cast<double>(NowNs() - start) / 1e9;
  const std::string name = std::string(ScenarioName(c.scenario)) + ", " + AbuseName(c.abuse);
  if (st != MX_OK) {
    printf("[attack] shared wake fd, %s: victim stuck in its calls for %.1f s (%s), killed\n",
           name.c_str(), waited_s, mx_test::StatusName(st));
    ADD_FAILURE() << "the victim's signal/duplicate/close did not return within "
                  << kWatchdog / 1000000000 << " s (" << mx_test::StatusName(st) << ")";
    victim.KillAndJoin();
    attacker.KillAndJoin();
    mx_handle_close(control);
    return;
  }
  printf(
      "[attack] shared wake fd, %s (attacker %s): attacker saw %u fds, cleared O_NONBLOCK on "
      "%u, filled %u eventfds, found %u datagram sockets, removed %u filters, rewired %u, "
      "%llu datagrams accepted; victim: signal %s %.1f us, signal_peer %s %.1f us, "
      "duplicate %s %.1f us, close dup %s %.1f us, close %s %.1f us; attacker's wait %s; "
      "victim fds %d -> %d, peak RSS %lld KiB\n",
      name.c_str(), nobody ? "as nobody" : "same user", v.attack.fds_seen,
      v.attack.nonblock_cleared, v.attack.eventfds_filled, v.attack.dgram_sockets,
      v.attack.filters_removed, v.attack.rewired,
      static_cast<unsigned long long>(v.attack.datagrams_accepted),
      mx_test::StatusName(v.signal_status), v.signal_ns / 1e3,
      mx_test::StatusName(v.signal_peer_status), v.signal_peer_ns / 1e3,
      mx_test::StatusName(v.duplicate_status), v.duplicate_ns / 1e3,
      mx_test::StatusName(v.close_dup_status), v.close_dup_ns / 1e3,
      mx_test::StatusName(v.close_status), v.close_ns / 1e3,
      mx_test::StatusName(v.attacker_wait_status), v.fds_before, v.fds_after,
      static_cast<long long>(v.max_rss_kb));
  EXPECT_GT(v.attack.fds_seen, 0u);
  EXPECT_GT(v.attack.nonblock_cleared, 0u) << "the attacker found nothing to abuse";
  EXPECT_EQ(v.signal_status, MX_OK);
  EXPECT_EQ(v.duplicate_status, MX_OK);
  EXPECT_EQ(v.close_dup_status, MX_OK);
  EXPECT_EQ(v.close_status, MX_OK);
  const uint64_t limit = static_cast<uint64_t>(kPromptCall);
  EXPECT_LT(v.signal_ns, limit);
  EXPECT_LT(v.duplicate_ns, limit);
  EXPECT_LT(v.close_dup_ns, limit);
  EXPECT_LT(v.close_ns, limit);
  if (c.scenario == Scenario::kEventPairSideToAttacker) {
    EXPECT_EQ(v.signal_peer_status, MX_OK);
    EXPECT_LT(v.signal_peer_ns, limit);
  }
  // The filter cannot be taken away, so a flood does not even stop the wake-ups.
  EXPECT_EQ(v.attack.filters_removed, 0u);
  if (c.abuse == Abuse::kFill) {
    EXPECT_EQ(v.attacker_wait_status, MX_OK);
  }
  EXPECT_EQ(v.fds_after, v.fds_before);
  EXPECT_EQ(victim.Join(), 0);
  EXPECT_EQ(attacker.Join(), 0);
  mx_handle_close(control);
}

INSTANTIATE_TEST_SUITE_P(
    Scenarios, HostileEventWakeTest,
    ::testing::Values(WakeCase{Scenario::kEventSentToAttacker, Abuse::kFill},
                      WakeCase{Scenario::kEventSentToAttacker, Abuse::kRewire},
                      WakeCase{Scenario::kEventFromAttacker, Abuse::kFill},
                      WakeCase{Scenario::kEventFromAttacker, Abuse::kRewire},
                      WakeCase{Scenario::kEventPairSideToAttacker, Abuse::kFill},
                      WakeCase{Scenario::kEventPairSideToAttacker, Abuse::kRewire}),
    WakeCaseName);

// ---- 2. The SIGNAL right holds against another user ---------------------------------------------

// What the word attacker managed (attacker -> test). Every "ok" is an attack that worked.
struct WordReport {
  uint32_t files;         // regular files that arrived with the handle
  uint32_t writable_fds;  // of them, descriptions opened for writing
  uint32_t mmap_rw_ok;
  uint32_t mprotect_ok;
  uint32_t pwrite_ok;
  uint32_t fchmod_ok;
  uint32_t reopen_rw_ok;
  int32_t mmap_rw_errno;
  int32_t mprotect_errno;
  int32_t pwrite_errno;
  int32_t fchmod_errno;
  int32_t reopen_rw_errno;
  int32_t signal_status;
  int32_t signal_peer_status;
  uint32_t locks_placed;  // "lock": OFD read locks on byte 0 the attacker placed
};

// Sets |bits| in the signal word at |offset| through a writable mapping.
void SetThroughMapping(void* page, off_t offset, uint32_t bits) {
  auto* word = reinterpret_cast<uint32_t*>(static_cast<char*>(page) + offset);
  __atomic_fetch_or(word, bits, __ATOMIC_SEQ_CST);
}

void AttackWord(int fd, off_t offset, WordReport* r) {
  const uint32_t bits = MX_USER_SIGNAL_7;
  if ((fcntl(fd, F_GETFL) & O_ACCMODE) != O_RDONLY) ++r->writable_fds;
  void* rw = mmap(nullptr, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  if (rw != MAP_FAILED) {
    ++r->mmap_rw_ok;
    SetThroughMapping(rw, offset, bits);
    munmap(rw, 4096);
  } else {
    r->mmap_rw_errno = errno;
  }
  void* ro = mmap(nullptr, 4096, PROT_READ, MAP_SHARED, fd, 0);
  if (ro != MAP_FAILED) {
    if (mprotect(ro, 4096, PROT_READ | PROT_WRITE) == 0) {
      ++r->mprotect_ok;
      SetThroughMapping(ro, offset, bits);
    } else {
      r->mprotect_errno = errno;
    }
    munmap(ro, 4096);
  }
  uint32_t word = 0;
  if (pread(fd, &word, sizeof(word), offset) == sizeof(word)) {
    word |= bits;
    if (pwrite(fd, &word, sizeof(word), offset) == sizeof(word)) {
      ++r->pwrite_ok;
    } else {
      r->pwrite_errno = errno;
    }
  }
  if (fchmod(fd, 0666) == 0) {
    ++r->fchmod_ok;
  } else {
    r->fchmod_errno = errno;
  }
  char path[64];
  snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
  int reopened = open(path, O_RDWR | O_CLOEXEC);
  if (reopened >= 0) {
    ++r->reopen_rw_ok;
    void* m = mmap(nullptr, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, reopened, 0);
    if (m != MAP_FAILED) {
      SetThroughMapping(m, offset, bits);
      munmap(m, 4096);
    }
    close(reopened);
  } else {
    r->reopen_rw_errno = errno;
  }
}

// Places an OFD read lock on byte 0 through |fd| (what a handle's token holds), then leaves it.
void LockByteZero(int fd, WordReport* r) {
  struct flock lk = {};
  lk.l_type = F_RDLCK;
  lk.l_whence = SEEK_SET;
  lk.l_start = 0;
  lk.l_len = 1;
  if (fcntl(fd, F_OFD_SETLK, &lk) == 0) ++r->locks_placed;
}

// args: [user, "attack" | "signal" | "lock"]. The test's channel is kControlInfo. "lock" locks
// byte 0 through every file it got, reports and exits without closing anything by hand.
MX_CHILD(word_attacker) {
  mx_handle_t control = mx_test::TakeStartupHandle(kControlInfo);
  MaybeBecomeNobody(args);
  const bool attack = args.at(1) == "attack";
  const bool lock = args.at(1) == "lock";
  TouchWaker(control);
  auto before = mx_test::ListOpenFds();
  std::vector<mx_handle_t> handles;
  uint8_t hello = 0;
  CHILD_CHECK_OK(mx_test::ReadPod(control, &hello, &handles));
  CHILD_CHECK_EQ(handles.size(), 1u);
  const mx_handle_t h = handles[0];
  WordReport r = {};
  const off_t offset = mx_test::BasicInfo(h).type == MX_OBJ_TYPE_EVENT_PAIR ? kEventPairWordOffset
                                                                            : kEventWordOffset;
  if (attack) {
    for (const mx_test::FdEntry& e : NewFds(before, mx_test::ListOpenFds())) {
      struct stat st;
      if (fstat(e.fd, &st) != 0 || !S_ISREG(st.st_mode)) continue;
      ++r.files;
      AttackWord(e.fd, offset, &r);
    }
  }
  if (lock) {
    for (const mx_test::FdEntry& e : NewFds(before, mx_test::ListOpenFds())) {
      struct stat st;
      if (fstat(e.fd, &st) != 0 || !S_ISREG(st.st_mode)) continue;
      ++r.files;
      if ((fcntl(e.fd, F_GETFL) & O_ACCMODE) != O_RDONLY) ++r.writable_fds;
      LockByteZero(e.fd, &r);
    }
    CHILD_CHECK_OK(mx_test::WritePod(control, r));
    return 0;  // exiting closes every fd, the handle's token included
  }
  // A duplicate opens a new token by reopening the memfd read-only, as this (other) user.
  mx_handle_t dup = MX_HANDLE_INVALID;
  CHILD_CHECK_OK(mx_handle_duplicate(h, MX_RIGHT_SAME_RIGHTS, &dup));
  CHILD_CHECK_OK(mx_handle_close(dup));
  r.signal_status = mx_object_signal(h, 0, MX_USER_SIGNAL_6);
  r.signal_peer_status = mx_object_signal_peer(h, 0, MX_USER_SIGNAL_6);
  CHILD_CHECK_OK(mx_handle_close(h));
  CHILD_CHECK_OK(mx_test::WritePod(control, r));
  return 0;
}

class HostileEventRightsTest : public mx_test::MultiprocessTest,
                               public ::testing::WithParamInterface<bool /*eventpair*/> {
 protected:
  void SetUp() override {
    mx_test::MultiprocessTest::SetUp();
    if (!mx_test::CanBecomeAnotherUser()) {
      GTEST_SKIP() << "needs root to run the attacker as another user (nobody): file "
                      "permissions are what keep it from reopening the word writable";
    }
  }

  // Creates the object; |kept| is this process's handle whose word the attacker may reach
  // through the handle it gets (with |rights|), |other| (eventpairs: side A) or INVALID.
  void Create(mx_handle_t* kept, mx_handle_t* other, mx_handle_t* sent, mx_rights_t remove) {
    if (GetParam()) {
      ASSERT_EQ(mx_eventpair_create(0, other, kept), MX_OK);
    } else {
      ASSERT_EQ(mx_event_create(0, kept), MX_OK);
      *other = MX_HANDLE_INVALID;
    }
    const mx_rights_t rights = mx_test::RightsOf(*kept) & ~remove;
    ASSERT_EQ(mx_handle_duplicate(*kept, rights, sent), MX_OK);
  }

  // Runs the word attacker as nobody on |sent|; returns its report; closes |control|.
  WordReport Run(mx_handle_t kept, mx_handle_t sent, const char* mode, mx_signals_t* observed) {
    WordReport r = {};
    mx_handle_t control, control_child, process;
    EXPECT_EQ(mx_channel_create(0, &control, &control_child), MX_OK);
    EXPECT_EQ(mx_test::SpawnChild("word_attacker", {{kControlInfo, control_child}},
                                  {"nobody", mode}, &process),
              MX_OK);
    mx_test::ScopedProcess child(process);
    EXPECT_EQ(mx_test::WritePod(control, uint8_t{1}, {sent}), MX_OK);
    // Our handle becomes the last one when the attacker closes its own, after the attack.
    EXPECT_EQ(mx_object_wait_one(kept, MX_USER_SIGNAL_7 | MX_SIGNAL_LAST_HANDLE,
                                 mx_test::DefaultDeadline(), observed),
              MX_OK);
    EXPECT_EQ(mx_test::ReadPod(control, &r), MX_OK);
    EXPECT_EQ(child.Join(), 0);
    mx_handle_close(control);
    return r;
  }
};

TEST_P(HostileEventRightsTest, WithoutSignalAnotherUserCannotWriteTheWord) {
  const bool pair = GetParam();
  mx_handle_t kept, other, sent;
  ASSERT_NO_FATAL_FAILURE(Create(&kept, &other, &sent, MX_RIGHT_SIGNAL | MX_RIGHT_SIGNAL_PEER));
  mx_signals_t observed = 0;
  const WordReport r = Run(kept, sent, "attack", &observed);
  const mx_signals_t other_signals =
      other != MX_HANDLE_INVALID ? mx_test::PendingSignals(other) : 0;
  const mx_signals_t kept_signals = mx_test::PendingSignals(kept);
  printf(
      "[attack] signal word without SIGNAL, %s, attacker as nobody: %u files (%u writable); "
      "mmap rw %u (%s), mprotect %u (%s), pwrite %u (%s), fchmod %u (%s), reopen rw %u (%s); "
      "mx_object_signal %s, signal_peer %s; victim's wait saw%s%s\n",
      pair ? "eventpair" : "event", r.files, r.writable_fds, r.mmap_rw_ok,
      strerror(r.mmap_rw_errno), r.mprotect_ok, strerror(r.mprotect_errno), r.pwrite_ok,
      strerror(r.pwrite_errno), r.fchmod_ok, strerror(r.fchmod_errno), r.reopen_rw_ok,
      strerror(r.reopen_rw_errno), mx_test::StatusName(r.signal_status),
      mx_test::StatusName(r.signal_peer_status),
      (observed & MX_USER_SIGNAL_7) ? " USER_SIGNAL_7" : "",
      (observed & MX_SIGNAL_LAST_HANDLE) ? " LAST_HANDLE" : "");
  EXPECT_GT(r.files, 0u) << "the attacker found no file to attack";
  EXPECT_EQ(r.writable_fds, 0u);
  EXPECT_EQ(r.mmap_rw_ok, 0u);
  EXPECT_EQ(r.mprotect_ok, 0u);
  EXPECT_EQ(r.pwrite_ok, 0u);
  EXPECT_EQ(r.fchmod_ok, 0u);
  EXPECT_EQ(r.reopen_rw_ok, 0u);
  EXPECT_EQ(r.signal_status, MX_ERR_ACCESS_DENIED);
  EXPECT_EQ(r.signal_peer_status, MX_ERR_ACCESS_DENIED);
  EXPECT_EQ(observed & MX_USER_SIGNAL_7, 0u) << "the victim's wait fired on a forged signal";
  EXPECT_EQ(kept_signals & (MX_USER_SIGNAL_7 | MX_USER_SIGNAL_6), 0u);
  EXPECT_EQ(other_signals & (MX_USER_SIGNAL_7 | MX_USER_SIGNAL_6), 0u);
  EXPECT_TRUE(observed & MX_SIGNAL_LAST_HANDLE);
  mx_handle_close(kept);
  if (other != MX_HANDLE_INVALID) mx_handle_close(other);
}

TEST_P(HostileEventRightsTest, WithSignalAnotherUserCanSignal) {
  const bool pair = GetParam();
  mx_handle_t kept, other, sent;
  ASSERT_NO_FATAL_FAILURE(Create(&kept, &other, &sent, 0));
  mx_signals_t observed = 0;
  const WordReport r = Run(kept, sent, "signal", &observed);
  const mx_signals_t kept_signals = mx_test::PendingSignals(kept);
  EXPECT_EQ(r.signal_status, MX_OK);
  EXPECT_TRUE(kept_signals & MX_USER_SIGNAL_6);
  EXPECT_TRUE(observed & MX_SIGNAL_LAST_HANDLE);
  if (pair) {
    EXPECT_EQ(r.signal_peer_status, MX_OK);
    EXPECT_TRUE(mx_test::PendingSignals(other) & MX_USER_SIGNAL_6);
    mx_handle_close(other);
  } else {
    EXPECT_EQ(r.signal_peer_status, MX_ERR_ACCESS_DENIED);  // events have no peer
  }
  mx_handle_close(kept);
}

// A holder of another user that got the handle with SIGNAL locks byte 0 through every
// description it received, then exits. Before: the writable word it got was the victim's own
// description, which the victim keeps open, so the lock outlived the attacker and the victim's
// handle never saw LAST_HANDLE again (its wait ran to the deadline). After: only tokens count, and
// every token is private to its process.
TEST_P(HostileEventRightsTest, LockThroughSentDescriptionsDoesNotOutliveTheAttacker) {
  const bool pair = GetParam();
  mx_handle_t kept, other, sent;
  ASSERT_NO_FATAL_FAILURE(Create(&kept, &other, &sent, 0));
  mx_handle_t control, control_child, process;
  ASSERT_EQ(mx_channel_create(0, &control, &control_child), MX_OK);
  ASSERT_EQ(mx_test::SpawnChild("word_attacker", {{kControlInfo, control_child}},
                                {"nobody", "lock"}, &process),
            MX_OK);
  mx_test::ScopedProcess child(process);
  ASSERT_EQ(mx_test::WritePod(control, uint8_t{1}, {sent}), MX_OK);
  WordReport r = {};
  ASSERT_EQ(mx_test::ReadPod(control, &r), MX_OK);
  ASSERT_EQ(child.Join(), 0);
  mx_handle_close(control);
  // The attacker is gone; its handle went with it. Loose deadline: the old code never got there.
  const uint64_t start = NowNs();
  mx_signals_t observed = 0;
  const mx_status_t st =
      mx_object_wait_one(kept, MX_SIGNAL_LAST_HANDLE, mx_deadline_after(MX_SEC(5)), &observed);
  const double took = static_cast<double>(NowNs() - start) / 1e9;
  printf(
      "[attack] OFD lock through sent descriptions, %s, attacker as nobody: %u files "
      "(%u writable), %u locks placed; after the attacker exited the victim's wait for "
      "LAST_HANDLE returned %s after %.3f s\n",
      pair ? "eventpair" : "event", r.files, r.writable_fds, r.locks_placed,
      mx_test::StatusName(st), took);
  EXPECT_GT(r.locks_placed, 0u);
  EXPECT_EQ(st, MX_OK) << "a lock placed through a shared description outlived its placer";
  EXPECT_TRUE(observed & MX_SIGNAL_LAST_HANDLE);
  mx_handle_close(kept);
  if (other != MX_HANDLE_INVALID) mx_handle_close(other);
}

// A process of another uid that holds a word writable cannot reopen it writable: it keeps the
// description it was sent, and passes that same description on. Relay (as nobody) gets a SIGNAL
// handle from the test, sends a duplicate on to Keeper (also nobody), locks byte 0 through the
// writable descriptions it kept and exits. Keeper now shares those descriptions with nobody alive
// but still keeps them, so the lock would count as a handle for as long as Keeper lives; once the
// test has closed its own handles, Keeper's handle must see LAST_HANDLE at its next look.
// args: [user, "relay" | "keeper"]. Relay: kControlInfo from the test, kPeerInfo to Keeper.
// Keeper: kControlInfo to the test, kPeerInfo from Relay.
MX_CHILD(kept_word_holder) {
  mx_handle_t control = mx_test::TakeStartupHandle(kControlInfo);
  mx_handle_t peer = mx_test::TakeStartupHandle(kPeerInfo);
  MaybeBecomeNobody(args);
  if (args.at(1) == "relay") {
    TouchWaker(control);
    auto before = mx_test::ListOpenFds();
    std::vector<mx_handle_t> handles;
    uint8_t hello = 0;
    CHILD_CHECK_OK(mx_test::ReadPod(control, &hello, &handles));
    CHILD_CHECK_EQ(handles.size(), 1u);
    mx_handle_t dup = MX_HANDLE_INVALID;
    CHILD_CHECK_OK(mx_handle_duplicate(handles[0], MX_RIGHT_SAME_RIGHTS, &dup));
    CHILD_CHECK_OK(mx_test::WritePod(peer, uint8_t{1}, {dup}));
    WordReport r = {};
    for (const mx_test::FdEntry& e : NewFds(before, mx_test::ListOpenFds())) {
      struct stat st;
      if (fstat(e.fd, &st) != 0 || !S_ISREG(st.st_mode)) continue;
      ++r.files;
      if ((fcntl(e.fd, F_GETFL) & O_ACCMODE) == O_RDONLY) continue;
      ++r.writable_fds;
      LockByteZero(e.fd, &r);
    }
    CHILD_CHECK_OK(mx_test::WritePod(control, r));
    return 0;  // exiting closes every fd; Keeper still holds the descriptions we locked through
  }
  std::vector<mx_handle_t> handles;
  uint8_t hello = 0;
  CHILD_CHECK_OK(mx_test::ReadPod(peer, &hello, &handles));
  CHILD_CHECK_EQ(handles.size(), 1u);
  CHILD_CHECK_OK(mx_test::WritePod(control, uint8_t{1}));  // holding it
  uint8_t go = 0;
  CHILD_CHECK_OK(mx_test::ReadPod(control, &go));  // Relay is gone, the test closed its handles
  const uint64_t start = NowNs();
  mx_signals_t observed = 0;
  const int32_t st = mx_object_wait_one(handles[0], MX_SIGNAL_LAST_HANDLE,
                                        mx_deadline_after(MX_SEC(5)), &observed);
  const uint64_t took_ns = NowNs() - start;
  CHILD_CHECK_OK(mx_test::WritePod(control, st));
  CHILD_CHECK_OK(mx_test::WritePod(control, took_ns));
  mx_handle_close(handles[0]);
  return 0;
}

TEST_P(HostileEventRightsTest, LockThroughAKeptWordIsReleased) {
  const bool pair = GetParam();
  mx_handle_t kept, other, sent;
  ASSERT_NO_FATAL_FAILURE(Create(&kept, &other, &sent, 0));
  mx_handle_t relay_control, relay_child, keeper_control, keeper_child, r_end, k_end, process;
  ASSERT_EQ(mx_channel_create(0, &relay_control, &relay_child), MX_OK);
  ASSERT_EQ(mx_channel_create(0, &keeper_control, &keeper_child), MX_OK);
  ASSERT_EQ(mx_channel_create(0, &r_end, &k_end), MX_OK);
  ASSERT_EQ(
      mx_test::SpawnChild("kept_word_holder", {{kControlInfo, relay_child}, {kPeerInfo, r_end}},
                          {"nobody", "relay"}, &process),
      MX_OK);
  mx_test::ScopedProcess relay(process);
  ASSERT_EQ(
      mx_test::SpawnChild("kept_word_holder", {{kControlInfo, keeper_child}, {kPeerInfo, k_end}},
                          {"nobody", "keeper"}, &process),
      MX_OK);
  mx_test::ScopedProcess keeper(process);
  ASSERT_EQ(mx_test::WritePod(relay_control, uint8_t{1}, {sent}), MX_OK);
  WordReport r = {};
  ASSERT_EQ(mx_test::ReadPod(relay_control, &r), MX_OK);
  ASSERT_EQ(relay.Join(), 0);
  uint8_t holding = 0;
  ASSERT_EQ(mx_test::ReadPod(keeper_control, &holding), MX_OK);
  // The pair's side A (|other|) is not the side Keeper holds; only |kept| counts for it.
  mx_handle_close(kept);
  ASSERT_EQ(mx_test::WritePod(keeper_control, uint8_t{1}), MX_OK);
  int32_t st = MX_ERR_INTERNAL;
  uint64_t took_ns = 0;
  ASSERT_EQ(mx_test::ReadPod(keeper_control, &st), MX_OK);
  ASSERT_EQ(mx_test::ReadPod(keeper_control, &took_ns), MX_OK);
  printf(
      "[attack] OFD lock through a kept writable word, %s, relay and keeper as nobody: relay "
      "kept %u files (%u writable), placed %u locks and exited; keeper's wait for LAST_HANDLE "
      "returned %s after %.3f s\n",
      pair ? "eventpair" : "event", r.files, r.writable_fds, r.locks_placed,
      mx_test::StatusName(st), static_cast<double>(took_ns) / 1e9);
  EXPECT_GT(r.locks_placed, 0u) << "the relay kept no writable description";
  EXPECT_EQ(st, MX_OK) << "a lock placed through a kept description counted as a handle";
  EXPECT_EQ(keeper.Join(), 0);
  mx_handle_close(relay_control);
  mx_handle_close(keeper_control);
  if (other != MX_HANDLE_INVALID) mx_handle_close(other);
}

// What the receiver of an unreadable word got (receiver -> test).
struct UnreadableReport {
  int32_t read_status;
  uint32_t value;
  uint32_t handles;
};

// args: [user]. Reads one message from kControlInfo and reports what it got.
MX_CHILD(unreadable_receiver) {
  mx_handle_t control = mx_test::TakeStartupHandle(kControlInfo);
  MaybeBecomeNobody(args);
  uint8_t value = 0;
  std::vector<mx_handle_t> handles;
  UnreadableReport r = {};
  r.read_status = mx_test::ReadPod(control, &value, &handles);
  r.value = value;
  r.handles = static_cast<uint32_t>(handles.size());
  CHILD_CHECK_OK(mx_test::WritePod(control, r));
  return 0;
}

// The memfd's owner (here the test, as root) takes every permission bit away, then sends a
// handle to a process of another user, which can no longer open the descriptions it needs
// (its token, its private word). That handle is malformed there: the read drops its message
// and returns the next one, instead of failing with NO_RESOURCES and keeping the message for
// ever (which blocked the channel).
TEST_P(HostileEventRightsTest, AnUnreadableMemfdIsDroppedNotRetried) {
  const bool pair = GetParam();
  const auto before = mx_test::ListOpenFds();
  mx_handle_t kept, other, sent;
  ASSERT_NO_FATAL_FAILURE(Create(&kept, &other, &sent, 0));
  uint32_t chmodded = 0;
  for (const mx_test::FdEntry& e : NewFds(before, mx_test::ListOpenFds())) {
    struct stat st;
    if (fstat(e.fd, &st) == 0 && S_ISREG(st.st_mode) && fchmod(e.fd, 0) == 0) ++chmodded;
  }
  ASSERT_GT(chmodded, 0u);
  mx_handle_t control, control_child, process;
  ASSERT_EQ(mx_channel_create(0, &control, &control_child), MX_OK);
  ASSERT_EQ(mx_test::SpawnChild("unreadable_receiver", {{kControlInfo, control_child}}, {"nobody"},
                                &process),
            MX_OK);
  mx_test::ScopedProcess child(process);
  ASSERT_EQ(mx_test::WritePod(control, uint8_t{1}, {sent}), MX_OK);
  ASSERT_EQ(mx_test::WritePod(control, uint8_t{2}), MX_OK);
  UnreadableReport r = {};
  ASSERT_EQ(mx_test::ReadPod(control, &r), MX_OK);
  printf(
      "[attack] memfd made unreadable by its owner, %s, receiver as nobody: read %s, got "
      "message %u with %u handles\n",
      pair ? "eventpair" : "event", mx_test::StatusName(r.read_status), r.value, r.handles);
  EXPECT_EQ(r.read_status, MX_OK);
  EXPECT_EQ(r.value, 2u) << "the message with the unusable handle was not dropped";
  EXPECT_EQ(r.handles, 0u);
  EXPECT_EQ(child.Join(), 0);
  mx_handle_close(control);
  mx_handle_close(kept);
  if (other != MX_HANDLE_INVALID) mx_handle_close(other);
}

INSTANTIATE_TEST_SUITE_P(Objects, HostileEventRightsTest, ::testing::Values(false, true),
                         [](const ::testing::TestParamInfo<bool>& info) {
                           return std::string(info.param ? "EventPair" : "Event");
                         });

}  // namespace
