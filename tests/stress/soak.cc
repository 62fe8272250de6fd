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
#include <magenta/fd.h>
#include <magenta/launch.h>
#include <magenta/process.h>
#include <magenta/processargs.h>
#include <magenta/service.h>
#include <magenta/syscalls.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

extern char** environ;

namespace {

// ---- Options ------------------------------------------------------------------------------------

struct Options {
    double seconds = 10;
    uint64_t seed = 0;
    bool seed_given = false;
    int workers = 4;
    int threads = 3;
    int degree = 2;      // static links each new worker opens to other workers
    int roaming = 2;     // roaming links each new worker gets
    int call_links = 1;  // call links each new worker gets as the caller
    int callers = 2;     // threads per worker making mx_channel_call on its call links
    double call_timeout = 30;
    double kill_every = 2;  // mean seconds between SIGKILLs; 0: no kills
    uint32_t max_bytes = 65536;
    uint32_t buffer_bytes = 262144;  // MX_CHANNEL_BUFFER_BYTES for workers (0: libmx default)
    double drain = 60;               // how long the stop phase may take
    bool verbose = false;
    // Internal (worker mode).
    int worker_index = -1;
    long parent_pid = 0;
    std::string service;  // the coordinator's rendezvous name
};

void Usage(FILE* out) {
    fprintf(
        out,
        "usage: mx_soak [--seconds S] [--seed X] [--workers N] [--threads M] [--degree D]\n"
        "               [--roaming R] [--call-links K] [--callers C] [--kill-every S | --no-kill]\n"
        "               [--call-timeout S] [--max-bytes B] [--buffer-bytes B] [--drain S]\n"
        "               [--verbose]\n"
        "  --seconds S      how long traffic runs (default 10)\n"
        "  --seed X         seed for the graph, traffic and kill schedule (default: from the "
        "clock)\n"
        "  --workers N      worker processes alive at any time (default 4, min 2)\n"
        "  --threads M      threads per worker (default 3)\n"
        "  --degree D       static links each new worker opens to others (default 2)\n"
        "  --roaming R      roaming links (endpoints that hop) per new worker (default 2)\n"
        "  --call-links K   call links per new worker, on which it calls another (default 1)\n"
        "  --callers C      threads per worker calling concurrently on its call links (default 2)\n"
        "  --call-timeout S deadline of each call (default 30)\n"
        "  --kill-every S   mean seconds between SIGKILLs of a random worker (default 2)\n"
        "  --no-kill        no kills\n"
        "  --max-bytes B    largest message (default 65536)\n"
        "  --buffer-bytes B MX_CHANNEL_BUFFER_BYTES for workers (default 262144; 0 = libmx's)\n"
        "  --drain S        how long the stop phase may take before it is a failure (default 60)\n"
        "  --verbose        log kills, spawns and per-worker reports\n");
}

bool ParseOptions(int argc, char** argv, Options* o) {
    for (int i = 1; i < argc; ++i) {
        std::string a = argv[i];
        auto value = [&](const char* name) -> const char* {
            if (i + 1 >= argc) {
                fprintf(stderr, "mx_soak: %s needs a value\n", name);
                return nullptr;
            }
            return argv[++i];
        };
        const char* v = nullptr;
        if (a == "--seconds") {
            if (!(v = value("--seconds"))) return false;
            o->seconds = atof(v);
        } else if (a == "--seed") {
            if (!(v = value("--seed"))) return false;
            o->seed = strtoull(v, nullptr, 0);
            o->seed_given = true;
        } else if (a == "--workers") {
            if (!(v = value("--workers"))) return false;
            o->workers = atoi(v);
        } else if (a == "--threads") {
            if (!(v = value("--threads"))) return false;
            o->threads = atoi(v);
        } else if (a == "--degree") {
            if (!(v = value("--degree"))) return false;
            o->degree = atoi(v);
        } else if (a == "--roaming") {
            if (!(v = value("--roaming"))) return false;
            o->roaming = atoi(v);
        } else if (a == "--call-links") {
            if (!(v = value("--call-links"))) return false;
            o->call_links = atoi(v);
        } else if (a == "--callers") {
            if (!(v = value("--callers"))) return false;
            o->callers = atoi(v);
        } else if (a == "--kill-every") {
            if (!(v = value("--kill-every"))) return false;
            o->kill_every = atof(v);
        } else if (a == "--no-kill") {
            o->kill_every = 0;
        } else if (a == "--max-bytes") {
            if (!(v = value("--max-bytes"))) return false;
            o->max_bytes = static_cast<uint32_t>(strtoul(v, nullptr, 0));
        } else if (a == "--buffer-bytes") {
            if (!(v = value("--buffer-bytes"))) return false;
            o->buffer_bytes = static_cast<uint32_t>(strtoul(v, nullptr, 0));
        } else if (a == "--drain") {
            if (!(v = value("--drain"))) return false;
            o->drain = atof(v);
        } else if (a == "--call-timeout") {
            if (!(v = value("--call-timeout"))) return false;
            o->call_timeout = atof(v);
        } else if (a == "--verbose") {
            o->verbose = true;
        } else if (a == "--worker-index") {
            if (!(v = value("--worker-index"))) return false;
            o->worker_index = atoi(v);
        } else if (a == "--service") {
            if (!(v = value("--service"))) return false;
            o->service = v;
        } else if (a == "--parent-pid") {
            if (!(v = value("--parent-pid"))) return false;
            o->parent_pid = atol(v);
        } else if (a == "-h" || a == "--help") {
            Usage(stdout);
            exit(0);
        } else {
            fprintf(stderr, "mx_soak: unknown argument %s\n", a.c_str());
            return false;
        }
    }
    if (o->seconds < 0 || o->workers < 2 || o->threads < 1 || o->degree < 1 || o->roaming < 0 ||
        o->call_links < 0 || o->callers < 0 || o->kill_every < 0 || o->drain <= 0 ||
        o->max_bytes < 1024 || o->max_bytes > 65536) {
        fprintf(stderr,
                "mx_soak: an option is out of range (workers >= 2, threads >= 1, "
                "degree >= 1, 1024 <= max-bytes <= 65536)\n");
        return false;
    }
    return true;
}

// ---- Small helpers ------------------------------------------------------------------------------

uint64_t SplitMix(uint64_t* state) {
    uint64_t z = (*state += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

struct Rng {
    explicit Rng(uint64_t seed) : state(seed) {}
    uint64_t Next() { return SplitMix(&state); }
    uint32_t Below(uint32_t n) { return n == 0 ? 0 : static_cast<uint32_t>(Next() % n); }
    bool Chance(uint32_t percent_x10) { return Below(1000) < percent_x10; }  // per mille
    double Unit() { return static_cast<double>(Next() >> 11) / 9007199254740992.0; }
    uint64_t state;
};

uint64_t Mix(uint64_t a, uint64_t b) {
    uint64_t s = a ^ (b * 0xD6E8FEB86659FD93ull);
    return SplitMix(&s);
}

constexpr uint64_t kFnvOffset = 0xcbf29ce484222325ull;
uint64_t Fnv1a(const void* data, size_t size, uint64_t hash = kFnvOffset) {
    const uint8_t* p = static_cast<const uint8_t*>(data);
    for (size_t i = 0; i < size; ++i) {
        hash ^= p[i];
        hash *= 0x100000001b3ull;
    }
    return hash;
}

int CountOpenFds() {
    DIR* dir = opendir("/proc/self/fd");
    if (dir == nullptr) return -1;
    int n = 0;
    const int self = dirfd(dir);
    while (struct dirent* e = readdir(dir)) {
        if (e->d_name[0] == '.') continue;
        if (atoi(e->d_name) == self) continue;
        ++n;
    }
    closedir(dir);
    return n;
}

// "fd -> target" for every open fd, for failure messages.
std::string DescribeFds() {
    std::string out;
    DIR* dir = opendir("/proc/self/fd");
    if (dir == nullptr) return out;
    const int self = dirfd(dir);
    while (struct dirent* e = readdir(dir)) {
        if (e->d_name[0] == '.' || atoi(e->d_name) == self) continue;
        char path[300], target[PATH_MAX + 1];
        snprintf(path, sizeof(path), "/proc/self/fd/%s", e->d_name);
        ssize_t n = readlink(path, target, PATH_MAX);
        target[n > 0 ? n : 0] = '\0';
        out += std::string(" ") + e->d_name + "->" + target;
    }
    closedir(dir);
    return out;
}

double Now() {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
}

mx_time_t DeadlineAfterSeconds(double s) {
    return mx_deadline_after(static_cast<mx_duration_t>(s * 1e9));
}

const char* StatusName(mx_status_t s) {
    switch (s) {
        case MX_OK:
            return "MX_OK";
        case MX_ERR_INTERNAL:
            return "MX_ERR_INTERNAL";
        case MX_ERR_NOT_SUPPORTED:
            return "MX_ERR_NOT_SUPPORTED";
        case MX_ERR_NO_RESOURCES:
            return "MX_ERR_NO_RESOURCES";
        case MX_ERR_NO_MEMORY:
            return "MX_ERR_NO_MEMORY";
        case MX_ERR_CALL_FAILED:
            return "MX_ERR_CALL_FAILED";
        case MX_ERR_INVALID_ARGS:
            return "MX_ERR_INVALID_ARGS";
        case MX_ERR_BAD_HANDLE:
            return "MX_ERR_BAD_HANDLE";
        case MX_ERR_WRONG_TYPE:
            return "MX_ERR_WRONG_TYPE";
        case MX_ERR_OUT_OF_RANGE:
            return "MX_ERR_OUT_OF_RANGE";
        case MX_ERR_BUFFER_TOO_SMALL:
            return "MX_ERR_BUFFER_TOO_SMALL";
        case MX_ERR_BAD_STATE:
            return "MX_ERR_BAD_STATE";
        case MX_ERR_TIMED_OUT:
            return "MX_ERR_TIMED_OUT";
        case MX_ERR_SHOULD_WAIT:
            return "MX_ERR_SHOULD_WAIT";
        case MX_ERR_CANCELED:
            return "MX_ERR_CANCELED";
        case MX_ERR_PEER_CLOSED:
            return "MX_ERR_PEER_CLOSED";
        case MX_ERR_NOT_FOUND:
            return "MX_ERR_NOT_FOUND";
        case MX_ERR_ACCESS_DENIED:
            return "MX_ERR_ACCESS_DENIED";
        case MX_ERR_IO:
            return "MX_ERR_IO";
        default:
            return "(other status)";
    }
}

mx_info_handle_basic_t BasicInfo(mx_handle_t h) {
    mx_info_handle_basic_t info = {};
    size_t actual = 0, avail = 0;
    if (mx_object_get_info(h, MX_INFO_HANDLE_BASIC, &info, sizeof(info), &actual, &avail) != MX_OK)
        return mx_info_handle_basic_t{};
    return info;
}

void CloseHandles(const mx_handle_t* h, size_t n) {
    for (size_t i = 0; i < n; ++i)
        if (h[i] != MX_HANDLE_INVALID) mx_handle_close(h[i]);
}

// ---- Counters -----------------------------------------------------------------------------------

enum Counter : uint32_t {
    kMsgsSent,
    kMsgsVerified,
    kBytesSent,
    kBytesVerified,
    kHandlesSent,      // every handle written into a channel (nested cargo handles included)
    kHandlesVerified,  // every handle received and checked
    kEventsSent,
    kFdsSent,
    kCargoSent,
    kHops,             // roaming endpoints sent to another process inside a message
    kHandoffs,         // endpoints handed to another thread of the same process
    kShouldWait,       // writes refused by backpressure
    kCallsOk,          // mx_channel_call round trips with a verified reply
    kCallsPeerClosed,  // calls that failed with PEER_CLOSED (the server was killed)
    kLinksCut,         // links that ended with PEER_CLOSED before FIN (the peer was killed)
    kLinksClean,       // links closed after FIN both ways
    kOrderErrors,      // wrong sequence number, link or side
    kChecksumErrors,   // payload or running hash mismatch
    kHandleErrors,     // an attached handle was not what the sender sent
    kOtherErrors,      // unexpected statuses, drain timeouts, fd leaks, protocol errors
    kNumCounters
};

struct Stats {
    uint64_t v[kNumCounters];
};

uint64_t ErrorCount(const Stats& s) {
    return s.v[kOrderErrors] + s.v[kChecksumErrors] + s.v[kHandleErrors] + s.v[kOtherErrors];
}

// ---- Link messages ------------------------------------------------------------------------------

constexpr uint32_t kMsgMagic = 0x4b414f53u;  // "SOAK"

enum MsgKind : uint32_t { kData = 1, kMigrate = 2, kFin = 3, kCallRequest = 4, kCallReply = 5 };
enum LinkType : uint32_t { kStatic = 0, kRoaming = 1, kCall = 2 };
enum AttachKind : uint32_t {
    kAttachEvent = 1,
    kAttachFd = 2,
    kAttachCargo = 3,
    kAttachEndpoint = 4
};

constexpr uint32_t kMaxAttach = 3;

struct AttachDesc {
    uint32_t kind;
    uint32_t aux;    // event: the signals set; cargo: message count
    uint64_t token;  // fd: the token in the pipe; cargo: the cargo token
};

struct MsgHeader {
    uint32_t txid;  // where mx_channel_call looks: 0, except in call requests and replies
    uint32_t magic;
    uint32_t kind;
    uint32_t side;  // the sender's side of the link (0 or 1)
    uint64_t link;
    uint64_t seq;          // per link and direction, from 0 (call links: the txid)
    uint32_t payload_len;  // bytes after the header
    uint32_t num_attach;
    uint64_t payload_hash;  // FNV-1a of those bytes
    AttachDesc attach[kMaxAttach];
};

// The state of one end of a link; travels with a roaming endpoint (kMigrate payload).
struct LinkState {
    uint64_t link;
    uint32_t side;
    uint32_t type;       // a LinkType
    uint64_t send_seq;   // messages sent from this side so far
    uint64_t recv_seq;   // messages received on this side so far
    uint64_t send_hash;  // running hash of the messages sent
    uint64_t recv_hash;  // running hash of the messages received
    uint64_t koid;       // this endpoint's koid (checked on arrival)
    uint64_t peer_koid;  // the other end's koid
};

struct FinPayload {
    uint64_t sent;       // messages sent before this FIN
    uint64_t send_hash;  // running hash over them
};

struct CargoMsg {
    uint64_t token;
    uint32_t index;
    uint32_t count;
};

constexpr uint32_t kCargoEventSignal = MX_USER_SIGNAL_7;

uint64_t StreamHash(uint64_t hash, uint64_t seq, uint32_t kind, uint32_t len,
                    uint64_t payload_hash) {
    struct {
        uint64_t seq;
        uint32_t kind;
        uint32_t len;
        uint64_t payload_hash;
    } rec = {seq, kind, len, payload_hash};
    return Fnv1a(&rec, sizeof(rec), hash);
}

// memcmp for |n| bytes that may be 0 (an empty vector's data() may be null, which memcmp must
// not be given even for 0 bytes: UBSan reports it).
bool SameBytes(const void* a, const void* b, size_t n) { return n == 0 || memcmp(a, b, n) == 0; }

void FillPattern(uint8_t* p, size_t n, uint64_t link, uint32_t side, uint64_t seq) {
    uint64_t state = Mix(Mix(link, side + 1), seq);
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        uint64_t x = SplitMix(&state);
        memcpy(p + i, &x, 8);
    }
    if (i < n) {
        uint64_t x = SplitMix(&state);
        memcpy(p + i, &x, n - i);
    }
}

// ---- Control messages (coordinator <-> worker) --------------------------------------------------

constexpr uint32_t kCtrlMagic = 0x4c525443u;  // "CTRL"

enum CtrlKind : uint32_t {
    kCtrlHello = 1,  // worker -> coordinator: ready; fd_baseline set, num_outcomes = its index
    kCtrlAddLink,    // coordinator -> worker: a link endpoint (1 handle), its LinkState
    kCtrlStop,       // coordinator -> worker: stop traffic, FIN every link, report
    kCtrlStats,      // worker -> coordinator: counters so far (every 500 ms)
    kCtrlOutcomes,   // worker -> coordinator: a batch of Outcome records
    kCtrlReport,     // worker -> coordinator: final counters and fd counts; last message
};

enum OutcomeKind : uint32_t { kOutcomeClean = 1, kOutcomeCut = 2, kOutcomeError = 3 };

struct Outcome {
    uint64_t link;
    uint32_t side;
    uint32_t kind;
    uint64_t sent;
    uint64_t received;
};

struct CtrlMsg {
    uint32_t magic;
    uint32_t kind;
    int32_t fd_baseline;
    int32_t fd_final;
    uint32_t num_outcomes;  // kCtrlOutcomes: Outcome records following this struct
    uint32_t reserved;
    LinkState link;  // kCtrlAddLink
    Stats stats;     // kCtrlStats, kCtrlReport
};

constexpr uint32_t kOutcomesPerMsg = (MX_CHANNEL_MAX_MSG_BYTES - sizeof(CtrlMsg)) / sizeof(Outcome);

// =================================================================================================
// Worker
// =================================================================================================

// A reply the server side of a call link could not write yet (backpressure).
struct PendingReply {
    std::vector<uint8_t> bytes;
    mx_handle_t handles[1] = {MX_HANDLE_INVALID};
    uint32_t num_handles = 0;
};

struct Link {
    LinkState st;
    mx_handle_t h = MX_HANDLE_INVALID;
    bool fin_sent = false;
    bool fin_received = false;
    bool write_blocked = false;  // last write got SHOULD_WAIT; wait for WRITABLE
    bool write_peer_closed = false;
    std::vector<PendingReply> pending;  // call links (server side) only
};

// The caller side of a call link: shared by the worker's caller threads, which call on it at once.
struct CallLink {
    LinkState st;
    mx_handle_t h = MX_HANDLE_INVALID;
    std::atomic<bool> dead{false};  // the server is gone (PEER_CLOSED)
    std::atomic<uint64_t> requests{0};
    std::atomic<uint64_t> replies{0};
};

struct CallPool {
    std::mutex mu;
    std::vector<std::unique_ptr<CallLink>> links;
    std::atomic<uint32_t> next_txid{1};
    std::vector<std::thread> threads;
};

struct Worker;

struct ThreadCtx {
    int index = 0;
    mx_handle_t doorbell = MX_HANDLE_INVALID;  // an event: SIGNALED when the inbox has links
    std::mutex mu;
    std::vector<Link> inbox;
    bool closed = false;  // the thread has exited; pushes fail
    std::thread thread;
    uint64_t seed = 0;
};

struct Worker {
    Options opt;
    int index = 0;
    std::atomic<uint64_t> counters[kNumCounters] = {};
    std::atomic<bool> stopping{false};
    std::atomic<mx_time_t> drain_deadline{0};
    std::vector<std::unique_ptr<ThreadCtx>> threads;
    std::mutex outcomes_mu;
    std::vector<Outcome> outcomes;
    std::atomic<int> printed_errors{0};
    CallPool calls;

    void Add(Counter c, uint64_t n = 1) { counters[c].fetch_add(n, std::memory_order_relaxed); }

    Stats Snapshot() const {
        Stats s;
        for (uint32_t i = 0; i < kNumCounters; ++i)
            s.v[i] = counters[i].load(std::memory_order_relaxed);
        return s;
    }

    void Error(Counter c, const char* fmt, ...) __attribute__((format(printf, 3, 4))) {
        Add(c);
        if (printed_errors.fetch_add(1) >= 25) return;
        char buf[2048];
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(buf, sizeof(buf), fmt, ap);
        va_end(ap);
        fprintf(stderr, "mx_soak[worker %d pid %d]: ERROR: %s\n", index, static_cast<int>(getpid()),
                buf);
    }

    void Record(const LinkState& st, OutcomeKind kind, uint64_t sent, uint64_t received) {
        if (kind == kOutcomeClean) Add(kLinksClean);
        if (kind == kOutcomeCut) Add(kLinksCut);
        std::lock_guard<std::mutex> lock(outcomes_mu);
        outcomes.push_back(Outcome{st.link, st.side, kind, sent, received});
    }

    // Gives |link| to thread |t|; false if that thread has already exited.
    bool Push(ThreadCtx& t, Link link) {
        {
            std::lock_guard<std::mutex> lock(t.mu);
            if (t.closed) return false;
            t.inbox.push_back(link);
        }
        mx_object_signal(t.doorbell, 0, MX_EVENT_SIGNALED);
        return true;
    }
};

// One thread's traffic loop.
class LinkThread {
  public:
    LinkThread(Worker& w, ThreadCtx& t) : w_(w), t_(t), rng_(t.seed) {
        buf_.resize(MX_CHANNEL_MAX_MSG_BYTES);
    }

    void Run();

  private:
    // Reading.
    bool ReadSome(Link& l);  // true if it read anything
    void ServeCall(Link& l, const MsgHeader& hdr, const uint8_t* payload, uint32_t len,
                   mx_handle_t* handles, uint32_t nh);
    void FlushReplies(Link& l);
    bool TryHandoff(Link& l);
    void HandleMessage(Link& l, uint32_t nb, mx_handle_t* handles, uint32_t nh);
    bool VerifyAttachment(const Link& l, const MsgHeader& hdr, const AttachDesc& d, mx_handle_t h);
    bool VerifyCargo(const Link& l, const AttachDesc& d, mx_handle_t q);
    void PeerGone(Link& l);
    // Writing.
    void WriteSome(size_t i);
    bool WriteData(Link& l);
    bool WriteFin(Link& l);
    void Migrate(size_t carrier, size_t roamer);
    // What a message's attachments carry inside them (cargo messages and their events), counted
    // as sent only if the message itself is.
    struct Nested {
        uint64_t msgs = 0, bytes = 0, handles = 0, events = 0, fds = 0, cargo = 0;
    };
    mx_status_t Send(Link& l, MsgHeader* hdr, const void* payload, uint32_t len,
                     mx_handle_t* handles, uint32_t nh, const Nested* nested = nullptr);
    mx_status_t MakeAttachment(AttachDesc* d, mx_handle_t* h, Nested* nested);
    void Finish(Link& l, OutcomeKind kind);

    Worker& w_;
    ThreadCtx& t_;
    Rng rng_;
    std::vector<Link> links_;
    std::vector<Link> incoming_;  // adopted during a pass (migrations in)
    std::vector<uint8_t> buf_;
    std::vector<uint8_t> out_;
    std::vector<uint8_t> payload_;
};

void LinkThread::Finish(Link& l, OutcomeKind kind) {
    w_.Record(l.st, kind, l.st.send_seq, l.st.recv_seq);
    for (PendingReply& r : l.pending) CloseHandles(r.handles, r.num_handles);
    l.pending.clear();
    mx_handle_close(l.h);
    l.h = MX_HANDLE_INVALID;
}

bool LinkThread::TryHandoff(Link& l) {
    if (w_.threads.size() < 2 || w_.stopping.load() || !rng_.Chance(2)) return false;
    ThreadCtx& other = *w_.threads[rng_.Below(static_cast<uint32_t>(w_.threads.size()))];
    if (&other == &t_ || !w_.Push(other, l)) return false;
    w_.Add(kHandoffs);
    l.h = MX_HANDLE_INVALID;  // the other thread has it now (pending replies went with the copy)
    l.pending.clear();
    return true;
}

// The server side of a call link: answers each request with a reply carrying its txid.
void LinkThread::ServeCall(Link& l, const MsgHeader& hdr, const uint8_t* payload, uint32_t len,
                           mx_handle_t* handles, uint32_t nh) {
    const uint64_t payload_hash = Fnv1a(payload, len);
    w_.Add(kMsgsVerified);
    w_.Add(kBytesVerified, sizeof(hdr) + len);
    if (hdr.payload_len != len || hdr.payload_hash != payload_hash) {
        w_.Error(kChecksumErrors, "call link %llu: request %08x: payload %u bytes, header says %u",
                 (unsigned long long)l.st.link, hdr.txid, len, hdr.payload_len);
        CloseHandles(handles, nh);
        return;
    }
    if (hdr.num_attach != nh || nh > kMaxAttach) {
        w_.Error(kHandleErrors, "call link %llu: request %08x: %u handles, header says %u",
                 (unsigned long long)l.st.link, hdr.txid, nh, hdr.num_attach);
        CloseHandles(handles, nh);
        return;
    }
    if (hdr.kind == kFin) {
        FinPayload fin;
        if (len != sizeof(fin) || nh != 0) {
            w_.Error(kChecksumErrors, "call link %llu: malformed FIN",
                     (unsigned long long)l.st.link);
            CloseHandles(handles, nh);
            return;
        }
        memcpy(&fin, payload, sizeof(fin));
        if (fin.sent != l.st.recv_seq) {
            w_.Error(kOrderErrors, "call link %llu: FIN says %llu requests were sent, %llu arrived",
                     (unsigned long long)l.st.link, (unsigned long long)fin.sent,
                     (unsigned long long)l.st.recv_seq);
        }
        l.fin_received = true;
        return;
    }
    if (hdr.kind != kCallRequest || hdr.txid == 0 || hdr.seq != hdr.txid) {
        w_.Error(kOrderErrors, "call link %llu: unexpected message kind %u txid %08x",
                 (unsigned long long)l.st.link, hdr.kind, hdr.txid);
        CloseHandles(handles, nh);
        return;
    }
    out_.resize(len);
    FillPattern(out_.data(), len, hdr.link, 0, hdr.txid);
    if (!SameBytes(out_.data(), payload, len)) {
        w_.Error(kChecksumErrors, "call link %llu: request %08x: payload differs from the pattern",
                 (unsigned long long)l.st.link, hdr.txid);
    }
    for (uint32_t i = 0; i < nh; ++i) VerifyAttachment(l, hdr, hdr.attach[i], handles[i]);
    ++l.st.recv_seq;

    MsgHeader reply = {};
    reply.txid = hdr.txid;
    reply.magic = kMsgMagic;
    reply.kind = kCallReply;
    reply.side = 1;
    reply.link = l.st.link;
    reply.seq = hdr.txid;
    reply.payload_len = rng_.Below(8193);
    PendingReply r;
    r.bytes.resize(sizeof(reply) + reply.payload_len);
    FillPattern(r.bytes.data() + sizeof(reply), reply.payload_len, l.st.link, 1, hdr.txid);
    reply.payload_hash = Fnv1a(r.bytes.data() + sizeof(reply), reply.payload_len);
    if (rng_.Chance(250)) {
        reply.attach[0].kind = kAttachEvent;
        reply.attach[0].aux = static_cast<uint32_t>(rng_.Next()) & MX_EVENT_SIGNAL_MASK;
        if (mx_event_create(0, &r.handles[0]) == MX_OK) {
            mx_object_signal(r.handles[0], 0, reply.attach[0].aux);
            r.num_handles = 1;
            reply.num_attach = 1;
        }
    }
    memcpy(r.bytes.data(), &reply, sizeof(reply));
    l.pending.push_back(std::move(r));
    FlushReplies(l);
}

void LinkThread::FlushReplies(Link& l) {
    size_t done = 0;
    for (; done < l.pending.size(); ++done) {
        PendingReply& r = l.pending[done];
        mx_status_t st =
            mx_channel_write(l.h, 0, r.bytes.data(), static_cast<uint32_t>(r.bytes.size()),
                             r.num_handles ? r.handles : nullptr, r.num_handles);
        if (st == MX_OK) {
            ++l.st.send_seq;
            w_.Add(kMsgsSent);
            w_.Add(kBytesSent, r.bytes.size());
            w_.Add(kHandlesSent, r.num_handles);
            w_.Add(kEventsSent, r.num_handles);
            r.num_handles = 0;
            continue;
        }
        if (st == MX_ERR_SHOULD_WAIT) {
            l.write_blocked = true;
            w_.Add(kShouldWait);
            break;
        }
        if (st == MX_ERR_PEER_CLOSED) {
            l.write_peer_closed = true;  // the caller's process was killed
        } else {
            w_.Error(kOtherErrors, "call link %llu: writing a reply: %s",
                     (unsigned long long)l.st.link, StatusName(st));
        }
        for (PendingReply& rest : l.pending) CloseHandles(rest.handles, rest.num_handles);
        done = l.pending.size();
        break;
    }
    l.pending.erase(l.pending.begin(), l.pending.begin() + static_cast<long>(done));
}

void LinkThread::Run() {
    std::vector<mx_wait_item_t> items;
    bool busy = false;
    bool doorbell = true;
    auto take_inbox = [this] {
        std::lock_guard<std::mutex> lock(t_.mu);
        for (Link& l : t_.inbox) links_.push_back(l);
        t_.inbox.clear();
    };
    for (;;) {
        // Adopt what other threads (or the control thread) handed us: clear the doorbell, then
        // empty the inbox (a push after the clear rings it again).
        if (doorbell) {
            mx_object_signal(t_.doorbell, MX_EVENT_SIGNALED, 0);
            take_inbox();
            doorbell = false;
        }
        const bool stopping = w_.stopping.load();
        if (stopping && links_.empty()) {
            std::lock_guard<std::mutex> lock(t_.mu);
            if (t_.inbox.empty()) {
                t_.closed = true;  // later pushes fail and the pusher keeps its link
                return;
            }
            for (Link& l : t_.inbox) links_.push_back(l);
            t_.inbox.clear();
        }
        if (stopping && mx_time_get(MX_CLOCK_MONOTONIC) > w_.drain_deadline.load()) {
            for (Link& l : links_) {
                w_.Error(kOtherErrors,
                         "link %llu side %u: stop phase timed out (fin sent %d, fin received %d, "
                         "sent %llu, received %llu)",
                         (unsigned long long)l.st.link, l.st.side, l.fin_sent, l.fin_received,
                         (unsigned long long)l.st.send_seq, (unsigned long long)l.st.recv_seq);
                Finish(l, kOutcomeError);
            }
            links_.clear();
            continue;
        }

        items.clear();
        items.push_back(mx_wait_item_t{t_.doorbell, MX_EVENT_SIGNALED, 0});
        for (const Link& l : links_) {
            mx_signals_t want = MX_CHANNEL_READABLE | MX_CHANNEL_PEER_CLOSED;
            if (l.write_blocked) want |= MX_CHANNEL_WRITABLE;
            items.push_back(mx_wait_item_t{l.h, want, 0});
        }
        const mx_time_t deadline = busy ? 0 : mx_deadline_after(MX_MSEC(stopping ? 20 : 2));
        mx_status_t st =
            mx_object_wait_many(items.data(), static_cast<uint32_t>(items.size()), deadline);
        if (st != MX_OK && st != MX_ERR_TIMED_OUT) {
            w_.Error(kOtherErrors, "mx_object_wait_many over %zu items: %s", items.size(),
                     StatusName(st));
            mx_nanosleep(mx_deadline_after(MX_MSEC(10)));
            continue;
        }
        busy = false;
        doorbell = (items[0].pending & MX_EVENT_SIGNALED) != 0;
        for (size_t i = 0; i < links_.size(); ++i) {
            Link& l = links_[i];
            if (l.h == MX_HANDLE_INVALID) continue;  // migrated or handed off earlier this pass
            const mx_signals_t pending = items[i + 1].pending;
            if (pending & MX_CHANNEL_WRITABLE) l.write_blocked = false;
            if (pending & (MX_CHANNEL_READABLE | MX_CHANNEL_PEER_CLOSED)) busy |= ReadSome(l);
            if (l.h == MX_HANDLE_INVALID) continue;
            WriteSome(i);
        }
        links_.erase(std::remove_if(links_.begin(), links_.end(),
                                    [](const Link& l) { return l.h == MX_HANDLE_INVALID; }),
                     links_.end());
        for (Link& l : incoming_) links_.push_back(l);
        incoming_.clear();
    }
}

bool LinkThread::ReadSome(Link& l) {
    mx_handle_t handles[MX_CHANNEL_MAX_MSG_HANDLES];
    bool any = false;
    for (int n = 0; n < 32 && l.h != MX_HANDLE_INVALID; ++n) {
        uint32_t nb = 0, nh = 0;
        mx_status_t st =
            mx_channel_read(l.h, 0, buf_.data(), handles, static_cast<uint32_t>(buf_.size()),
                            MX_CHANNEL_MAX_MSG_HANDLES, &nb, &nh);
        if (st == MX_ERR_SHOULD_WAIT) break;
        if (st == MX_ERR_PEER_CLOSED) {
            PeerGone(l);
            break;
        }
        if (st != MX_OK) {
            w_.Error(kOtherErrors, "link %llu side %u: mx_channel_read: %s",
                     (unsigned long long)l.st.link, l.st.side, StatusName(st));
            break;
        }
        any = true;
        HandleMessage(l, nb, handles, nh);
    }
    if (l.h != MX_HANDLE_INVALID && l.st.type != kCall && w_.stopping.load() && l.fin_sent &&
        l.fin_received)
        Finish(l, kOutcomeClean);
    return any;
}

void LinkThread::PeerGone(Link& l) {
    if (l.st.type == kCall) {
        // The caller closes its end after FIN, or its process was killed.
        Finish(l, l.fin_received ? kOutcomeClean : kOutcomeCut);
    } else if (l.fin_received && !l.fin_sent) {
        w_.Error(kOtherErrors, "link %llu side %u: peer closed after its FIN but before ours",
                 (unsigned long long)l.st.link, l.st.side);
        Finish(l, kOutcomeError);
    } else if (l.fin_received) {
        Finish(l, kOutcomeClean);
    } else {
        if (w_.opt.verbose)
            fprintf(stderr,
                    "mx_soak[worker %d]: link %llu side %u: PEER_CLOSED after %llu messages\n",
                    w_.index, (unsigned long long)l.st.link, l.st.side,
                    (unsigned long long)l.st.recv_seq);
        Finish(l, kOutcomeCut);
    }
}

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
                    w_.Error(kChecksumErrors,
                             "link %llu side %u seq %llu: payload differs from the pattern",
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
                    w_.Error(
                        kHandleErrors,
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
                         (unsigned long long)l.st.link, l.st.side, (unsigned long long)hdr.seq,
                         hdr.kind);
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
                snprintf(what, sizeof(what), "event: type %u, signals %08x, expected %08x (%s)",
                         info.type, observed & MX_EVENT_SIGNAL_MASK, d.aux, StatusName(st));
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
                snprintf(what, sizeof(what), "fd: read %zd bytes, token %016llx, expected %016llx",
                         n, (unsigned long long)token, (unsigned long long)d.token);
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
        mx_status_t st = mx_object_wait_one(q, MX_CHANNEL_READABLE | MX_CHANNEL_PEER_CLOSED,
                                            deadline, &observed);
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
                w_.Error(kHandleErrors,
                         "link %llu side %u: cargo %016llx: after %u messages read %s",
                         (unsigned long long)l.st.link, l.st.side, (unsigned long long)d.token,
                         d.aux, StatusName(st));
                if (st == MX_OK) CloseHandles(hs, nh);
                ok = false;
            }
            break;
        }
        if (st != MX_OK || nb != sizeof(m) || m.token != d.token || m.index != i ||
            m.count != d.aux) {
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

mx_status_t LinkThread::Send(Link& l, MsgHeader* hdr, const void* payload, uint32_t len,
                             mx_handle_t* handles, uint32_t nh, const Nested* nested) {
    hdr->magic = kMsgMagic;
    hdr->link = l.st.link;
    hdr->seq = l.st.send_seq;
    hdr->side = l.st.side;
    hdr->payload_len = len;
    hdr->payload_hash = Fnv1a(payload, len);
    hdr->num_attach = nh;
    out_.resize(sizeof(*hdr) + len);
    memcpy(out_.data(), hdr, sizeof(*hdr));
    if (len > 0) memcpy(out_.data() + sizeof(*hdr), payload, len);
    mx_status_t st = mx_channel_write(l.h, 0, out_.data(), static_cast<uint32_t>(out_.size()),
                                      nh ? handles : nullptr, nh);
    if (st == MX_OK) {
        l.st.send_hash = StreamHash(l.st.send_hash, hdr->seq, hdr->kind, len, hdr->payload_hash);
        ++l.st.send_seq;
        w_.Add(kMsgsSent);
        w_.Add(kBytesSent, out_.size());
        w_.Add(kHandlesSent, nh);
        if (nested != nullptr) {
            w_.Add(kMsgsSent, nested->msgs);
            w_.Add(kBytesSent, nested->bytes);
            w_.Add(kHandlesSent, nested->handles);
            w_.Add(kEventsSent, nested->events);
            w_.Add(kFdsSent, nested->fds);
            w_.Add(kCargoSent, nested->cargo);
        }
    } else if (st == MX_ERR_SHOULD_WAIT) {
        l.write_blocked = true;
        w_.Add(kShouldWait);
    } else if (st == MX_ERR_PEER_CLOSED) {
        l.write_peer_closed = true;  // the read side will see PEER_CLOSED once drained
    } else {
        w_.Error(kOtherErrors, "link %llu side %u: mx_channel_write (%u bytes, %u handles): %s",
                 (unsigned long long)l.st.link, l.st.side, static_cast<uint32_t>(out_.size()), nh,
                 StatusName(st));
    }
    return st;
}

mx_status_t LinkThread::MakeAttachment(AttachDesc* d, mx_handle_t* h, Nested* nested) {
    const uint32_t r = rng_.Below(100);
    mx_status_t st;
    if (r < 60) {
        d->kind = kAttachEvent;
        d->aux = static_cast<uint32_t>(rng_.Next()) & MX_EVENT_SIGNAL_MASK;
        st = mx_event_create(0, h);
        if (st != MX_OK) return st;
        if (d->aux) mx_object_signal(*h, 0, d->aux);
        ++nested->events;
        return MX_OK;
    }
    if (r < 85) {
        d->kind = kAttachFd;
        d->token = rng_.Next();
        int fds[2];
        if (pipe2(fds, O_CLOEXEC) != 0) return MX_ERR_NO_RESOURCES;
        ssize_t n = write(fds[1], &d->token, sizeof(d->token));
        close(fds[1]);
        if (n != sizeof(d->token)) {
            close(fds[0]);
            return MX_ERR_IO;
        }
        st = mx_fd_wrap(fds[0], h);
        if (st == MX_ERR_BAD_HANDLE) close(fds[0]);
        if (st == MX_OK) ++nested->fds;
        return st;
    }
    d->kind = kAttachCargo;
    d->aux = 1 + rng_.Below(3);
    d->token = rng_.Next();
    mx_handle_t p;
    st = mx_channel_create(0, &p, h);
    if (st != MX_OK) return st;
    for (uint32_t i = 0; i < d->aux && st == MX_OK; ++i) {
        CargoMsg m = {d->token, i, d->aux};
        mx_handle_t ev = MX_HANDLE_INVALID;
        if (i + 1 == d->aux && (d->token & 1)) {
            st = mx_event_create(0, &ev);
            if (st != MX_OK) break;
            mx_object_signal(ev, 0, kCargoEventSignal);
        }
        st = mx_channel_write(p, 0, &m, sizeof(m), ev == MX_HANDLE_INVALID ? nullptr : &ev,
                              ev == MX_HANDLE_INVALID ? 0 : 1);
        if (st != MX_OK && ev != MX_HANDLE_INVALID) mx_handle_close(ev);
        if (st == MX_OK) {
            ++nested->msgs;
            nested->bytes += sizeof(m);
            if (ev != MX_HANDLE_INVALID) ++nested->handles;
        }
    }
    mx_handle_close(p);
    if (st != MX_OK) {
        mx_handle_close(*h);
        return st;
    }
    ++nested->cargo;
    return MX_OK;
}

uint32_t PickLength(Rng& rng, uint32_t max_payload) {
    const uint32_t r = rng.Below(1000);
    uint32_t n;
    if (r < 600) {
        n = rng.Below(257);
    } else if (r < 900) {
        n = 256 + rng.Below(3841);
    } else if (r < 985) {
        n = 4096 + rng.Below(12289);
    } else {
        n = 16384 + rng.Below(65536 - 16384 + 1);
    }
    return std::min(n, max_payload);
}

bool LinkThread::WriteData(Link& l) {
    MsgHeader hdr = {};
    hdr.kind = kData;
    const uint32_t max_payload = w_.opt.max_bytes - static_cast<uint32_t>(sizeof(MsgHeader));
    const uint32_t len = PickLength(rng_, max_payload);
    payload_.resize(len);
    FillPattern(payload_.data(), len, l.st.link, l.st.side, l.st.send_seq);
    mx_handle_t handles[kMaxAttach];
    uint32_t nh = 0;
    Nested nested;
    for (uint32_t k = 0; k < kMaxAttach; ++k) {
        if (!rng_.Chance(k == 0 ? 250 : 120)) break;
        Nested one;
        mx_status_t st = MakeAttachment(&hdr.attach[nh], &handles[nh], &one);
        if (st != MX_OK) {
            w_.Error(kOtherErrors, "creating an attachment: %s", StatusName(st));
            break;
        }
        nested.msgs += one.msgs;
        nested.bytes += one.bytes;
        nested.handles += one.handles;
        nested.events += one.events;
        nested.fds += one.fds;
        nested.cargo += one.cargo;
        ++nh;
    }
    mx_status_t st = Send(l, &hdr, payload_.data(), len, handles, nh, &nested);
    if (st != MX_OK) CloseHandles(handles, nh);
    return st == MX_OK;
}

bool LinkThread::WriteFin(Link& l) {
    MsgHeader hdr = {};
    hdr.kind = kFin;
    FinPayload fin = {l.st.send_seq, l.st.send_hash};
    mx_status_t st = Send(l, &hdr, &fin, sizeof(fin), nullptr, 0);
    if (st == MX_OK) l.fin_sent = true;
    return st == MX_OK;
}

// Sends the roaming link links_[roamer] to another process inside a message on links_[carrier].
void LinkThread::Migrate(size_t carrier, size_t roamer) {
    Link& c = links_[carrier];
    Link& r = links_[roamer];
    MsgHeader hdr = {};
    hdr.kind = kMigrate;
    hdr.attach[0].kind = kAttachEndpoint;
    hdr.attach[0].token = r.st.link;
    mx_handle_t h = r.h;
    if (Send(c, &hdr, &r.st, sizeof(r.st), &h, 1) == MX_OK) {
        w_.Add(kHops);
        r.h = MX_HANDLE_INVALID;  // gone with the message; dropped after this pass
    }
}

void LinkThread::WriteSome(size_t i) {
    Link& l = links_[i];
    if (l.st.type == kCall) {
        if (!l.write_blocked && !l.write_peer_closed) FlushReplies(l);
        if (l.fin_received && l.pending.empty()) {
            Finish(l, kOutcomeClean);
            return;
        }
        TryHandoff(l);
        return;
    }
    if (l.write_peer_closed) return;
    if (w_.stopping.load()) {
        if (!l.fin_sent && !l.write_blocked) WriteFin(l);
        if (l.fin_sent && l.fin_received) Finish(l, kOutcomeClean);
        return;
    }
    if (l.write_blocked) return;
    // Now and then hand a link to another thread of this process.
    if (TryHandoff(l)) return;
    // A static link sometimes carries one of this thread's roaming links to the process at its
    // other end. (Roaming links never carry endpoints, so no endpoint can end up inside itself.)
    if (l.st.type == kStatic && rng_.Chance(40)) {
        std::vector<size_t> candidates;
        for (size_t j = 0; j < links_.size(); ++j) {
            if (links_[j].st.type == kRoaming && links_[j].h != MX_HANDLE_INVALID)
                candidates.push_back(j);
        }
        if (!candidates.empty()) {
            Migrate(i, candidates[rng_.Below(static_cast<uint32_t>(candidates.size()))]);
            return;
        }
    }
    // Mostly 0-2 messages; now and then a burst until backpressure pushes back.
    const uint32_t n = rng_.Chance(3) ? 1000 : rng_.Below(3);
    for (uint32_t k = 0; k < n && !l.write_blocked && !l.write_peer_closed; ++k) {
        if (!WriteData(l)) break;
    }
}

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
        mx_status_t st = mx_channel_call(c->h, 0, DeadlineAfterSeconds(w.opt.call_timeout), &args,
                                         &ab, &ah, &rs);
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
            w.Error(kOtherErrors, "call link %llu: mx_channel_call: %s",
                    (unsigned long long)c->st.link, StatusName(st));
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
            ok = got.txid == txid && got.magic == kMsgMagic && got.kind == kCallReply &&
                 got.side == 1 && got.link == c->st.link && got.seq == txid &&
                 got.payload_len == len &&
                 got.payload_hash == Fnv1a(reply.data() + sizeof(got), len) &&
                 SameBytes(expect.data(), reply.data() + sizeof(got), len);
            if (!ok) {
                w.Error(kChecksumErrors,
                        "call link %llu: call %08x: wrong reply (txid %08x kind %u, "
                        "%u bytes)",
                        (unsigned long long)c->st.link, txid, got.txid, got.kind, ab);
            } else if (got.num_attach != ah) {
                w.Error(kHandleErrors,
                        "call link %llu: call %08x: reply has %u handles, header says %u",
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
                st = mx_object_wait_one(c->h, MX_CHANNEL_WRITABLE | MX_CHANNEL_PEER_CLOSED,
                                        deadline, nullptr);
                if (st != MX_OK) break;
            }
            if (st == MX_OK) {
                w.Add(kMsgsSent);
                w.Add(kBytesSent, sizeof(bytes));
                // Nothing may arrive any more (every call has its reply): only PEER_CLOSED.
                st = mx_object_wait_one(c->h, MX_CHANNEL_PEER_CLOSED, deadline, nullptr);
                uint32_t nb = 0, nh = 0;
                mx_status_t rs = mx_channel_read(c->h, MX_CHANNEL_READ_MAY_DISCARD, nullptr,
                                                 nullptr, 0, 0, &nb, &nh);
                if (st != MX_OK) {
                    w.Error(kOtherErrors, "call link %llu: the server did not close after FIN (%s)",
                            (unsigned long long)c->st.link, StatusName(st));
                    kind = kOutcomeError;
                } else if (rs != MX_ERR_PEER_CLOSED) {
                    w.Error(kOtherErrors,
                            "call link %llu: a message nobody called for (%s, %u bytes)",
                            (unsigned long long)c->st.link, StatusName(rs), nb);
                    kind = kOutcomeError;
                } else {
                    kind = kOutcomeClean;
                }
            } else if (st != MX_ERR_PEER_CLOSED) {
                w.Error(kOtherErrors, "call link %llu: writing FIN: %s",
                        (unsigned long long)c->st.link, StatusName(st));
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

void WarmUp() {
    // Everything libmx creates lazily and keeps for the life of the process, created before the
    // fd baseline is taken.
    mx_handle_t a, b, e, got = MX_HANDLE_INVALID;
    if (mx_channel_create(0, &a, &b) != MX_OK) return;
    mx_event_create(0, &e);
    mx_object_signal(e, 0, MX_EVENT_SIGNALED);
    uint32_t word = 0x7fffff01u, nb = 0, nh = 0;
    mx_channel_write(a, 0, &word, sizeof(word), &e, 1);
    mx_channel_read(b, 0, &word, &got, sizeof(word), 1, &nb, &nh);
    mx_wait_item_t items[2] = {{got, MX_EVENT_SIGNALED, 0}, {b, MX_CHANNEL_READABLE, 0}};
    mx_object_wait_many(items, 2, mx_deadline_after(MX_MSEC(1)));
    mx_object_wait_one(b, MX_CHANNEL_READABLE, mx_deadline_after(MX_MSEC(1)), nullptr);
    if (nh == 1) mx_handle_close(got);
    int fds[2];
    if (pipe2(fds, O_CLOEXEC) == 0) {
        mx_handle_t fh;
        close(fds[1]);
        if (mx_fd_wrap(fds[0], &fh) == MX_OK) mx_handle_close(fh);
    }
    mx_handle_close(a);
    mx_handle_close(b);
}

mx_status_t WriteCtrl(mx_handle_t ctrl, const CtrlMsg& m, const void* extra = nullptr,
                      size_t extra_len = 0, mx_handle_t* handles = nullptr, uint32_t nh = 0) {
    std::vector<uint8_t> bytes(sizeof(m) + extra_len);
    memcpy(bytes.data(), &m, sizeof(m));
    if (extra_len) memcpy(bytes.data() + sizeof(m), extra, extra_len);
    // The control channel is lightly used; backpressure on it would mean a stuck peer. Retry
    // briefly (with a deadline) rather than fail at once.
    const mx_time_t deadline = mx_deadline_after(MX_SEC(30));
    for (;;) {
        mx_status_t st = mx_channel_write(ctrl, 0, bytes.data(),
                                          static_cast<uint32_t>(bytes.size()), handles, nh);
        if (st != MX_ERR_SHOULD_WAIT) return st;
        st = mx_object_wait_one(ctrl, MX_CHANNEL_WRITABLE | MX_CHANNEL_PEER_CLOSED, deadline,
                                nullptr);
        if (st != MX_OK) return st;
    }
}

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
        fprintf(
            stderr,
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

// =================================================================================================
// Coordinator
// =================================================================================================

struct WorkerRec {
    int index = 0;
    mx_handle_t process = MX_HANDLE_INVALID;
    mx_handle_t ctrl = MX_HANDLE_INVALID;
    bool alive = false;  // spawned and not killed / exited
    bool killed = false;
    bool reported = false;  // kCtrlReport received
    int fd_baseline = -1, fd_final = -1;
    int count_pipe = -1;  // read end: the worker's final fd count
    int exit_code = 0;
    Stats stats = {};  // the latest counters it sent
};

struct LinkRec {
    LinkType type = kStatic;
    int reports[2] = {0, 0};
    Outcome out[2] = {};
};

class Coordinator {
  public:
    explicit Coordinator(const Options& o) : opt_(o), rng_(Mix(o.seed, 0xC0)) {}
    int Run();

  private:
    bool Spawn();
    bool WaitHello(WorkerRec& w);
    void NewLink(int a, int b, LinkType type);
    void LinkUp(int fresh);
    void SendLink(WorkerRec& w, uint64_t id, uint32_t side, LinkType type, mx_handle_t h,
                  mx_koid_t koid, mx_koid_t peer_koid);
    void KillOne();
    void Poll(mx_time_t deadline);
    bool ReadCtrl(WorkerRec& w);  // false once the channel is closed and drained
    void Violation(const char* fmt, ...) __attribute__((format(printf, 2, 3)));
    int PickAlive(int exclude);

    Options opt_;
    Rng rng_;
    std::string exe_;
    std::vector<std::string> env_;
    std::vector<WorkerRec> workers_;
    std::map<uint64_t, LinkRec> links_;
    uint64_t next_link_ = 1;
    int kills_ = 0;
    int violations_ = 0;
    uint64_t coordinator_handles_sent_ = 0;
    std::vector<uint8_t> ctrl_buf_;
    std::string service_;  // rendezvous name workers connect to
    mx_handle_t listener_ = MX_HANDLE_INVALID;
};

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
        fprintf(stderr, "mx_soak: worker %d started (fds %d)\n", w.index,
                workers_.back().fd_baseline);
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
        st = mx_object_wait_one(w.ctrl, MX_CHANNEL_READABLE | MX_CHANNEL_PEER_CLOSED, deadline,
                                nullptr);
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
        Violation("worker %d: sending link %llu: %s", w.index, (unsigned long long)id,
                  StatusName(st));
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
    mx_status_t st =
        mx_object_wait_many(items.data(), static_cast<uint32_t>(items.size()), deadline);
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
    st = mx_object_wait_one(w.process, MX_PROCESS_TERMINATED, mx_deadline_after(MX_SEC(30)),
                            nullptr);
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
            st = mx_object_get_info(w.process, MX_INFO_PROCESS, &info, sizeof(info), nullptr,
                                    nullptr);
        if (st != MX_OK || !info.exited) {
            Violation("worker %d did not exit (%s)", w.index, StatusName(st));
            mx_task_kill(w.process);
            mx_object_wait_one(w.process, MX_PROCESS_TERMINATED, mx_deadline_after(MX_SEC(10)),
                               nullptr);
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
                Violation("link %llu side %d reported %d times", (unsigned long long)id, s,
                          l.reports[s]);
        }
        const bool r0 = l.reports[0] > 0, r1 = l.reports[1] > 0;
        if (r0 && r1) {
            if (l.out[0].kind != kOutcomeClean || l.out[1].kind != kOutcomeClean) {
                Violation(
                    "link %llu: both ends survived but ended %u / %u (1 clean, 2 cut, 3 error)",
                    (unsigned long long)id, l.out[0].kind, l.out[1].kind);
            } else if (l.out[0].sent != l.out[1].received || l.out[1].sent != l.out[0].received) {
                Violation(
                    "link %llu: side 0 sent %llu received %llu, side 1 sent %llu received %llu",
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
            if (kills_ == 0)
                Violation("link %llu: neither end was reported", (unsigned long long)id);
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
                fprintf(stderr, "mx_soak: worker %d: %llu messages verified, fds %d -> %d\n",
                        w.index, (unsigned long long)w.stats.v[kMsgsVerified], w.fd_baseline,
                        w.fd_final);
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
    if (worker_errors != 0)
        Violation("workers found %llu errors", (unsigned long long)worker_errors);
    if (kills_ == 0) {
        // Nothing died, so everything sent arrived and was checked.
        if (total.v[kMsgsSent] != total.v[kMsgsVerified] ||
            total.v[kBytesSent] != total.v[kBytesVerified] ||
            total.v[kHandlesSent] != total.v[kHandlesVerified]) {
            Violation(
                "no kills, yet sent != verified: %llu/%llu messages, %llu/%llu bytes, %llu/%llu "
                "handles",
                (unsigned long long)total.v[kMsgsSent], (unsigned long long)total.v[kMsgsVerified],
                (unsigned long long)total.v[kBytesSent],
                (unsigned long long)total.v[kBytesVerified],
                (unsigned long long)total.v[kHandlesSent],
                (unsigned long long)total.v[kHandlesVerified]);
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
    printf("thread hand-offs     %llu; writes refused by backpressure: %llu\n",
           u(total.v[kHandoffs]), u(total.v[kShouldWait]));
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

}  // namespace

int main(int argc, char** argv) {
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
        static_cast<unsigned long long>(opt.seed), argv[0],
        static_cast<unsigned long long>(opt.seed), opt.seconds, opt.workers, opt.threads,
        opt.degree, opt.roaming, opt.call_links, opt.callers, opt.kill_every, opt.max_bytes,
        opt.buffer_bytes);
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
