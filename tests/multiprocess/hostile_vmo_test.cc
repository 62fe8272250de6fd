// SPDX-License-Identifier: BSD-3-Clause
// A hostile holder of a VMO handle, in a real child process (as nobody when the test runs as root),
// attacks the VMO its victim has mapped.
//
// What must hold (docs/vmos.md, "Who can make a mapping fault"):
//   - a holder without MX_RIGHT_WRITE gets a read-only open file description: it can neither
//     resize (ftruncate), write (pwrite, a writable mapping, mprotect of a read-only mapping),
//     add seals, nor reopen the file for writing through /proc/self/fd (the memfd is 0644 and
//     belongs to another uid); the victim keeps touching its mapping and never sees SIGBUS;
//   - a VMO created MX_VMO_NON_RESIZABLE cannot be resized even by a holder of WRITE;
//   - MX_VM_FLAG_REQUIRE_NON_RESIZABLE maps only a VMO the kernel reports sealed, whoever made it;
//   - a sender that claims WRITE for a read-only description gets a handle without WRITE across.
//
// The victim touches its mapping inside a forked child (TouchInChild), so that the SIGBUS the old
// code caused shows up as that child's death rather than the test binary's.
#include <errno.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <magenta/service.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <string>
#include <vector>

#include "support/multiprocess.h"
#include "support/wire_layout.h"

namespace {

const size_t kPage = static_cast<size_t>(sysconf(_SC_PAGESIZE));
constexpr size_t kPages = 16;
constexpr uint32_t kRW = MX_VM_FLAG_PERM_READ | MX_VM_FLAG_PERM_WRITE;

uint8_t VictimByte(size_t i) { return static_cast<uint8_t>(i * 29u + 3u); }

// The fds of this process whose file is a libmx VMO's memfd (what an attacker looks for: libmx
// gives it no way to name the fd behind a handle, /proc does).
std::vector<int> VmoFds() {
  std::vector<int> fds;
  for (const mx_test::FdEntry& e : mx_test::ListOpenFds()) {
    if (e.target.rfind("/memfd:mx-vmo", 0) == 0) fds.push_back(e.fd);
  }
  return fds;
}

// In a child: drops to nobody when running as root. False if that failed.
bool DropPrivilegesIfRoot() { return geteuid() != 0 || mx_test::BecomeNobody(); }

// 0 if |call| succeeded, else its errno.
int ErrnoOf(bool ok) { return ok ? 0 : errno; }

// How a forked toucher ended: 0 if it touched every page and exited, else the signal that killed
// it (SIGBUS when pages were gone), or -1 if it could not be observed.
struct TouchResult {
  int signal = -1;
  bool pattern_intact = false;
};

// Reads every byte of [addr, addr + len) in a forked child and checks it against VictimByte,
// then (with |write|) stores to every page. The child only touches memory and _exit()s, which is
// safe after fork() in a threaded process. Waits at most 30 s.
TouchResult TouchInChild(uintptr_t addr, size_t len, bool write) {
  TouchResult result;
  pid_t pid = fork();
  if (pid < 0) return result;
  if (pid == 0) {
    // Die of the signal, as an uninstrumented process would (sanitizers catch SIGBUS).
    struct sigaction dfl = {};
    dfl.sa_handler = SIG_DFL;
    sigaction(SIGBUS, &dfl, nullptr);
    auto* p = reinterpret_cast<volatile uint8_t*>(addr);
    bool intact = true;
    for (size_t i = 0; i < len; ++i) intact = intact && p[i] == VictimByte(i);
    if (write) {
      for (size_t i = 0; i < len; i += kPage) p[i] = VictimByte(i);
    }
    _exit(intact ? 0 : 1);
  }
  int pidfd = static_cast<int>(syscall(SYS_pidfd_open, pid, 0));
  if (pidfd >= 0) {
    struct pollfd p = {pidfd, POLLIN, 0};
    int r;
    do {
      r = poll(&p, 1, 30000);
    } while (r < 0 && errno == EINTR);
    close(pidfd);
    if (r != 1) {
      kill(pid, SIGKILL);
    }
  }
  int status = 0;
  if (waitpid(pid, &status, 0) != pid) return result;
  if (WIFSIGNALED(status)) {
    result.signal = WTERMSIG(status);
  } else if (WIFEXITED(status)) {
    result.signal = 0;
    result.pattern_intact = WEXITSTATUS(status) == 0;
  }
  return result;
}

std::string Describe(const TouchResult& t) {
  if (t.signal < 0) return "not observed";
  if (t.signal == 0) return t.pattern_intact ? "touched every page, data intact" : "data changed";
  return std::string("killed by ") + strsignal(t.signal);
}

std::string ErrName(int err) { return err == 0 ? "succeeded" : strerrordesc_np(err); }

long PeakRssKb() {
  struct rusage ru = {};
  getrusage(RUSAGE_SELF, &ru);
  return ru.ru_maxrss;
}

// A mapped, filled VMO of kPages pages owned by the victim.
struct VictimVmo {
  mx_handle_t vmo = MX_HANDLE_INVALID;
  uintptr_t addr = 0;

  mx_status_t Create(uint32_t options) {
    mx_status_t st = mx_vmo_create(kPages * kPage, options, &vmo);
    if (st != MX_OK) return st;
    st = mx_vmar_map(mx_vmar_root_self(), 0, vmo, 0, kPages * kPage, kRW, &addr);
    if (st != MX_OK) return st;
    auto* p = reinterpret_cast<uint8_t*>(addr);
    for (size_t i = 0; i < kPages * kPage; ++i) p[i] = VictimByte(i);
    return MX_OK;
  }
  ~VictimVmo() {
    if (addr != 0) {
      EXPECT_EQ(mx_vmar_unmap(mx_vmar_root_self(), addr, kPages * kPage), MX_OK);
    }
    if (vmo != MX_HANDLE_INVALID) {
      EXPECT_EQ(mx_handle_close(vmo), MX_OK);
    }
  }
};

class HostileVmoTest : public mx_test::MultiprocessTest {};

// ---- A holder without WRITE ---------------------------------------------------------------------

// What the attacker without WRITE managed (0: it worked; else the errno or status it got).
struct NoWriteReport {
  uint32_t uid;
  uint32_t rights;
  int32_t access_mode;
  int32_t map_write;       // mx_vmar_map PERM_WRITE (status)
  int32_t mprotect_write;  // mprotect of a PERM_READ mapping to PROT_WRITE (errno)
  int32_t mmap_write;      // mmap(PROT_WRITE, MAP_SHARED) of the fd (errno)
  int32_t pwrite;          // pwrite of the fd (errno)
  int32_t punch_hole;      // fallocate PUNCH_HOLE of the first page (errno): would zero it
  int32_t add_seal;        // F_ADD_SEALS F_SEAL_WRITE (errno): would break the victim's writes
  int32_t fchmod;          // fchmod 0666 (errno)
  int32_t reopen_ro;       // open /proc/self/fd/N O_RDONLY (errno; a control: must work)
  int32_t reopen_rw;       // open /proc/self/fd/N O_RDWR (errno)
  int32_t ftruncate;       // ftruncate(fd, 0) (errno)
  int32_t ftruncate_grow;  // ftruncate(fd, 2x) (errno)
};

// Attacker: receives a VMO without WRITE, tries every way to write or resize it, reports.
MX_CHILD(vmo_attacker_without_write) {
  mx_handle_t ch = mx_test::TakeStartupHandle(PA_HND(PA_USER0, 0));
  CHILD_CHECK(DropPrivilegesIfRoot());
  uint32_t go = 0;
  std::vector<mx_handle_t> handles;
  CHILD_CHECK_OK(mx_test::ReadPod(ch, &go, &handles));
  CHILD_CHECK_EQ(handles.size(), 1u);
  mx_handle_t vmo = handles[0];
  std::vector<int> fds = VmoFds();
  CHILD_CHECK_EQ(fds.size(), 1u);
  const int fd = fds[0];
  const size_t len = kPages * kPage;

  NoWriteReport r = {};
  r.uid = static_cast<uint32_t>(geteuid());
  r.rights = mx_test::RightsOf(vmo);
  r.access_mode = fcntl(fd, F_GETFL) & O_ACCMODE;
  uintptr_t addr = 0;
  r.map_write = mx_vmar_map(mx_vmar_root_self(), 0, vmo, 0, len, kRW, &addr);
  if (r.map_write == MX_OK) CHILD_CHECK_OK(mx_vmar_unmap(mx_vmar_root_self(), addr, len));
  CHILD_CHECK_OK(mx_vmar_map(mx_vmar_root_self(), 0, vmo, 0, len, MX_VM_FLAG_PERM_READ, &addr));
  r.mprotect_write =
      ErrnoOf(mprotect(reinterpret_cast<void*>(addr), len, PROT_READ | PROT_WRITE) == 0);
  if (r.mprotect_write == 0) reinterpret_cast<volatile uint8_t*>(addr)[1] = 0xEE;
  CHILD_CHECK_OK(mx_vmar_unmap(mx_vmar_root_self(), addr, len));
  void* m = mmap(nullptr, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  r.mmap_write = ErrnoOf(m != MAP_FAILED);
  if (m != MAP_FAILED) {
    static_cast<volatile uint8_t*>(m)[2] = 0xEE;
    munmap(m, len);
  }
  const uint8_t junk = 0xEE;
  r.pwrite = ErrnoOf(pwrite(fd, &junk, 1, 3) == 1);
  r.punch_hole = ErrnoOf(
      fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, 0, static_cast<off_t>(kPage)) == 0);
  r.add_seal = ErrnoOf(fcntl(fd, F_ADD_SEALS, F_SEAL_WRITE) == 0);
  r.fchmod = ErrnoOf(fchmod(fd, 0666) == 0);
  const std::string path = "/proc/self/fd/" + std::to_string(fd);
  int ro = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  r.reopen_ro = ErrnoOf(ro >= 0);
  if (ro >= 0) close(ro);
  int rw = open(path.c_str(), O_RDWR | O_CLOEXEC);
  r.reopen_rw = ErrnoOf(rw >= 0);
  // Through a writable reopened description, if the kernel gave one, the resize succeeds.
  const int resize_fd = rw >= 0 ? rw : fd;
  r.ftruncate_grow = ErrnoOf(ftruncate(resize_fd, static_cast<off_t>(2 * len)) == 0);
  r.ftruncate = ErrnoOf(ftruncate(resize_fd, 0) == 0);
  if (rw >= 0) close(rw);
  CHILD_CHECK_OK(mx_test::WritePod(ch, r));
  CHILD_CHECK_OK(mx_handle_close(vmo));
  CHILD_CHECK_OK(mx_handle_close(ch));
  return 0;
}

TEST_F(HostileVmoTest, HolderWithoutWriteCannotWriteResizeOrReopenTheVmo) {
  if (!mx_test::CanBecomeAnotherUser()) {
    GTEST_SKIP() << "needs root to run the attacker as another user (nobody): a process of "
                    "the VMO creator's uid can always reopen the memfd for writing";
  }
  VictimVmo victim;
  ASSERT_EQ(victim.Create(0), MX_OK);
  mx_handle_t ro, a, b, process;
  ASSERT_EQ(mx_handle_duplicate(victim.vmo, MX_DEFAULT_VMO_RIGHTS & ~MX_RIGHT_WRITE, &ro), MX_OK);
  ASSERT_EQ(mx_channel_create(0, &a, &b), MX_OK);
  ASSERT_EQ(
      mx_test::SpawnChild("vmo_attacker_without_write", {{PA_HND(PA_USER0, 0), b}}, {}, &process),
      MX_OK);
  mx_test::ScopedProcess child(process);
  ASSERT_EQ(mx_test::WritePod(a, uint32_t{1}, {ro}), MX_OK);
  NoWriteReport r;
  ASSERT_EQ(mx_test::ReadPod(a, &r), MX_OK);
  EXPECT_EQ(child.Join(), 0);

  const size_t len = kPages * kPage;
  const TouchResult touch = TouchInChild(victim.addr, len, /*write=*/true);
  uint64_t size = 0;
  EXPECT_EQ(mx_vmo_get_size(victim.vmo, &size), MX_OK);
  printf(
      "[attack] vmo without WRITE (attacker uid %u): ftruncate(0) %s, grow %s, pwrite %s, "
      "punch hole %s, map WRITE %s, mprotect WRITE %s, mmap WRITE %s, F_SEAL_WRITE %s, "
      "fchmod %s, reopen O_RDWR %s (O_RDONLY %s); victim: %s, size %llu of %zu, peak RSS "
      "%ld KiB\n",
      r.uid, ErrName(r.ftruncate).c_str(), ErrName(r.ftruncate_grow).c_str(),
      ErrName(r.pwrite).c_str(), ErrName(r.punch_hole).c_str(), mx_test::StatusName(r.map_write),
      ErrName(r.mprotect_write).c_str(), ErrName(r.mmap_write).c_str(), ErrName(r.add_seal).c_str(),
      ErrName(r.fchmod).c_str(), ErrName(r.reopen_rw).c_str(), ErrName(r.reopen_ro).c_str(),
      Describe(touch).c_str(), static_cast<unsigned long long>(size), len, PeakRssKb());

  EXPECT_EQ(r.uid, mx_test::kNobodyId);
  EXPECT_EQ(r.rights, static_cast<mx_rights_t>(MX_DEFAULT_VMO_RIGHTS & ~MX_RIGHT_WRITE));
  EXPECT_EQ(r.access_mode, O_RDONLY);
  EXPECT_EQ(r.map_write, MX_ERR_ACCESS_DENIED);
  EXPECT_EQ(r.mprotect_write, EACCES);
  EXPECT_EQ(r.mmap_write, EACCES);
  EXPECT_EQ(r.pwrite, EBADF);
  EXPECT_EQ(r.punch_hole, EBADF);
  EXPECT_EQ(r.add_seal, EPERM);
  EXPECT_EQ(r.fchmod, EPERM);
  EXPECT_EQ(r.reopen_ro, 0) << "the control: /proc/self/fd works for the attacker";
  EXPECT_EQ(r.reopen_rw, EACCES);
  EXPECT_NE(r.ftruncate, 0);
  EXPECT_NE(r.ftruncate_grow, 0);
  EXPECT_EQ(touch.signal, 0) << Describe(touch);
  EXPECT_TRUE(touch.pattern_intact);
  EXPECT_EQ(size, len);
  EXPECT_EQ(mx_handle_close(a), MX_OK);
}

// ---- A holder with WRITE against a non-resizable VMO --------------------------------------------

struct WriterReport {
  uint32_t rights;
  int32_t access_mode;
  int32_t set_size_shrink;  // mx_vmo_set_size(0) (status)
  int32_t set_size_grow;    // mx_vmo_set_size(2x) (status)
  int32_t ftruncate;        // ftruncate(fd, 0) (errno)
  int32_t ftruncate_grow;   // ftruncate(fd, 2x) (errno)
  int32_t add_seal;         // F_ADD_SEALS F_SEAL_WRITE (errno): the seals are final
  int32_t write;            // mx_vmo_write of the victim's own bytes (status): WRITE still works
};

// Attacker holding WRITE: tries to resize a non-resizable VMO every way it can.
MX_CHILD(vmo_writer_against_sealed) {
  mx_handle_t ch = mx_test::TakeStartupHandle(PA_HND(PA_USER0, 0));
  CHILD_CHECK(DropPrivilegesIfRoot());
  uint32_t go = 0;
  std::vector<mx_handle_t> handles;
  CHILD_CHECK_OK(mx_test::ReadPod(ch, &go, &handles));
  CHILD_CHECK_EQ(handles.size(), 1u);
  mx_handle_t vmo = handles[0];
  std::vector<int> fds = VmoFds();
  CHILD_CHECK_EQ(fds.size(), 1u);
  const int fd = fds[0];
  const size_t len = kPages * kPage;
  WriterReport r = {};
  r.rights = mx_test::RightsOf(vmo);
  r.access_mode = fcntl(fd, F_GETFL) & O_ACCMODE;
  r.set_size_shrink = mx_vmo_set_size(vmo, 0);
  r.set_size_grow = mx_vmo_set_size(vmo, 2 * len);
  r.ftruncate = ErrnoOf(ftruncate(fd, 0) == 0);
  r.ftruncate_grow = ErrnoOf(ftruncate(fd, static_cast<off_t>(2 * len)) == 0);
  r.add_seal = ErrnoOf(fcntl(fd, F_ADD_SEALS, F_SEAL_WRITE) == 0);
  const uint8_t same = VictimByte(5);
  size_t actual = 0;
  r.write = mx_vmo_write(vmo, &same, 5, 1, &actual);
  CHILD_CHECK_OK(mx_test::WritePod(ch, r));
  CHILD_CHECK_OK(mx_handle_close(vmo));
  CHILD_CHECK_OK(mx_handle_close(ch));
  return 0;
}

TEST_F(HostileVmoTest, NonResizableVmoCannotBeShrunkByAHolderOfWrite) {
  VictimVmo victim;
  ASSERT_EQ(victim.Create(MX_VMO_NON_RESIZABLE), MX_OK);
  mx_handle_t dup, a, b, process;
  ASSERT_EQ(mx_handle_duplicate(victim.vmo, MX_RIGHT_SAME_RIGHTS, &dup), MX_OK);
  ASSERT_EQ(mx_channel_create(0, &a, &b), MX_OK);
  ASSERT_EQ(
      mx_test::SpawnChild("vmo_writer_against_sealed", {{PA_HND(PA_USER0, 0), b}}, {}, &process),
      MX_OK);
  mx_test::ScopedProcess child(process);
  ASSERT_EQ(mx_test::WritePod(a, uint32_t{1}, {dup}), MX_OK);
  WriterReport r;
  ASSERT_EQ(mx_test::ReadPod(a, &r), MX_OK);
  EXPECT_EQ(child.Join(), 0);

  const size_t len = kPages * kPage;
  const TouchResult touch = TouchInChild(victim.addr, len, /*write=*/true);
  uint64_t size = 0;
  EXPECT_EQ(mx_vmo_get_size(victim.vmo, &size), MX_OK);
  printf(
      "[attack] non-resizable vmo, attacker holds WRITE: set_size(0) %s, set_size(2x) %s, "
      "ftruncate(0) %s, grow %s, F_SEAL_WRITE %s; victim: %s, size %llu of %zu\n",
      mx_test::StatusName(r.set_size_shrink), mx_test::StatusName(r.set_size_grow),
      ErrName(r.ftruncate).c_str(), ErrName(r.ftruncate_grow).c_str(), ErrName(r.add_seal).c_str(),
      Describe(touch).c_str(), static_cast<unsigned long long>(size), len);

  EXPECT_EQ(r.rights, static_cast<mx_rights_t>(MX_DEFAULT_VMO_RIGHTS));
  EXPECT_EQ(r.access_mode, O_RDWR);
  EXPECT_EQ(r.set_size_shrink, MX_ERR_UNAVAILABLE);
  EXPECT_EQ(r.set_size_grow, MX_ERR_UNAVAILABLE);
  EXPECT_EQ(r.ftruncate, EPERM);
  EXPECT_EQ(r.ftruncate_grow, EPERM);
  EXPECT_EQ(r.add_seal, EPERM);
  EXPECT_EQ(r.write, MX_OK);
  EXPECT_EQ(touch.signal, 0) << Describe(touch);
  EXPECT_TRUE(touch.pattern_intact);
  EXPECT_EQ(size, len);
  EXPECT_EQ(mx_handle_close(a), MX_OK);
}

// ---- MX_VM_FLAG_REQUIRE_NON_RESIZABLE on VMOs from another process ------------------------------

struct ShrinkReport {
  int32_t resizable_shrink;    // mx_vmo_set_size(resizable, 0) (status)
  int32_t sealed_shrink;       // mx_vmo_set_size(sealed, 0) (status)
  int32_t self_sealed_shrink;  // ftruncate of the VMO the peer sealed itself (errno)
};

// Peer: sends three VMOs it made, with every right: a resizable one, an MX_VMO_NON_RESIZABLE one,
// and a resizable one whose memfd it sealed itself with fcntl (the kernel's seals count, however
// they were set). When told to, shrinks all three as far as it can and reports.
MX_CHILD(vmo_peer_with_three_vmos) {
  mx_handle_t ch = mx_test::TakeStartupHandle(PA_HND(PA_USER0, 0));
  CHILD_CHECK(DropPrivilegesIfRoot());
  const size_t len = kPages * kPage;
  mx_handle_t self_sealed, resizable, sealed;
  CHILD_CHECK_OK(mx_vmo_create(len, 0, &self_sealed));
  std::vector<int> fds = VmoFds();
  CHILD_CHECK_EQ(fds.size(), 1u);
  const int self_sealed_fd = fds[0];
  CHILD_CHECK(fcntl(self_sealed_fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW) == 0);
  CHILD_CHECK_OK(mx_vmo_create(len, 0, &resizable));
  CHILD_CHECK_OK(mx_vmo_create(len, MX_VMO_NON_RESIZABLE, &sealed));
  mx_handle_t dups[3];
  CHILD_CHECK_OK(mx_handle_duplicate(resizable, MX_RIGHT_SAME_RIGHTS, &dups[0]));
  CHILD_CHECK_OK(mx_handle_duplicate(sealed, MX_RIGHT_SAME_RIGHTS, &dups[1]));
  CHILD_CHECK_OK(mx_handle_duplicate(self_sealed, MX_RIGHT_SAME_RIGHTS, &dups[2]));
  CHILD_CHECK_OK(mx_test::WritePod(ch, uint32_t{1}, {dups[0], dups[1], dups[2]}));
  uint32_t go = 0;
  CHILD_CHECK_OK(mx_test::ReadPod(ch, &go));
  ShrinkReport r = {};
  r.resizable_shrink = mx_vmo_set_size(resizable, 0);
  r.sealed_shrink = mx_vmo_set_size(sealed, 0);
  r.self_sealed_shrink = ErrnoOf(ftruncate(self_sealed_fd, 0) == 0);
  CHILD_CHECK_OK(mx_test::WritePod(ch, r));
  for (mx_handle_t h : {resizable, sealed, self_sealed}) CHILD_CHECK_OK(mx_handle_close(h));
  CHILD_CHECK_OK(mx_handle_close(ch));
  return 0;
}

TEST_F(HostileVmoTest, RequireNonResizableMapsOnlyVmosTheKernelReportsSealed) {
  mx_handle_t a, b, process;
  ASSERT_EQ(mx_channel_create(0, &a, &b), MX_OK);
  ASSERT_EQ(
      mx_test::SpawnChild("vmo_peer_with_three_vmos", {{PA_HND(PA_USER0, 0), b}}, {}, &process),
      MX_OK);
  mx_test::ScopedProcess child(process);
  uint32_t hello = 0;
  std::vector<mx_handle_t> vmos;
  ASSERT_EQ(mx_test::ReadPod(a, &hello, &vmos), MX_OK);
  ASSERT_EQ(vmos.size(), 3u);
  const size_t len = kPages * kPage;
  const uint32_t kRequire = kRW | MX_VM_FLAG_REQUIRE_NON_RESIZABLE;
  mx_handle_t root = mx_vmar_root_self();
  uintptr_t resizable_addr = 0, sealed_addr = 0, self_sealed_addr = 0;
  // The resizable one is refused with the flag; without it the caller takes the risk.
  EXPECT_EQ(mx_vmar_map(root, 0, vmos[0], 0, len, kRequire, &resizable_addr), MX_ERR_NOT_SUPPORTED);
  ASSERT_EQ(mx_vmar_map(root, 0, vmos[0], 0, len, kRW, &resizable_addr), MX_OK);
  ASSERT_EQ(mx_vmar_map(root, 0, vmos[1], 0, len, kRequire, &sealed_addr), MX_OK);
  ASSERT_EQ(mx_vmar_map(root, 0, vmos[2], 0, len, kRequire, &self_sealed_addr), MX_OK);
  for (uintptr_t addr : {resizable_addr, sealed_addr, self_sealed_addr}) {
    auto* p = reinterpret_cast<uint8_t*>(addr);
    for (size_t i = 0; i < len; ++i) p[i] = VictimByte(i);
  }
  ASSERT_EQ(mx_test::WritePod(a, uint32_t{2}), MX_OK);
  ShrinkReport r;
  ASSERT_EQ(mx_test::ReadPod(a, &r), MX_OK);
  EXPECT_EQ(child.Join(), 0);

  const TouchResult sealed = TouchInChild(sealed_addr, len, /*write=*/false);
  const TouchResult self_sealed = TouchInChild(self_sealed_addr, len, /*write=*/false);
  const TouchResult resizable = TouchInChild(resizable_addr, len, /*write=*/false);
  printf(
      "[attack] peer shrinks the VMOs it sent: MX_VMO_NON_RESIZABLE %s -> mapped with "
      "REQUIRE_NON_RESIZABLE: %s; sealed by the peer with fcntl: ftruncate %s -> %s; "
      "resizable (refused with the flag, mapped without) %s -> %s\n",
      mx_test::StatusName(r.sealed_shrink), Describe(sealed).c_str(),
      ErrName(r.self_sealed_shrink).c_str(), Describe(self_sealed).c_str(),
      mx_test::StatusName(r.resizable_shrink), Describe(resizable).c_str());

  EXPECT_EQ(r.sealed_shrink, MX_ERR_UNAVAILABLE);
  EXPECT_EQ(r.self_sealed_shrink, EPERM);
  EXPECT_EQ(sealed.signal, 0) << Describe(sealed);
  EXPECT_TRUE(sealed.pattern_intact);
  EXPECT_EQ(self_sealed.signal, 0) << Describe(self_sealed);
  EXPECT_TRUE(self_sealed.pattern_intact);
  // What the flag protects against: a writer shrinking a resizable VMO kills its mappings'
  // users, as the access would have faulted in Magenta (docs/vmos.md).
  EXPECT_EQ(r.resizable_shrink, MX_OK);
  EXPECT_EQ(resizable.signal, SIGBUS) << Describe(resizable);

  for (uintptr_t addr : {resizable_addr, sealed_addr, self_sealed_addr}) {
    EXPECT_EQ(mx_vmar_unmap(root, addr, len), MX_OK);
  }
  mx_test::CloseAll(&vmos);
  EXPECT_EQ(mx_handle_close(a), MX_OK);
}

// ---- A sender that claims WRITE for a read-only description -------------------------------------

// Raw peer: sends, in one data frame, a VMO handle that claims every right but carries a
// read-only description of a memfd it made.
MX_CHILD(vmo_raw_sender_claiming_write) {
  using namespace mx_test::wire;
  CHILD_CHECK_EQ(args.size(), 1u);
  CHILD_CHECK(DropPrivilegesIfRoot());
  int sock = -1;
  CHILD_CHECK_EQ(ConnectRawPeer(args[0], &sock), 0);
  int memfd = memfd_create("hostile-vmo", MFD_CLOEXEC);
  CHILD_CHECK(memfd >= 0);
  CHILD_CHECK(ftruncate(memfd, static_cast<off_t>(kPage)) == 0);
  const char kText[] = "read me";
  CHILD_CHECK(pwrite(memfd, kText, sizeof(kText), 0) == static_cast<ssize_t>(sizeof(kText)));
  const std::string path = "/proc/self/fd/" + std::to_string(memfd);
  int ro = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  CHILD_CHECK(ro >= 0);
  std::vector<uint8_t> desc;
  AppendHandle(&desc, MX_OBJ_TYPE_VMO, 1);  // rights 0xffffffff
  FrameSpec frame(kFrameData, 0, "vmo", desc, 1, 1);
  std::vector<uint8_t> bytes = frame.Encode();
  CHILD_CHECK_EQ(SendOn(sock, bytes.data(), bytes.size(), &ro, 1), 0);
  close(ro);
  close(memfd);
  // Stay connected until the victim has read the message and hangs up.
  struct pollfd p = {sock, POLLRDHUP, 0};
  int r;
  do {
    r = poll(&p, 1, 30000);
  } while (r < 0 && errno == EINTR);
  close(sock);
  return 0;
}

TEST_F(HostileVmoTest, ReadOnlyDescriptionClaimingWriteArrivesWithoutWrite) {
  const std::string service = "@libmx-hostile-vmo-" + std::to_string(getpid());
  mx_handle_t listener, process, server;
  ASSERT_EQ(mx_service_listen(service.c_str(), 0, &listener), MX_OK);
  ASSERT_EQ(mx_test::SpawnChild("vmo_raw_sender_claiming_write", {}, {service}, &process), MX_OK);
  mx_test::ScopedProcess child(process);
  ASSERT_EQ(mx_object_wait_one(listener, MX_SERVICE_READABLE, mx_test::DefaultDeadline(), nullptr),
            MX_OK);
  ASSERT_EQ(mx_service_accept(listener, &server), MX_OK);
  mx_test::Message msg;
  ASSERT_EQ(mx_test::ReadMessage(server, &msg), MX_OK);
  EXPECT_EQ(std::string(msg.bytes.begin(), msg.bytes.end()), "vmo");
  ASSERT_EQ(msg.handles.size(), 1u);
  mx_handle_t vmo = msg.handles[0];
  const mx_rights_t rights = mx_test::RightsOf(vmo);
  uintptr_t addr = 0;
  const mx_status_t map_write = mx_vmar_map(mx_vmar_root_self(), 0, vmo, 0, kPage, kRW, &addr);
  if (map_write == MX_OK) {
    EXPECT_EQ(mx_vmar_unmap(mx_vmar_root_self(), addr, kPage), MX_OK);
  }
  size_t actual = 0;
  const mx_status_t write = mx_vmo_write(vmo, "x", 0, 1, &actual);
  const mx_status_t set_size = mx_vmo_set_size(vmo, 0);
  char text[8] = {};
  EXPECT_EQ(mx_vmo_read(vmo, text, 0, sizeof(text), &actual), MX_OK);
  printf(
      "[attack] read-only description claiming every right: rights 0x%x, map WRITE %s, "
      "vmo_write %s, set_size %s\n",
      rights, mx_test::StatusName(map_write), mx_test::StatusName(write),
      mx_test::StatusName(set_size));
  EXPECT_EQ(rights, static_cast<mx_rights_t>(MX_DEFAULT_VMO_RIGHTS & ~MX_RIGHT_WRITE));
  EXPECT_EQ(map_write, MX_ERR_ACCESS_DENIED);
  EXPECT_EQ(write, MX_ERR_ACCESS_DENIED);
  EXPECT_EQ(set_size, MX_ERR_ACCESS_DENIED);
  EXPECT_STREQ(text, "read me");
  ASSERT_EQ(mx_vmar_map(mx_vmar_root_self(), 0, vmo, 0, kPage, MX_VM_FLAG_PERM_READ, &addr), MX_OK);
  EXPECT_STREQ(reinterpret_cast<const char*>(addr), "read me");
  EXPECT_EQ(mx_vmar_unmap(mx_vmar_root_self(), addr, kPage), MX_OK);
  mx_test::CloseAll(&msg.handles);
  EXPECT_EQ(mx_handle_close(server), MX_OK);
  EXPECT_EQ(child.Join(), 0);
  EXPECT_EQ(mx_handle_close(listener), MX_OK);
}

}  // namespace
