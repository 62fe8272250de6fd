// SPDX-License-Identifier: BSD-3-Clause
// bench/peer_iceoryx.cc: the iceoryx link and the RouDi daemon (see peer_iceoryx.h).
#include "peer_iceoryx.h"

#include <pwd.h>
#include <sys/stat.h>

#include <fstream>
#include <sstream>

#include "links.h"

#if MXB_HAVE_ICEORYX
// The C binding's headers declare C functions without extern "C" of their own.
extern "C" {
#include <iceoryx_binding_c/chunk.h>
#include <iceoryx_binding_c/log.h>
#include <iceoryx_binding_c/publisher.h>
#include <iceoryx_binding_c/runtime.h>
#include <iceoryx_binding_c/subscriber.h>
#include <iceoryx_binding_c/wait_set.h>
}
#endif

namespace mxb {

#if MXB_HAVE_ICEORYX

namespace {

// Why the iceoryx rows cannot run; "" while our RouDi accepts clients.
std::string g_roudi_error = "iox-roudi was not started";
bool g_runtime = false;  // this process registered with RouDi

// What iox-roudi leaves behind when it cannot clean up: its shared memory (management segment and
// one data segment named after the user), its socket and its lock files.
void RemoveRoudiFiles() {
  const passwd* pw = getpwuid(geteuid());
  std::string user = pw != nullptr ? pw->pw_name : "";
  if (!user.empty()) shm_unlink(("/" + user).c_str());
  shm_unlink("/iceoryx_mgmt");
  for (const char* f : {"/tmp/roudi", "/tmp/roudi.lock", "/tmp/iox-unique-roudi.lock"}) unlink(f);
}

// Why RouDi gave up, from its log: its first fatal message, else its last line, without colours.
std::string RoudiComplaint(const std::string& path) {
  std::ifstream in(path);
  std::string line, last, fatal;
  while (std::getline(in, line)) {
    std::string plain;
    for (size_t i = 0; i < line.size(); ++i) {
      if (line[i] == '\x1b') {
        while (i < line.size() && line[i] != 'm') ++i;  // an SGR sequence: ESC [ ... m
        continue;
      }
      plain.push_back(line[i]);
    }
    if (plain.empty()) continue;
    last = plain;
    size_t at = plain.find("[ Fatal ]: ");
    if (fatal.empty() && at != std::string::npos) fatal = plain.substr(at + 11);
  }
  return fatal.empty() ? last : fatal;
}

bool FileContains(const std::string& path, const char* text) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str().find(text) != std::string::npos;
}

}  // namespace

RoudiGuard::RoudiGuard(const std::string& log_path) {
  int log = open(log_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (log < 0) {
    g_roudi_error = "cannot write " + log_path;
    return;
  }
  pid_t parent = getpid();
  pid_t pid = fork();
  if (pid < 0) {
    close(log);
    g_roudi_error = "fork failed";
    return;
  }
  if (pid == 0) {
    // SIGTERM, not SIGKILL, if the bench dies: RouDi then removes its shared memory itself.
    prctl(PR_SET_PDEATHSIG, SIGTERM);
    if (getppid() != parent) _exit(120);
    dup2(log, 1);
    dup2(log, 2);
    execlp("iox-roudi", "iox-roudi", static_cast<char*>(nullptr));
    _exit(127);
  }
  close(log);
  pid_ = pid;
  uint64_t deadline = NowNs() + 15 * kSec;
  for (;;) {
    if (FileContains(log_path, "RouDi is ready for clients")) {
      g_roudi_error.clear();
      fprintf(stderr, "== iox-roudi (pid %d) is ready for clients\n", pid);
      return;
    }
    int status = 0;
    if (waitpid(pid, &status, WNOHANG) == pid) {
      pid_ = -1;
      std::string last = RoudiComplaint(log_path);
      g_roudi_error = WIFEXITED(status) && WEXITSTATUS(status) == 127
                          ? "iox-roudi not found (apt-get install iceoryx)"
                          : "iox-roudi exited at start" + (last.empty() ? "" : ": " + last);
      return;
    }
    if (NowNs() >= deadline) {
      g_roudi_error = "iox-roudi not ready within 15 s";
      return;  // the destructor stops it
    }
    usleep(10000);
  }
}

// Killed, not asked to stop: an orderly RouDi sends SIGTERM to every process registered with it,
// this one included (an iceoryx runtime cannot unregister before its process exits), and SIGKILLs
// those that stay. So the files it would remove are removed here.
RoudiGuard::~RoudiGuard() {
  if (g_runtime) {
    iox_runtime_shutdown();  // unblocks publishers; the keep-alive messages go on regardless
    iox_set_loglevel(Iceoryx_LogLevel_Off);
  }
  g_runtime = false;
  g_roudi_error = "iox-roudi was stopped";
  if (pid_ <= 0) return;
  kill(pid_, SIGKILL);
  fprintf(stderr, "== iox-roudi killed (iceoryx may complain once, as this process exits)\n");
  int status = 0;
  while (waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
  }
  pid_ = -1;
  RemoveRoudiFiles();
}

std::string IceoryxUnavailable() { return g_roudi_error; }
std::string IceoryxVersion() { return "iceoryx " MXB_ICEORYX_VERSION; }

namespace {

constexpr char kService[] = "mxbench";
constexpr uint64_t kQueue = 256;  // the largest subscriber queue iceoryx allows
// RouDi's default configuration has 200 chunks big enough for a 64 KiB message; a shorter queue
// for large messages makes the publisher wait for the reader before it runs out of them.
constexpr uint64_t kLargeQueue = 64;
constexpr size_t kLargeMessage = 16384;
constexpr size_t kLenBytes = 8;  // each chunk starts with the message's length

void EnsureRuntime() {
  if (g_runtime) return;
  iox_set_loglevel(Iceoryx_LogLevel_Error);
  iox_runtime_init(Fmt("mxbench-%d", getpid()).c_str());
  g_runtime = true;
}

class IceoryxLink : public Link {
 public:
  // Publishes on event |tx| and subscribes to event |rx| of service instance |instance|, for
  // messages of up to |max_msg| bytes.
  IceoryxLink(const std::string& instance, const char* tx, const char* rx, size_t max_msg) {
    EnsureRuntime();
    iox_pub_options_t po;
    iox_pub_options_init(&po);
    po.historyCapacity = 0;
    po.subscriberTooSlowPolicy = ConsumerTooSlowPolicy_WAIT_FOR_CONSUMER;
    pub_ = iox_pub_init(&pub_storage_, kService, instance.c_str(), tx, &po);
    iox_sub_options_t so;
    iox_sub_options_init(&so);
    so.queueCapacity = max_msg > kLargeMessage ? kLargeQueue : kQueue;
    so.historyRequest = 0;
    so.queueFullPolicy = QueueFullPolicy_BLOCK_PRODUCER;
    sub_ = iox_sub_init(&sub_storage_, kService, instance.c_str(), rx, &so);
    ws_ = iox_ws_init(&ws_storage_);
    if (iox_ws_attach_subscriber_state(ws_, sub_, SubscriberState_HAS_DATA, 0, nullptr) !=
        WaitSetResult_SUCCESS) {
      Fail("iox_ws_attach_subscriber_state failed");
    }
  }
  ~IceoryxLink() override {
    iox_ws_detach_subscriber_state(ws_, sub_, SubscriberState_HAS_DATA);
    iox_ws_deinit(ws_);
    iox_sub_deinit(sub_);
    iox_pub_deinit(pub_);
  }

  void Send(const void* buf, size_t n, bool with_handle) override {
    if (with_handle) Fail("iceoryx cannot pass fds");
    if (!connected_) WaitForSubscriber();
    void* chunk = nullptr;
    Spinner spinner(deadline_, "iox_pub_loan_chunk", 8);
    for (;;) {
      iox_AllocationResult r =
          iox_pub_loan_chunk(pub_, &chunk, static_cast<uint32_t>(n + kLenBytes));
      if (r == AllocationResult_SUCCESS) break;
      // Every chunk of that size is in flight (queued at the reader): wait for it to release one.
      if (r != AllocationResult_RUNNING_OUT_OF_CHUNKS &&
          r != AllocationResult_TOO_MANY_CHUNKS_ALLOCATED_IN_PARALLEL) {
        Fail("iox_pub_loan_chunk: result %d", static_cast<int>(r));
      }
      spinner.Turn();
    }
    uint64_t len = n;
    memcpy(chunk, &len, kLenBytes);
    memcpy(static_cast<uint8_t*>(chunk) + kLenBytes, buf, n);
    iox_pub_publish_chunk(pub_, chunk);
  }

  size_t Recv(void* buf, size_t cap) override {
    for (;;) {
      const void* chunk = nullptr;
      iox_ChunkReceiveResult r = iox_sub_take_chunk(sub_, &chunk);
      if (r == ChunkReceiveResult_SUCCESS) {
        uint64_t len;
        memcpy(&len, chunk, kLenBytes);
        size_t n = std::min<size_t>(len, cap);
        memcpy(buf, static_cast<const uint8_t*>(chunk) + kLenBytes, n);
        iox_sub_release_chunk(sub_, chunk);
        return n;
      }
      if (r != ChunkReceiveResult_NO_CHUNK_AVAILABLE) {
        Fail("iox_sub_take_chunk: result %d", static_cast<int>(r));
      }
      uint64_t now = NowNs();
      if (now >= deadline_) throw PeerGone("iceoryx receive: deadline passed");
      uint64_t wait = std::min<uint64_t>(deadline_ - now, kSec);
      timespec ts = {static_cast<time_t>(wait / kSec), static_cast<long>(wait % kSec)};
      iox_notification_info_t info[1];
      uint64_t missed = 0;
      iox_ws_timed_wait(ws_, ts, info, 1, &missed);
    }
  }

 private:
  // RouDi connects a new subscriber to the publisher in its discovery loop, some time after both
  // exist; what is published before that reaches nobody.
  void WaitForSubscriber() {
    while (!iox_pub_has_subscribers(pub_)) {
      if (NowNs() >= deadline_) Fail("iceoryx: no subscriber before the deadline");
      usleep(1000);
    }
    connected_ = true;
  }

  iox_pub_storage_t pub_storage_{};
  iox_sub_storage_t sub_storage_{};
  iox_ws_storage_t ws_storage_{};
  iox_pub_t pub_ = nullptr;
  iox_sub_t sub_ = nullptr;
  iox_ws_t ws_ = nullptr;
  bool connected_ = false;
};

}  // namespace

std::unique_ptr<Link> MakeIceoryxParent(size_t max_msg, std::vector<std::string>* child_args) {
  if (!g_roudi_error.empty()) Fail("%s", g_roudi_error.c_str());
  static int seq = 0;
  std::string instance = Fmt("p%d-%d", getpid(), ++seq);
  child_args->push_back("iox=" + instance);
  return std::make_unique<IceoryxLink>(instance, "to_child", "to_parent", max_msg);
}

std::unique_ptr<Link> OpenIceoryxChild(const std::string& instance, size_t max_msg) {
  return std::make_unique<IceoryxLink>(instance, "to_parent", "to_child", max_msg);
}

#else  // !MXB_HAVE_ICEORYX

RoudiGuard::RoudiGuard(const std::string&) {}
RoudiGuard::~RoudiGuard() {}
std::string IceoryxUnavailable() {
  return "built without iceoryx (apt-get install libiceoryx-binding-c-dev iceoryx, then rebuild)";
}
std::string IceoryxVersion() { return ""; }
std::unique_ptr<Link> MakeIceoryxParent(size_t, std::vector<std::string>*) {
  Fail("%s", IceoryxUnavailable().c_str());
}
std::unique_ptr<Link> OpenIceoryxChild(const std::string&, size_t) {
  Fail("%s", IceoryxUnavailable().c_str());
}

#endif

}  // namespace mxb
