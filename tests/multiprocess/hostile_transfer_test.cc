// SPDX-License-Identifier: BSD-3-Clause
// Hostile handle transfers: what a peer can make the receiver of a handle spend, and what a
// handle received with reduced rights still lets its holder do.
//
// The attacker is a real child process. It reaches the victim the way an untrusted client does,
// through a named rendezvous that it speaks by hand (tests/support/wire_layout.h: ConnectRawPeer),
// so it holds the raw SOCK_SEQPACKET socket under the victim's endpoint and writes whatever frames
// it likes. When the test runs as root the attacker drops to nobody first.
//
//   - QueueBlobBomb*: an endpoint whose travelling queue is described as huge (a sparse memfd
//     costs the attacker nothing). The receiver must not spend memory on it.
//   - QueueBlobShared* / QueueBlobRepeated*: one dense blob, paid for once, named by many
//     endpoints, in one message or across many. It must be decoded once.
//   - DescriptorBloat: frames of 64 handle descriptors with a kilobyte of extra bytes each and no
//     fds.
//   - NoWrite*: an endpoint handed to the attacker without MX_RIGHT_WRITE; the attacker writes a
//     raw data frame on its socket. The victim must not read it. An honest holder of such an
//     endpoint keeps reading, signalling its peer and being seen as alive.
//
// Each attack prints "[attack] <name>: ..." with the victim's figures: peak RSS growth (VmHWM,
// reset through /proc/self/clear_refs before the attack), time, what it read.
#include <errno.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <magenta/service.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <fstream>
#include <string>
#include <vector>

#include "support/multiprocess.h"
#include "support/wire_layout.h"

namespace {

using namespace mx_test::wire;
using mx_test::Message;

// ---- Measuring --------------------------------------------------------------------------------

// Resets this process's peak RSS to its current RSS (Linux >= 4.0). False if unsupported.
bool ResetPeakRss() {
  int fd = open("/proc/self/clear_refs", O_WRONLY | O_CLOEXEC);
  if (fd < 0) return false;
  bool ok = write(fd, "5", 1) == 1;
  close(fd);
  return ok;
}

// A field of /proc/self/status in KiB (VmHWM, VmRSS), or 0.
long StatusKb(const char* field) {
  std::ifstream f("/proc/self/status");
  std::string line;
  const std::string prefix = std::string(field) + ":";
  while (std::getline(f, line)) {
    if (line.compare(0, prefix.size(), prefix) == 0) return atol(line.c_str() + prefix.size());
  }
  return 0;
}

long MaxRssKb() {
  struct rusage ru = {};
  getrusage(RUSAGE_SELF, &ru);
  return ru.ru_maxrss;
}

double Seconds(mx_time_t from) {
  return static_cast<double>(mx_time_get(MX_CLOCK_MONOTONIC) - from) / 1e9;
}

// ---- The attacker -----------------------------------------------------------------------------

constexpr uint32_t kRepeatedBlobMessages = 20;

// A memfd of |size| bytes that was never written (sparse: no page is allocated), sealed as libmx
// seals a queue blob.
int SparseSealedMemfd(size_t size) {
  int fd = memfd_create("attack-blob", MFD_CLOEXEC | MFD_ALLOW_SEALING);
  CHILD_CHECK(fd >= 0);
  CHILD_CHECK(ftruncate(fd, static_cast<off_t>(size)) == 0);
  CHILD_CHECK(fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE | F_SEAL_SEAL) ==
              0);
  return fd;
}

// A frame with the next sequence number and |text|, no handles.
int SendText(int sock, uint64_t* seq, const std::string& text) {
  std::vector<uint8_t> bytes = FrameSpec(kFrameData, (*seq)++, text).Encode();
  return SendOn(sock, bytes.data(), bytes.size(), nullptr, 0);
}

// Sends "before", then |text| carrying one endpoint whose state claims a queue of |count|
// messages in a |blob_bytes| sparse blob, then "after".
void SendQueueBomb(int sock, const std::string& text, uint32_t count, size_t blob_bytes) {
  uint64_t seq = 0;
  CHILD_CHECK_EQ(SendText(sock, &seq, "before"), 0);
  int pair[2];
  CHILD_CHECK(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, pair) == 0);
  int blob = SparseSealedMemfd(blob_bytes);
  EndpointState s = {};
  s.flags = kHasQueue;
  s.queue_count = count;
  s.queue_bytes = blob_bytes;
  std::vector<uint8_t> desc;
  AppendHandle(&desc, MX_OBJ_TYPE_CHANNEL, 2, &s, sizeof(s));
  int fds[2] = {pair[1], blob};
  std::vector<uint8_t> bytes = FrameSpec(kFrameData, seq++, text, desc, 1, 2).Encode();
  CHILD_CHECK_EQ(SendOn(sock, bytes.data(), bytes.size(), fds, 2), 0);
  close(pair[0]);
  close(pair[1]);
  close(blob);
  CHILD_CHECK_EQ(SendText(sock, &seq, "after"), 0);
}

// Sends "before", then kMalformedRun messages that each carry an "event" made of three pipe
// ends (the right shape, so the frames decode; the receiver refuses the handle when the message
// is read), then "after", and tells the victim on |ctl| that everything was sent.
constexpr int kMalformedRun = 100;
void SendMalformedRun(int sock, mx_handle_t ctl) {
  uint64_t seq = 0;
  CHILD_CHECK_EQ(SendText(sock, &seq, "before"), 0);
  int pipe_fds[2];
  CHILD_CHECK(pipe2(pipe_fds, O_CLOEXEC) == 0);
  const int fds[3] = {pipe_fds[0], pipe_fds[0], pipe_fds[1]};
  for (int i = 0; i < kMalformedRun; ++i) {
    std::vector<uint8_t> desc;
    AppendHandle(&desc, MX_OBJ_TYPE_EVENT, 3);
    std::vector<uint8_t> bytes = FrameSpec(kFrameData, seq++, "bad", desc, 1, 3).Encode();
    CHILD_CHECK_EQ(SendOn(sock, bytes.data(), bytes.size(), fds, 3), 0);
  }
  close(pipe_fds[0]);
  close(pipe_fds[1]);
  CHILD_CHECK_EQ(SendText(sock, &seq, "after"), 0);
  CHILD_CHECK_OK(mx_test::WriteMessage(ctl, "sent", 4));
}

// A dense, sealed memfd of |count| empty messages (every byte written, so within the rules).
int DenseQueueBlob(uint32_t count) {
  const size_t bytes = size_t{count} * 16;
  int blob = memfd_create("attack-blob", MFD_CLOEXEC | MFD_ALLOW_SEALING);
  CHILD_CHECK(blob >= 0);
  std::vector<uint8_t> zeros(bytes, 0);
  CHILD_CHECK(pwrite(blob, zeros.data(), bytes, 0) == static_cast<ssize_t>(bytes));
  CHILD_CHECK(fcntl(blob, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE | F_SEAL_SEAL) ==
              0);
  return blob;
}

// Sends "before", then "reused" carrying |handles| endpoints that all name one queue blob: a
// dense, sealed memfd of |count| empty messages (every byte written, so within the rules), then
// "after".
void SendReusedBlob(int sock, uint32_t handles, uint32_t count) {
  uint64_t seq = 0;
  CHILD_CHECK_EQ(SendText(sock, &seq, "before"), 0);
  const size_t bytes = size_t{count} * 16;
  int blob = DenseQueueBlob(count);
  EndpointState s = {};
  s.flags = kHasQueue;
  s.queue_count = count;
  s.queue_bytes = bytes;
  std::vector<uint8_t> desc;
  std::vector<int> fds;
  for (uint32_t i = 0; i < handles; ++i) {
    AppendHandle(&desc, MX_OBJ_TYPE_CHANNEL, 2, &s, sizeof(s));
    int pair[2];
    CHILD_CHECK(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, pair) == 0);
    close(pair[0]);
    fds.push_back(pair[1]);
    fds.push_back(blob);
  }
  std::vector<uint8_t> frame =
      FrameSpec(kFrameData, seq++, "reused", desc, handles, static_cast<uint32_t>(fds.size()))
          .Encode();
  CHILD_CHECK_EQ(SendOn(sock, frame.data(), frame.size(), fds.data(), fds.size()), 0);
  for (size_t i = 0; i < fds.size(); i += 2) close(fds[i]);
  close(blob);
  CHILD_CHECK_EQ(SendText(sock, &seq, "after"), 0);
}

// Sends "before", then |messages| messages "repeat", each carrying one endpoint whose queue is
// the same blob of |count| empty messages (paid for once), then "after". Paced by the victim:
// after each "repeat" it waits for a message on |ctl|, so every read finds its message there.
void SendRepeatedBlob(int sock, mx_handle_t ctl, uint32_t messages, uint32_t count) {
  uint64_t seq = 0;
  CHILD_CHECK_EQ(SendText(sock, &seq, "before"), 0);
  int blob = DenseQueueBlob(count);
  EndpointState s = {};
  s.flags = kHasQueue;
  s.queue_count = count;
  s.queue_bytes = size_t{count} * 16;
  for (uint32_t i = 0; i < messages; ++i) {
    std::vector<uint8_t> desc;
    AppendHandle(&desc, MX_OBJ_TYPE_CHANNEL, 2, &s, sizeof(s));
    int pair[2];
    CHILD_CHECK(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, pair) == 0);
    close(pair[0]);
    int fds[2] = {pair[1], blob};
    std::vector<uint8_t> frame = FrameSpec(kFrameData, seq++, "repeat", desc, 1, 2).Encode();
    CHILD_CHECK_EQ(SendOn(sock, frame.data(), frame.size(), fds, 2), 0);
    close(pair[1]);
    Message next;
    CHILD_CHECK_OK(mx_test::ReadMessage(ctl, &next));
  }
  close(blob);
  CHILD_CHECK_EQ(SendText(sock, &seq, "after"), 0);
}

// 64 fd-handle descriptors of 1,000 extra bytes each and no fds: 67 KB that describe nothing,
// small enough for the receive buffer before and after the fix, so the descriptors themselves are
// what is judged.
std::vector<uint8_t> BloatedFrame(uint64_t seq) {
  std::vector<uint8_t> extra(1000, 0x5a);
  std::vector<uint8_t> desc;
  for (uint32_t i = 0; i < MX_CHANNEL_MAX_MSG_HANDLES; ++i) {
    AppendHandle(&desc, MX_OBJ_TYPE_FD, 0, extra.data(), static_cast<uint32_t>(extra.size()));
  }
  return FrameSpec(kFrameData, seq, "bloat", desc, MX_CHANNEL_MAX_MSG_HANDLES, 0).Encode();
}

constexpr int kBloatedFrames = 300;

// What the attacker reports over the control channel after a no-WRITE scenario.
struct NoWriteReport {
  uint32_t handle_type;
  uint32_t handle_fds;
  uint32_t state_flags;
  int32_t send_errno;  // of the forged data frame
};

// Reads one datagram from |sock| (30 s at most) with its fds.
bool ReceiveRaw(int sock, std::vector<uint8_t>* bytes, std::vector<int>* fds) {
  struct pollfd p = {sock, POLLIN, 0};
  if (poll(&p, 1, 30000) != 1) return false;
  bytes->assign(256 * 1024, 0);
  std::vector<char> control(CMSG_SPACE(sizeof(int) * 253));
  struct iovec iov = {bytes->data(), bytes->size()};
  struct msghdr msg = {};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  msg.msg_control = control.data();
  msg.msg_controllen = control.size();
  ssize_t n = recvmsg(sock, &msg, MSG_CMSG_CLOEXEC);
  if (n < 0) return false;
  bytes->resize(static_cast<size_t>(n));
  for (struct cmsghdr* c = CMSG_FIRSTHDR(&msg); c != nullptr; c = CMSG_NXTHDR(&msg, c)) {
    if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS) continue;
    size_t count = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
    const int* p_fds = reinterpret_cast<const int*>(CMSG_DATA(c));
    fds->insert(fds->end(), p_fds, p_fds + count);
  }
  return true;
}

// Receives the frame carrying the victim's endpoint (sent without WRITE), then writes a data
// frame on that endpoint's socket as if it still had WRITE.
void ForgeWithoutWrite(int sock, mx_handle_t ctl) {
  std::vector<uint8_t> bytes;
  std::vector<int> fds;
  CHILD_CHECK(ReceiveRaw(sock, &bytes, &fds));
  FrameHeader h;
  CHILD_CHECK(bytes.size() >= sizeof(h) + sizeof(WireHandle));
  memcpy(&h, bytes.data(), sizeof(h));
  CHILD_CHECK_EQ(h.num_handles, 1u);
  WireHandle w;
  memcpy(&w, bytes.data() + sizeof(h) + h.num_bytes, sizeof(w));
  EndpointState s = {};
  CHILD_CHECK_EQ(w.extra_bytes, sizeof(s));
  memcpy(&s, bytes.data() + sizeof(h) + h.num_bytes + sizeof(w), sizeof(s));
  CHILD_CHECK(!fds.empty());
  NoWriteReport report = {w.type, w.num_fds, s.flags, 0};
  std::vector<uint8_t> forged = FrameSpec(kFrameData, s.send_seq, "forged").Encode();
  report.send_errno = SendOn(fds[0], forged.data(), forged.size(), nullptr, 0);
  CHILD_CHECK_OK(mx_test::WritePod(ctl, report));
  // Hold the endpoint until the victim has looked.
  Message done;
  CHILD_CHECK_OK(mx_test::ReadMessage(ctl, &done));
  for (int fd : fds) close(fd);
}

// args: scenario, service name, "1" to drop to nobody. PA_USER0: the control channel.
MX_CHILD(transfer_attacker) {
  CHILD_CHECK_EQ(args.size(), 3u);
  mx_handle_t ctl = mx_test::TakeStartupHandle(PA_HND(PA_USER0, 0));
  if (args[2] == "1") CHILD_CHECK(mx_test::BecomeNobody());
  int sock = -1;
  CHILD_CHECK_EQ(ConnectRawPeer(args[1], &sock), 0);
  const std::string& scenario = args[0];
  if (scenario == "bomb_oversized") {
    // 4M empty messages in a 64 MiB blob: four times what an endpoint may hold.
    SendQueueBomb(sock, "bomb", 4u << 20, size_t{64} << 20);
  } else if (scenario == "bomb_sparse") {
    // 250,000 empty messages in a 4 MB blob, within the limits, but never written.
    SendQueueBomb(sock, "sparse", 250000, 250000 * 16);
  } else if (scenario == "bomb_reused") {
    // 16 endpoints behind one 1 MiB blob of 65,536 empty messages.
    SendReusedBlob(sock, 16, 65536);
  } else if (scenario == "blob_repeated") {
    // One 1 MiB blob of 65,536 empty messages behind the endpoints of 20 messages.
    SendRepeatedBlob(sock, ctl, kRepeatedBlobMessages, 65536);
  } else if (scenario == "bloat") {
    uint64_t seq = 0;
    CHILD_CHECK_EQ(SendText(sock, &seq, "before"), 0);
    for (int i = 0; i < kBloatedFrames; ++i) {
      std::vector<uint8_t> frame = BloatedFrame(seq++);
      if (SendOn(sock, frame.data(), frame.size(), nullptr, 0) != 0) break;  // hung up on
    }
    // Done: user signal 0 on the victim's endpoint, then one more message.
    uint32_t masks[2] = {0, MX_USER_SIGNAL_0};
    std::vector<uint8_t> signal =
        FrameSpec(kFrameSignal, 0, std::string(reinterpret_cast<char*>(masks), 8)).Encode();
    if (SendOn(sock, signal.data(), signal.size(), nullptr, 0) == 0) {
      SendText(sock, &seq, "after");
    }
  } else if (scenario == "malformed_run") {
    SendMalformedRun(sock, ctl);
  } else if (scenario == "no_write") {
    ForgeWithoutWrite(sock, ctl);
  } else {
    CHILD_CHECK(false);
  }
  Message done;
  if (scenario != "no_write") CHILD_CHECK_OK(mx_test::ReadMessage(ctl, &done));
  close(sock);
  mx_handle_close(ctl);
  return 0;
}

// An honest libmx process holding an endpoint it received without WRITE (PA_USER1), with a
// control channel (PA_USER0). It checks it cannot write, reads what the peer sent, signals the
// peer, and waits for the peer's signal back.
MX_CHILD(no_write_holder) {
  mx_handle_t ctl = mx_test::TakeStartupHandle(PA_HND(PA_USER0, 0));
  mx_handle_t ep = mx_test::TakeStartupHandle(PA_HND(PA_USER1, 0));
  CHILD_CHECK_EQ(mx_test::RightsOf(ep) & MX_RIGHT_WRITE, 0u);
  CHILD_CHECK_EQ(mx_channel_write(ep, 0, "x", 1, nullptr, 0), MX_ERR_ACCESS_DENIED);
  for (int i = 0; i < 3; ++i) {
    Message m;
    CHILD_CHECK_OK(mx_test::ReadMessage(ep, &m));
    CHILD_CHECK(std::string(m.bytes.begin(), m.bytes.end()) == mx_test::Numbered("to-holder", i));
  }
  CHILD_CHECK_OK(mx_object_signal_peer(ep, 0, MX_USER_SIGNAL_0));
  mx_signals_t seen = 0;
  CHILD_CHECK_OK(mx_object_wait_one(ep, MX_USER_SIGNAL_1 | MX_CHANNEL_PEER_CLOSED,
                                    mx_test::DefaultDeadline(), &seen));
  CHILD_CHECK(seen & MX_USER_SIGNAL_1);
  CHILD_CHECK((seen & MX_CHANNEL_PEER_CLOSED) == 0);
  Message m;
  CHILD_CHECK_OK(mx_test::ReadMessage(ep, &m));  // one more after the signals
  CHILD_CHECK(std::string(m.bytes.begin(), m.bytes.end()) == "last");
  CHILD_CHECK_OK(mx_test::WriteMessage(ctl, "done", 4));
  Message bye;
  CHILD_CHECK_OK(mx_test::ReadMessage(ctl, &bye));
  mx_handle_close(ep);
  mx_handle_close(ctl);
  return 0;
}

// ---- The victim -------------------------------------------------------------------------------

std::atomic<uint32_t> g_counter{0};

class HostileTransferTest : public mx_test::MultiprocessTest {
 protected:
  // Listens, spawns the attacker for |scenario| and accepts its raw connection.
  void StartAttacker(const char* scenario) {
    service_ =
        "@libmx-hostile-transfer-" + std::to_string(getpid()) + "-" + std::to_string(g_counter++);
    ASSERT_EQ(mx_service_listen(service_.c_str(), 0, &listener_), MX_OK);
    mx_handle_t remote, process;
    ASSERT_EQ(mx_channel_create(0, &ctl_, &remote), MX_OK);
    const bool drop = mx_test::CanBecomeAnotherUser();
    ASSERT_EQ(mx_test::SpawnChild("transfer_attacker", {{PA_HND(PA_USER0, 0), remote}},
                                  {scenario, service_, drop ? "1" : "0"}, &process),
              MX_OK);
    attacker_ = mx_test::ScopedProcess(process);
    for (;;) {
      ASSERT_EQ(
          mx_object_wait_one(listener_, MX_SERVICE_READABLE, mx_test::DefaultDeadline(), nullptr),
          MX_OK);
      mx_status_t st = mx_service_accept(listener_, &victim_);
      if (st == MX_OK) break;
      ASSERT_EQ(st, MX_ERR_SHOULD_WAIT);
    }
  }

  void TearDown() override {
    if (victim_ != MX_HANDLE_INVALID) mx_handle_close(victim_);
    if (ctl_ != MX_HANDLE_INVALID) {
      mx_test::WriteMessage(ctl_, "done", 4);
      mx_handle_close(ctl_);
    }
    if (attacker_.get() != MX_HANDLE_INVALID) {
      EXPECT_EQ(attacker_.Join(), 0);
    }
    attacker_ = mx_test::ScopedProcess();
    if (listener_ != MX_HANDLE_INVALID) mx_handle_close(listener_);
    mx_test::MultiprocessTest::TearDown();
  }

  // Reads one message: its text and its handles (closed).
  mx_status_t ReadText(std::string* text, size_t* handles = nullptr) {
    Message m;
    mx_status_t st = mx_test::ReadMessage(victim_, &m);
    if (st != MX_OK) return st;
    text->assign(m.bytes.begin(), m.bytes.end());
    if (handles != nullptr) *handles = m.handles.size();
    mx_test::CloseAll(&m.handles);
    return MX_OK;
  }

  // One read, measured: how long it took and how much the peak RSS grew (-1 if the peak could
  // not be reset, so growth cannot be told).
  struct MeasuredRead {
    mx_status_t status;
    std::string text;
    size_t handles = 99;
    double took;
    long grew;
  };
  MeasuredRead ReadMeasured() {
    MeasuredRead r;
    const bool reset = ResetPeakRss();
    const long hwm_before = StatusKb("VmHWM");
    const mx_time_t start = mx_time_get(MX_CLOCK_MONOTONIC);
    r.status = ReadText(&r.text, &r.handles);
    r.took = Seconds(start);
    r.grew = reset ? StatusKb("VmHWM") - hwm_before : -1;
    return r;
  }

  std::string service_;
  mx_handle_t listener_ = MX_HANDLE_INVALID;
  mx_handle_t ctl_ = MX_HANDLE_INVALID;
  mx_handle_t victim_ = MX_HANDLE_INVALID;
  mx_test::ScopedProcess attacker_;
};

// A well-formed endpoint whose state claims a 64 MiB queue of 4M messages in a sparse memfd.
// Before: the read copied the 64 MiB and built 4M messages (hundreds of MB, seconds of CPU), and
// the victim got a handle holding them. After: the endpoint is dropped at decode time and the
// message arrives without it.
TEST_F(HostileTransferTest, QueueBlobBombIsDroppedBeforeAnythingIsSpent) {
  ASSERT_NO_FATAL_FAILURE(StartAttacker("bomb_oversized"));
  std::string text;
  ASSERT_EQ(ReadText(&text), MX_OK);
  EXPECT_EQ(text, "before");
  const MeasuredRead read = ReadMeasured();
  ASSERT_EQ(read.status, MX_OK);
  EXPECT_EQ(read.text, "bomb");
  EXPECT_EQ(read.handles, 0u) << "the oversized endpoint must be dropped, the message kept";
  if (read.grew >= 0) {
    EXPECT_LT(read.grew, 16 * 1024) << "KiB of peak RSS spent on a sparse queue blob";
  }
  ASSERT_EQ(ReadText(&text), MX_OK);
  EXPECT_EQ(text, "after");
  printf(
      "[attack] queue blob bomb (64 MiB sparse blob, 4M messages claimed): read took %.3f s, "
      "peak RSS +%ld KiB (ru_maxrss %ld KiB), message delivered with %zu handles\n",
      read.took, read.grew, MaxRssKb(), read.handles);
}

// Within the limits, but sparse: 250,000 empty messages in a 4 MB memfd that was never written.
// Before: decoded into 250,000 messages (tens of MB the sender never paid for). After: the blob is
// refused (it has holes) and the message is skipped as malformed.
TEST_F(HostileTransferTest, SparseQueueBlobIsRefused) {
  ASSERT_NO_FATAL_FAILURE(StartAttacker("bomb_sparse"));
  std::string text;
  ASSERT_EQ(ReadText(&text), MX_OK);
  EXPECT_EQ(text, "before");
  const MeasuredRead read = ReadMeasured();
  ASSERT_EQ(read.status, MX_OK);
  EXPECT_EQ(read.text, "after") << "the message carrying the sparse blob must be skipped";
  if (read.grew >= 0) {
    EXPECT_LT(read.grew, 8 * 1024) << "KiB of peak RSS spent on a sparse queue blob";
  }
  printf(
      "[attack] sparse queue blob (250,000 messages in 4 MB never written): read took %.3f s, "
      "peak RSS +%ld KiB, next message read: \"%s\"\n",
      read.took, read.grew, read.text.c_str());
}

// A hundred messages in a row whose handle the receiver refuses. Before: one mx_channel_read
// skipped them all (a peer sending such messages without end held it forever). After: a read
// skips at most 64, then returns SHOULD_WAIT with READABLE still asserted; the next read goes on,
// and every refused handle's fds are closed.
TEST_F(HostileTransferTest, ARunOfMalformedHandlesReturnsToTheReaderEvery64Messages) {
  ASSERT_NO_FATAL_FAILURE(StartAttacker("malformed_run"));
  std::string text;
  ASSERT_EQ(ReadText(&text), MX_OK);
  EXPECT_EQ(text, "before");
  Message sent;
  ASSERT_EQ(mx_test::ReadMessage(ctl_, &sent), MX_OK);  // all 101 frames are queued now
  const size_t fds_before = mx_test::CountOpenFds();
  char buf[16];
  mx_handle_t handles[4];
  uint32_t nb = 0, nh = 0;
  const mx_status_t first = mx_channel_read(victim_, 0, buf, handles, sizeof(buf), 4, &nb, &nh);
  EXPECT_EQ(first, MX_ERR_SHOULD_WAIT) << "one read may skip at most 64 malformed messages";
  mx_signals_t pending = 0;
  EXPECT_EQ(mx_object_wait_one(victim_, MX_CHANNEL_READABLE, 0, &pending), MX_OK);
  EXPECT_TRUE(pending & MX_CHANNEL_READABLE);
  size_t got_handles = 99;
  ASSERT_EQ(ReadText(&text, &got_handles), MX_OK);
  EXPECT_EQ(text, "after");
  EXPECT_EQ(got_handles, 0u);
  EXPECT_LE(mx_test::CountOpenFds(), fds_before) << "a refused handle's fds must be closed";
  printf("[attack] %d messages with a refused handle: first read %s, then \"%s\"\n", kMalformedRun,
         mx_test::StatusName(first), text.c_str());
}

// One blob the attacker paid for once (1 MiB, written), named by 16 endpoints of one message.
// Before: decoded 16 times (over a million messages). After: the first endpoint carries the
// queue, the other 15 are dropped and the message arrives with one handle.
TEST_F(HostileTransferTest, QueueBlobSharedByTwoEndpointsIsRefused) {
  ASSERT_NO_FATAL_FAILURE(StartAttacker("bomb_reused"));
  std::string text;
  ASSERT_EQ(ReadText(&text), MX_OK);
  EXPECT_EQ(text, "before");
  const MeasuredRead read = ReadMeasured();
  ASSERT_EQ(read.status, MX_OK);
  EXPECT_EQ(read.text, "reused");
  EXPECT_EQ(read.handles, 1u) << "only the first endpoint naming the blob may arrive";
  if (read.grew >= 0) {
    // One decoded queue: about 6 MiB (35 MiB under tsan); sixteen of them are 100+ MiB.
    EXPECT_LT(read.grew, 64 * 1024) << "KiB of peak RSS spent decoding one blob many times";
  }
  ASSERT_EQ(ReadText(&text), MX_OK);
  EXPECT_EQ(text, "after");
  printf(
      "[attack] one 1 MiB queue blob behind 16 endpoints: read took %.3f s, peak RSS +%ld KiB, "
      "read \"%s\" with %zu handles\n",
      read.took, read.grew, read.text.c_str(), read.handles);
}

// One blob the attacker paid for once (1 MiB of 65,536 empty messages), named by the endpoint of
// each of 20 messages. The victim keeps every endpoint it receives, as a server would. Before:
// every read decoded the blob into a fresh queue, and the victim grew by one queue per message.
// After: the first endpoint carries the queue; the other 19 messages arrive without their
// endpoint, and the victim grows by one queue.
TEST_F(HostileTransferTest, QueueBlobRepeatedAcrossMessagesIsDecodedOnce) {
  ASSERT_NO_FATAL_FAILURE(StartAttacker("blob_repeated"));
  std::string text;
  ASSERT_EQ(ReadText(&text), MX_OK);
  EXPECT_EQ(text, "before");
  const bool reset = ResetPeakRss();
  const long hwm_before = StatusKb("VmHWM");
  const mx_time_t start = mx_time_get(MX_CLOCK_MONOTONIC);
  std::vector<mx_handle_t> kept;
  std::vector<size_t> handles_per_message;
  long grew_after_first = 0;
  for (uint32_t i = 0; i < kRepeatedBlobMessages; ++i) {
    Message m;
    ASSERT_EQ(mx_test::ReadMessage(victim_, &m), MX_OK);
    ASSERT_EQ(std::string(m.bytes.begin(), m.bytes.end()), "repeat");
    handles_per_message.push_back(m.handles.size());
    kept.insert(kept.end(), m.handles.begin(), m.handles.end());
    if (i == 0 && reset) grew_after_first = StatusKb("VmHWM") - hwm_before;
    ASSERT_EQ(mx_test::WriteMessage(ctl_, "next", 4), MX_OK);
  }
  const double took = Seconds(start);
  const long grew = reset ? StatusKb("VmHWM") - hwm_before : -1;
  ASSERT_EQ(ReadText(&text), MX_OK);
  EXPECT_EQ(text, "after");
  // Which endpoints carry a queue: a read that finds a message.
  size_t with_queue = 0;
  for (mx_handle_t h : kept) {
    uint32_t bytes = 0, handles = 0;
    if (mx_channel_read(h, 0, nullptr, nullptr, 0, 0, &bytes, &handles) == MX_OK) ++with_queue;
  }
  size_t delivered = 0;
  for (size_t n : handles_per_message) delivered += n;
  printf(
      "[attack] one 1 MiB queue blob behind the endpoints of %u messages, all kept: %zu "
      "endpoints delivered, %zu with a queue; reads took %.3f s, peak RSS +%ld KiB (first "
      "message +%ld KiB, ru_maxrss %ld KiB)\n",
      kRepeatedBlobMessages, delivered, with_queue, took, grew, grew_after_first, MaxRssKb());
  EXPECT_EQ(handles_per_message.at(0), 1u) << "the first endpoint naming the blob arrives";
  EXPECT_EQ(delivered, 1u) << "the blob's later endpoints must be dropped";
  EXPECT_EQ(with_queue, 1u);
  if (grew >= 0) {
    // One decoded queue, with room to spare; the old code grew by about 20 of them.
    EXPECT_LT(grew, 2 * grew_after_first + 8 * 1024) << "KiB of peak RSS";
  }
  for (mx_handle_t h : kept) mx_handle_close(h);
}

// Frames of 64 descriptors x 1,000 extra bytes, no fds. Before: each was accepted by the decoder
// and charged 69 bytes, so a waiting victim pulled all 300 (20 MB of heap) into its queue. After:
// the first one breaks the channel.
TEST_F(HostileTransferTest, DescriptorBloatBreaksTheChannelAtTheFirstFrame) {
  ASSERT_NO_FATAL_FAILURE(StartAttacker("bloat"));
  const bool reset = ResetPeakRss();
  const long hwm_before = StatusKb("VmHWM");
  mx_signals_t seen = 0;
  ASSERT_EQ(mx_object_wait_one(victim_, MX_USER_SIGNAL_0 | MX_CHANNEL_PEER_CLOSED,
                               mx_test::DefaultDeadline(), &seen),
            MX_OK);
  const long grew = StatusKb("VmHWM") - hwm_before;
  EXPECT_TRUE(seen & MX_CHANNEL_PEER_CLOSED);
  EXPECT_FALSE(seen & MX_USER_SIGNAL_0) << "the frames after the first bloated one were read";
  if (reset) {
    EXPECT_LT(grew, 8 * 1024) << "KiB of peak RSS spent on descriptors";
  }
  std::string text;
  ASSERT_EQ(ReadText(&text), MX_OK);
  EXPECT_EQ(text, "before");
  EXPECT_EQ(ReadText(&text), MX_ERR_PEER_CLOSED);
  printf(
      "[attack] descriptor bloat (%d frames of 64 descriptors x 1,000 extra bytes, no fds): "
      "peak RSS +%ld KiB while waiting, signals 0x%x\n",
      kBloatedFrames, reset ? grew : -1, seen);
}

// Sends |endpoint| (rights reduced to drop WRITE) to the attacker on the victim channel and
// returns what the attacker saw and did.
void SendWithoutWrite(mx_handle_t victim, mx_handle_t ctl, mx_handle_t endpoint,
                      NoWriteReport* report) {
  mx_handle_t reduced;
  ASSERT_EQ(mx_handle_replace(endpoint, MX_DEFAULT_CHANNEL_RIGHTS & ~MX_RIGHT_WRITE, &reduced),
            MX_OK);
  ASSERT_EQ(mx_test::WriteMessage(victim, "take", 4, {reduced}), MX_OK);
  ASSERT_EQ(mx_test::ReadPod(ctl, report), MX_OK);
}

// The victim keeps |a| and hands |b| to the attacker without WRITE; the attacker writes a raw data
// frame on b's socket. Before: |a| read the forged message. After: the frame breaks the channel.
TEST_F(HostileTransferTest, NoWriteEndpointCannotBeWrittenThroughItsSocket) {
  ASSERT_NO_FATAL_FAILURE(StartAttacker("no_write"));
  mx_handle_t a, b;
  ASSERT_EQ(mx_channel_create(0, &a, &b), MX_OK);
  NoWriteReport report = {};
  ASSERT_NO_FATAL_FAILURE(SendWithoutWrite(victim_, ctl_, b, &report));
  EXPECT_EQ(report.handle_type, static_cast<uint32_t>(MX_OBJ_TYPE_CHANNEL));
  EXPECT_EQ(report.send_errno, 0);
  Message m;
  mx_status_t st = mx_test::ReadMessage(a, &m);
  const std::string got(m.bytes.begin(), m.bytes.end());
  EXPECT_EQ(st, MX_ERR_PEER_CLOSED) << "read \"" << got << "\"";
  mx_test::CloseAll(&m.handles);
  printf(
      "[attack] raw data frame on an endpoint received without WRITE: victim's read returned "
      "%s%s\n",
      mx_test::StatusName(st), st == MX_OK ? (" \"" + got + "\"").c_str() : "");
  mx_handle_close(a);
}

// The same after |b| has written enough to have a shared-memory ring: the ring stays behind (the
// attacker could publish records in it), and the raw frame still breaks the channel.
TEST_F(HostileTransferTest, NoWriteEndpointTravelsWithoutItsSendRing) {
  ASSERT_NO_FATAL_FAILURE(StartAttacker("no_write"));
  mx_handle_t a, b;
  ASSERT_EQ(mx_channel_create(0, &a, &b), MX_OK);
  for (int i = 0; i < 20; ++i) {
    const std::string text = mx_test::Numbered("from-b", i);
    ASSERT_EQ(mx_test::WriteMessage(b, text.data(), text.size()), MX_OK);
  }
  // Two are left unread: they were written before the transfer and stay readable.
  for (int i = 0; i < 18; ++i) {
    Message m;
    ASSERT_EQ(mx_test::ReadMessage(a, &m), MX_OK);
    EXPECT_EQ(std::string(m.bytes.begin(), m.bytes.end()), mx_test::Numbered("from-b", i));
  }
  NoWriteReport report = {};
  ASSERT_NO_FATAL_FAILURE(SendWithoutWrite(victim_, ctl_, b, &report));
  EXPECT_EQ(report.state_flags & kHasSendRing, 0u) << "the send ring went with the endpoint";
  EXPECT_EQ(report.handle_fds, 1u);
  for (int i = 18; i < 20; ++i) {
    Message m;
    ASSERT_EQ(mx_test::ReadMessage(a, &m), MX_OK);
    EXPECT_EQ(std::string(m.bytes.begin(), m.bytes.end()), mx_test::Numbered("from-b", i));
  }
  Message m;
  mx_status_t st = mx_test::ReadMessage(a, &m);
  EXPECT_EQ(st, MX_ERR_PEER_CLOSED)
      << "read \"" << std::string(m.bytes.begin(), m.bytes.end()) << "\"";
  mx_test::CloseAll(&m.handles);
  printf(
      "[attack] endpoint with a ring received without WRITE: it carried %u fds (flags 0x%x); "
      "raw data frame -> victim's read returned %s\n",
      report.handle_fds, report.state_flags, mx_test::StatusName(st));
  mx_handle_close(a);
}

// The honest side of the same rule: a process holding an endpoint without WRITE reads, signals
// its peer and receives its signals, and its peer sees it alive until it closes — with a ring
// set up in both directions before the transfer.
TEST_F(HostileTransferTest, NoWriteHolderStillReadsAndSignalsAndIsNotSeenAsClosed) {
  mx_handle_t a, b;
  ASSERT_EQ(mx_channel_create(0, &a, &b), MX_OK);
  for (int i = 0; i < 12; ++i) {
    ASSERT_EQ(mx_test::WriteMessage(b, "warm", 4), MX_OK);
    ASSERT_EQ(mx_test::WriteMessage(a, "warm", 4), MX_OK);
    Message m;
    ASSERT_EQ(mx_test::ReadMessage(a, &m), MX_OK);
    ASSERT_EQ(mx_test::ReadMessage(b, &m), MX_OK);
  }
  for (int i = 0; i < 3; ++i) {
    const std::string text = mx_test::Numbered("to-holder", i);
    ASSERT_EQ(mx_test::WriteMessage(a, text.data(), text.size()), MX_OK);
  }
  mx_handle_t reduced;
  ASSERT_EQ(mx_handle_replace(b, MX_DEFAULT_CHANNEL_RIGHTS & ~MX_RIGHT_WRITE, &reduced), MX_OK);
  mx_handle_t ctl, remote, process;
  ASSERT_EQ(mx_channel_create(0, &ctl, &remote), MX_OK);
  ASSERT_EQ(mx_test::SpawnChild("no_write_holder",
                                {{PA_HND(PA_USER0, 0), remote}, {PA_HND(PA_USER1, 0), reduced}}, {},
                                &process),
            MX_OK);
  mx_test::ScopedProcess child(process);
  mx_signals_t seen = 0;
  ASSERT_EQ(mx_object_wait_one(a, MX_USER_SIGNAL_0 | MX_CHANNEL_PEER_CLOSED,
                               mx_test::DefaultDeadline(), &seen),
            MX_OK);
  EXPECT_TRUE(seen & MX_USER_SIGNAL_0);
  EXPECT_FALSE(seen & MX_CHANNEL_PEER_CLOSED);
  EXPECT_TRUE(mx_test::PendingSignals(a) & MX_CHANNEL_WRITABLE);
  ASSERT_EQ(mx_object_signal_peer(a, 0, MX_USER_SIGNAL_1), MX_OK);
  ASSERT_EQ(mx_test::WriteMessage(a, "last", 4), MX_OK);
  Message done;
  ASSERT_EQ(mx_test::ReadMessage(ctl, &done), MX_OK);
  EXPECT_FALSE(mx_test::PendingSignals(a) & MX_CHANNEL_PEER_CLOSED);
  ASSERT_EQ(mx_test::WriteMessage(ctl, "bye", 3), MX_OK);
  EXPECT_EQ(child.Join(), 0);
  ASSERT_EQ(mx_object_wait_one(a, MX_CHANNEL_PEER_CLOSED, mx_test::DefaultDeadline(), nullptr),
            MX_OK);
  mx_handle_close(a);
  mx_handle_close(ctl);
}

}  // namespace
