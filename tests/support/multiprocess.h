// SPDX-License-Identifier: BSD-3-Clause
// Multiprocess test support: child bodies that run inside the test binary itself, spawning them
// with handles through mx_spawn, waiting for them, and small channel / fd helpers.
//
// How a multiprocess test works. Every test binary's main() (tests/support/test_main.cc) looks for
// an argument `--mx-child=<name>`. If it finds one, it runs the child body registered under <name>
// with the arguments that follow it and exits with the body's return value; gtest is never
// initialised in a child. Otherwise it runs the gtest suite. A test spawns "/proc/self/exe" with
// `--mx-child=<name>` (SpawnChild below), so the parent's test and the child's body live side by
// side in the same file:
//
//   MX_CHILD(echo_once) {                      // the child's body; |args| are the extra arguments
//     mx_handle_t ch = mx_get_startup_handle(PA_HND(PA_USER0, 0));
//     CHILD_CHECK(ch != MX_HANDLE_INVALID);
//     mx_test::Message msg;
//     CHILD_CHECK_OK(mx_test::ReadMessage(ch, &msg));
//     CHILD_CHECK_OK(mx_test::WriteMessage(ch, msg.bytes.data(), msg.bytes.size()));
//     return 0;
//   }
//
//   TEST_F(EchoTest, EchoesOneMessage) {
//     mx_handle_t a, b, process;
//     ASSERT_EQ(mx_channel_create(0, &a, &b), MX_OK);
//     ASSERT_EQ(mx_test::SpawnChild("echo_once", {{PA_HND(PA_USER0, 0), b}}, {}, &process), MX_OK);
//     mx_test::ScopedProcess child(process);
//     ...
//     EXPECT_EQ(child.Join(), 0);
//   }
//
// Rules the helpers follow and tests should too: every wait has a generous deadline
// (kDefaultTimeout); no sleeps for synchronisation, only channel messages; every child is waited
// for (ScopedProcess kills and reaps a child the test forgot or gave up on).
//
// Child bodies cannot use gtest assertions. They use CHILD_CHECK* below, which print the failure to
// stderr and _exit() with kChildCheckFailedExitCode; the parent then sees that exit code.
//
// Thread-safety: the registry is filled during static initialisation and only read afterwards;
// every other helper is as thread-safe as the libmx calls it makes.
#pragma once

#include <gtest/gtest.h>
#include <magenta/fd.h>
#include <magenta/launch.h>
#include <magenta/process.h>
#include <magenta/processargs.h>
#include <magenta/syscalls.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <string>
#include <string_view>
#include <vector>

#include "support/fd_count.h"

namespace mx_test {

// ---- Another user ------------------------------------------------------------------------------

// The uid and gid an attacker child drops to when the test runs as root (nobody).
inline constexpr uint32_t kNobodyId = 65534;
// True if this process may become another user (it runs as root).
bool CanBecomeAnotherUser();
// In a child: drops supplementary groups, gid and uid to nobody. False if that failed.
bool BecomeNobody();

// ---- Child registry -----------------------------------------------------------------------------

// A child body: receives the arguments after `--mx-child=<name>`; its return value is the exit
// code.
using ChildBody = int (*)(const std::vector<std::string>& args);

// Registers |body| under |name| (static initialisation only). Aborts on a duplicate name.
bool RegisterChild(const char* name, ChildBody body);

// Returns the body registered under |name|, or nullptr.
ChildBody FindChild(std::string_view name);

// Runs the child body |name| (used by main()). Unknown names exit with kUnknownChildExitCode.
int RunChild(std::string_view name, const std::vector<std::string>& args);

// Defines and registers a child body. The body sees `const std::vector<std::string>& args`.
#define MX_CHILD(name)                                                 \
  static int MxChildBody_##name(const std::vector<std::string>& args); \
  [[maybe_unused]] static const bool mx_child_registered_##name =      \
      ::mx_test::RegisterChild(#name, &MxChildBody_##name);            \
  static int MxChildBody_##name([[maybe_unused]] const std::vector<std::string>& args)

// Exit codes with a fixed meaning.
inline constexpr int kChildCheckFailedExitCode = 99;  // a CHILD_CHECK failed
inline constexpr int kUnknownChildExitCode = 98;      // --mx-child=<name> names no body
inline constexpr int kJoinFailed = -1000;             // ScopedProcess::Join could not get a code

// ---- Child-side checks
// ----------------------------------------------------------------------------

[[noreturn]] void ChildFail(const char* file, int line, const std::string& what);

#define CHILD_CHECK(cond)                                                            \
  do {                                                                               \
    if (!(cond)) ::mx_test::ChildFail(__FILE__, __LINE__, "CHILD_CHECK(" #cond ")"); \
  } while (0)

#define CHILD_CHECK_OK(expr)                                                          \
  do {                                                                                \
    mx_status_t mx_child_status_ = (expr);                                            \
    if (mx_child_status_ != MX_OK)                                                    \
      ::mx_test::ChildFail(                                                           \
          __FILE__, __LINE__,                                                         \
          std::string(#expr " returned ") + ::mx_test::StatusName(mx_child_status_)); \
  } while (0)

#define CHILD_CHECK_EQ(a, b)                                                 \
  do {                                                                       \
    auto mx_child_a_ = (a);                                                  \
    auto mx_child_b_ = (b);                                                  \
    if (!(mx_child_a_ == mx_child_b_))                                       \
      ::mx_test::ChildFail(__FILE__, __LINE__,                               \
                           std::string("CHILD_CHECK_EQ(" #a ", " #b "): ") + \
                               std::to_string(mx_child_a_) + " vs " +        \
                               std::to_string(mx_child_b_));                 \
  } while (0)

// Takes the startup handle |info|; a missing handle is a child check failure.
mx_handle_t TakeStartupHandle(uint32_t info);

// ---- Time
// -----------------------------------------------------------------------------------------

// How long any single wait for another process may take before the test gives up. Generous: the
// other process may be descheduled on a loaded 2-vCPU machine, under sanitizers, for a long time.
inline constexpr mx_duration_t kDefaultTimeout = MX_SEC(30);

inline mx_time_t DefaultDeadline() { return mx_deadline_after(kDefaultTimeout); }

// ---- Spawning and reaping
// -------------------------------------------------------------------------

// The path of the running test binary (readlink of /proc/self/exe, resolved once).
const std::string& SelfExePath();

// Spawns this test binary running child body |name| with argv
// {exe, "--mx-child=<name>", args...}, moving |handles| into it. Returns mx_spawn's status.
mx_status_t SpawnChild(const char* name, const std::vector<mx_spawn_handle_t>& handles,
                       const std::vector<std::string>& args, mx_handle_t* process);

// Waits for MX_PROCESS_TERMINATED on |process| until |deadline|, then reads MX_INFO_PROCESS.
// MX_OK with the code in |return_code|; TIMED_OUT if the child is still running; MX_ERR_BAD_STATE
// if the process terminated but MX_INFO_PROCESS says it has not exited; any other failure as
// returned.
mx_status_t WaitForExit(mx_handle_t process, mx_time_t deadline, int* return_code);

// Owns a process handle. Join() waits for the exit code. If the test never joined (an assertion
// returned early) or the join timed out, the destructor kills the child, reaps it and closes the
// handle, so no child outlives its test.
class ScopedProcess {
 public:
  ScopedProcess() = default;
  explicit ScopedProcess(mx_handle_t process) : process_(process) {}
  ~ScopedProcess();
  ScopedProcess(const ScopedProcess&) = delete;
  ScopedProcess& operator=(const ScopedProcess&) = delete;
  ScopedProcess(ScopedProcess&& other) noexcept;
  ScopedProcess& operator=(ScopedProcess&& other) noexcept;

  mx_handle_t get() const { return process_; }
  bool joined() const { return joined_; }

  // Waits (deadline: kDefaultTimeout from now) for the child to exit and returns its return code.
  // On timeout or failure reports a gtest failure, kills the child and returns kJoinFailed.
  int Join();

  // Kills the child (mx_task_kill) and returns Join().
  int KillAndJoin();

 private:
  void Reset();

  mx_handle_t process_ = MX_HANDLE_INVALID;
  bool joined_ = false;
};

// ---- Messages
// -------------------------------------------------------------------------------------

// One channel message. The handles are owned by whoever holds the Message: it does not close them.
struct Message {
  std::vector<uint8_t> bytes;
  std::vector<mx_handle_t> handles;
};

// Waits (until |deadline|) for |channel| to be READABLE or PEER_CLOSED and reads one message.
// Returns MX_OK, MX_ERR_PEER_CLOSED (queue empty and peer gone), MX_ERR_TIMED_OUT, or the error of
// mx_object_wait_one / mx_channel_read.
mx_status_t ReadMessage(mx_handle_t channel, Message* msg, mx_time_t deadline = DefaultDeadline());

// mx_channel_write with the given bytes and handles.
mx_status_t WriteMessage(mx_handle_t channel, const void* bytes, size_t num_bytes,
                         const std::vector<mx_handle_t>& handles = {});

// Writes / reads one trivially-copyable struct. ReadPod fails with MX_ERR_BAD_STATE (closing any
// handles that came with it unless |handles| is given) when the message size is not sizeof(T).
template <typename T>
mx_status_t WritePod(mx_handle_t channel, const T& value,
                     const std::vector<mx_handle_t>& handles = {}) {
  return WriteMessage(channel, &value, sizeof(T), handles);
}

mx_status_t ReadExact(mx_handle_t channel, void* out, size_t size,
                      std::vector<mx_handle_t>* handles, mx_time_t deadline);

template <typename T>
mx_status_t ReadPod(mx_handle_t channel, T* value, std::vector<mx_handle_t>* handles = nullptr,
                    mx_time_t deadline = DefaultDeadline()) {
  return ReadExact(channel, value, sizeof(T), handles, deadline);
}

// "m" + std::to_string(i) without the operator: GCC 12 at -O3 warns (-Wrestrict, a false positive,
// GCC bug 105651) on `const char* + std::string&&`, and warnings are errors.
inline std::string Numbered(const char* prefix, int i) {
  std::string text(prefix);
  text += std::to_string(i);
  return text;
}

// Closes every handle in |handles| (ignoring MX_HANDLE_INVALID) and clears the vector.
void CloseAll(std::vector<mx_handle_t>* handles);

// ---- Objects
// --------------------------------------------------------------------------------------

// MX_INFO_HANDLE_BASIC of |handle|; all-zero if get_info fails.
mx_info_handle_basic_t BasicInfo(mx_handle_t handle);
mx_koid_t KoidOf(mx_handle_t handle);
mx_rights_t RightsOf(mx_handle_t handle);
bool IsValidHandle(mx_handle_t handle);

// The signals currently asserted on |handle| (a wait_one with deadline 0 for all signals).
mx_signals_t PendingSignals(mx_handle_t handle);

// The status's MX_ERR_* name, for messages.
const char* StatusName(mx_status_t status);

// ---- File descriptors
// -----------------------------------------------------------------------------

struct FdEntry {
  int fd = -1;
  std::string target;  // readlink of /proc/self/fd/<fd>
  dev_t dev = 0;       // fstat of the fd
  ino_t ino = 0;
};

// The open fds of this process (/proc/self/fd), without the descriptor used to list them.
std::vector<FdEntry> ListOpenFds();
// "fd -> target" lines, for failure messages.
std::string DescribeFds(const std::vector<FdEntry>& fds);

// ---- Data
// -----------------------------------------------------------------------------------------

inline constexpr uint64_t kFnvOffset = 0xcbf29ce484222325ull;
// FNV-1a over |size| bytes, continuing from |hash|.
uint64_t Fnv1a(const void* data, size_t size, uint64_t hash = kFnvOffset);

// Deterministic payload byte |index| of message |seq| (both sides can regenerate and verify it).
inline uint8_t PatternByte(uint64_t seq, size_t index) {
  return static_cast<uint8_t>((seq * 131u) ^ (index * 7u) ^ (index >> 8));
}

// Runs the libmx calls a test is going to make once, so that anything libmx sets up lazily on first
// use (and keeps for the life of the process) exists before a test takes its fd baseline.
void WarmUpLibmx();

// A fixture for multiprocess tests: warms libmx up, records this process's open fds before the
// test and expects exactly as many after it (children joined, handles closed).
class MultiprocessTest : public ::testing::Test {
 protected:
  void SetUp() override;
  void TearDown() override;

  std::vector<FdEntry> fds_before_;
};

}  // namespace mx_test
