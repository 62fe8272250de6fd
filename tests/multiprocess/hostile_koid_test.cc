// SPDX-License-Identifier: BSD-3-Clause
// Hostile local users against koid allocation (docs/design.md, "Koids").
//
// Koids come from per-uid counter files in /dev/shm, with a random fallback. Another user may do
// whatever it likes in /dev/shm: hold flock() on every libmx file it can open, rewind or corrupt
// every one it can write, and plant files (symlinks, files of its own with mode 0666) under the
// names other uids will use. The victims are real processes of other uids, and of root in a
// sandbox without /dev/shm. They must
//   - create objects promptly: nothing they wait for can be held by another user;
//   - never hand out a koid that a live object of another process already has.
//
// The attacker is a child that drops to nobody, so these tests need root; without it they skip.
// Each test prints "[attack] <name>: ..." with its figures.
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <gtest/gtest.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "support/multiprocess.h"

namespace {

using mx_test::Message;

constexpr uint32_t kCtl = PA_HND(PA_USER0, 0);
// Victims of uids whose counter files the attacker plants first: a uid of the narrow layout and
// one above 2^31 (the wide layout).
constexpr uint32_t kVictimUidSymlink = 31337;
constexpr uint32_t kVictimUidForeign = 4000000123u;
// Objects each victim keeps alive while its koids are compared: several batches' worth.
constexpr int kObjectsPerVictim = 300;

std::string CounterPath(uint32_t uid) { return "/dev/shm/libmx-koid-" + std::to_string(uid); }

// The libmx files in /dev/shm, whatever their names.
std::vector<std::string> LibmxShmFiles() {
  std::vector<std::string> out;
  DIR* dir = opendir("/dev/shm");
  if (dir == nullptr) return out;
  while (struct dirent* e = readdir(dir)) {
    if (strncmp(e->d_name, "libmx-koid", 10) == 0)
      out.push_back(std::string("/dev/shm/") + e->d_name);
  }
  closedir(dir);
  return out;
}

mx_koid_t KoidOf(mx_handle_t h) {
  mx_info_handle_basic_t info = {};
  if (mx_object_get_info(h, MX_INFO_HANDLE_BASIC, &info, sizeof(info), nullptr, nullptr) != MX_OK) {
    return MX_KOID_INVALID;
  }
  return info.koid;
}

struct AttackReport {
  uint32_t files_seen;
  uint32_t locks_held;     // flock(LOCK_EX) the attacker holds until told to stop
  uint32_t files_rewound;  // counters it could write: set back by one batch
  uint32_t files_planted;  // names of the victims' counters it took first
};

// The attacker, as nobody: lock, rewind and plant, report, then hold everything until the parent
// writes on the control channel (or goes away).
MX_CHILD(koid_attacker) {
  mx_handle_t ctl = mx_test::TakeStartupHandle(kCtl);
  CHILD_CHECK(mx_test::BecomeNobody());
  AttackReport report = {};
  std::vector<int> held;
  std::vector<std::pair<int, uint64_t>> rewound;  // put back on exit: the machine is shared
  // A file under the name other libmx versions share, in case nobody made it yet.
  int shared = open("/dev/shm/libmx-koid-counter", O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0666);
  if (shared >= 0) {
    fchmod(shared, 0666);
    close(shared);
  }
  // Names the victims will use: a symlink to a file of ours, and a file of ours with mode 0666.
  int bait = open("/dev/shm/libmx-koid-bait", O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0666);
  if (bait >= 0) {
    fchmod(bait, 0666);
    uint64_t value = 1024;
    CHILD_CHECK(pwrite(bait, &value, sizeof(value), 0) == sizeof(value));
    close(bait);
  }
  if (symlink("/dev/shm/libmx-koid-bait", CounterPath(kVictimUidSymlink).c_str()) == 0)
    ++report.files_planted;
  int foreign =
      open(CounterPath(kVictimUidForeign).c_str(), O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
  if (foreign >= 0) {
    fchmod(foreign, 0666);
    uint64_t value = 1024;
    CHILD_CHECK(pwrite(foreign, &value, sizeof(value), 0) == sizeof(value));
    close(foreign);
    ++report.files_planted;
  }
  for (const std::string& path : LibmxShmFiles()) {
    ++report.files_seen;
    int fd = open(path.c_str(), O_RDWR | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
    const bool writable = fd >= 0;
    if (fd < 0) fd = open(path.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
    if (fd < 0) continue;
    if (flock(fd, LOCK_EX | LOCK_NB) == 0) ++report.locks_held;
    uint64_t value = 0;
    if (writable && pread(fd, &value, sizeof(value), 0) == sizeof(value) && value >= 4096 + 1024) {
      // Back by one batch: the next batch repeats the koids the last process took.
      value -= 4096;
      if (pwrite(fd, &value, sizeof(value), 0) == sizeof(value)) {
        ++report.files_rewound;
        rewound.push_back({fd, value + 4096});
      }
    }
    held.push_back(fd);
  }
  CHILD_CHECK_OK(mx_test::WritePod(ctl, report));
  Message done;
  mx_test::ReadMessage(ctl, &done);  // until the parent says so, or closes
  for (auto [fd, value] : rewound) {
    uint64_t now = 0;
    if (pread(fd, &now, sizeof(now), 0) == sizeof(now) && now < value)
      pwrite(fd, &value, sizeof(value), 0);
  }
  for (int fd : held) close(fd);
  return 0;
}

bool BecomeUser(uint32_t uid) {
  return setgroups(0, nullptr) == 0 && setresgid(uid, uid, uid) == 0 &&
         setresuid(uid, uid, uid) == 0 && geteuid() == uid;
}

// A victim: optionally becomes |args[0]| (a uid) or enters a sandbox without /dev/shm
// ("sandbox"), then creates kObjectsPerVictim events, keeps them alive, and sends back how long
// the creates took (ns) followed by their koids. Exits when the parent writes again.
MX_CHILD(koid_victim) {
  mx_handle_t ctl = mx_test::TakeStartupHandle(kCtl);
  CHILD_CHECK(args.size() == 1);
  if (args[0] == "sandbox") {
    // Its own mount namespace, where /dev/shm is an empty read-only tmpfs.
    CHILD_CHECK(unshare(CLONE_NEWNS) == 0);
    CHILD_CHECK(mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) == 0);
    CHILD_CHECK(mount("none", "/dev/shm", "tmpfs", MS_RDONLY, "size=4k") == 0);
  } else if (args[0] != "self") {
    CHILD_CHECK(BecomeUser(static_cast<uint32_t>(std::stoul(args[0]))));
  }
  std::vector<mx_handle_t> events(kObjectsPerVictim);
  std::vector<uint64_t> out(1 + kObjectsPerVictim);
  auto start = std::chrono::steady_clock::now();
  for (int i = 0; i < kObjectsPerVictim; ++i) {
    CHILD_CHECK_OK(mx_event_create(0, &events[i]));
  }
  out[0] = static_cast<uint64_t>(
      std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now() - start)
          .count());
  for (int i = 0; i < kObjectsPerVictim; ++i) out[1 + i] = KoidOf(events[i]);
  CHILD_CHECK_OK(mx_test::WriteMessage(ctl, out.data(), out.size() * sizeof(uint64_t)));
  Message done;
  mx_test::ReadMessage(ctl, &done);
  for (mx_handle_t h : events) mx_handle_close(h);
  return 0;
}

class HostileKoidTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!mx_test::CanBecomeAnotherUser()) {
      GTEST_SKIP() << "needs root: the attacker must run as another user (nobody) and the "
                      "victims as other uids";
    }
    RemovePlanted();
  }
  void TearDown() override {
    if (mx_test::CanBecomeAnotherUser()) RemovePlanted();
  }

  static void RemovePlanted() {
    unlink(CounterPath(kVictimUidSymlink).c_str());
    unlink(CounterPath(kVictimUidForeign).c_str());
    unlink("/dev/shm/libmx-koid-bait");
  }

  // Starts the attacker and waits for its report; it holds its locks until |attacker_ctl_| is
  // written to or closed.
  void StartAttacker(AttackReport* report) {
    mx_handle_t a, b, process;
    ASSERT_EQ(mx_channel_create(0, &a, &b), MX_OK);
    ASSERT_EQ(mx_test::SpawnChild("koid_attacker", {{kCtl, b}}, {}, &process), MX_OK);
    attacker_ = mx_test::ScopedProcess(process);
    attacker_ctl_ = a;
    ASSERT_EQ(mx_test::ReadPod(a, report), MX_OK);
    printf(
        "[attack] koid attacker (nobody): %u libmx files in /dev/shm, %u locked, %u rewound, "
        "%u victim names planted\n",
        report->files_seen, report->locks_held, report->files_rewound, report->files_planted);
  }

  void StopAttacker() {
    if (attacker_ctl_ == MX_HANDLE_INVALID) return;
    uint8_t done = 1;
    mx_test::WriteMessage(attacker_ctl_, &done, 1);
    EXPECT_EQ(attacker_.Join(), 0);
    mx_handle_close(attacker_ctl_);
    attacker_ctl_ = MX_HANDLE_INVALID;
  }

  struct Victim {
    mx_test::ScopedProcess process;
    mx_handle_t ctl = MX_HANDLE_INVALID;
    uint64_t create_ns = 0;
    std::vector<mx_koid_t> koids;
    mx_status_t status = MX_ERR_INTERNAL;
  };

  // Runs a victim and waits for its koids (20 s at most: with a lock it waits for, it would
  // wait for as long as the attacker holds it, which is until the end of the test).
  void RunVictim(const std::string& who, Victim* v) {
    mx_handle_t a, b, process;
    ASSERT_EQ(mx_channel_create(0, &a, &b), MX_OK);
    ASSERT_EQ(mx_test::SpawnChild("koid_victim", {{kCtl, b}}, {who}, &process), MX_OK);
    v->process = mx_test::ScopedProcess(process);
    v->ctl = a;
    Message msg;
    v->status = mx_test::ReadMessage(a, &msg, mx_deadline_after(MX_SEC(20)));
    if (v->status != MX_OK) return;
    ASSERT_EQ(msg.bytes.size(), (1 + kObjectsPerVictim) * sizeof(uint64_t));
    std::vector<uint64_t> words(1 + kObjectsPerVictim);
    memcpy(words.data(), msg.bytes.data(), msg.bytes.size());
    v->create_ns = words[0];
    v->koids.assign(words.begin() + 1, words.end());
  }

  void FinishVictim(Victim* v) {
    if (v->ctl == MX_HANDLE_INVALID) return;
    if (v->status == MX_OK) {
      uint8_t done = 1;
      mx_test::WriteMessage(v->ctl, &done, 1);
      EXPECT_EQ(v->process.Join(), 0);
    } else {
      v->process.KillAndJoin();
    }
    mx_handle_close(v->ctl);
    v->ctl = MX_HANDLE_INVALID;
  }

  mx_test::ScopedProcess attacker_;
  mx_handle_t attacker_ctl_ = MX_HANDLE_INVALID;
};

// Another user holds flock() on every libmx file in /dev/shm it can open; a new process creating
// objects never waits for it.
TEST_F(HostileKoidTest, CreatesDoNotWaitForLocksOtherUsersHold) {
  mx_handle_t mine;
  ASSERT_EQ(mx_event_create(0, &mine), MX_OK);  // this uid's counter file exists
  AttackReport report;
  ASSERT_NO_FATAL_FAILURE(StartAttacker(&report));
  Victim victim;
  ASSERT_NO_FATAL_FAILURE(RunVictim("self", &victim));
  printf("[attack] koid lock holder: victim's %d creates %s (%.1f ms)\n", kObjectsPerVictim,
         victim.status == MX_OK ? "returned" : "did not return within 20 s",
         static_cast<double>(victim.create_ns) / 1e6);
  EXPECT_EQ(victim.status, MX_OK) << "the victim's creates waited for the attacker's lock";
  EXPECT_LT(victim.create_ns, 5ull * 1000 * 1000 * 1000);
  FinishVictim(&victim);
  StopAttacker();
  mx_handle_close(mine);
}

// Another user rewinds every counter it can write and plants files under the counter names of
// other uids; the koids of live objects of this process, of a process of the same uid, of other
// uids and of a sandbox without /dev/shm stay distinct.
TEST_F(HostileKoidTest, RewoundAndPlantedCountersNeverDuplicateLiveKoids) {
  std::vector<mx_handle_t> mine(kObjectsPerVictim);
  std::set<mx_koid_t> seen;
  size_t total = 0, duplicates = 0;
  auto note = [&](mx_koid_t k) {
    ++total;
    EXPECT_NE(k, MX_KOID_INVALID);
    if (!seen.insert(k).second) ++duplicates;
  };
  for (mx_handle_t& h : mine) {
    ASSERT_EQ(mx_event_create(0, &h), MX_OK);
    note(KoidOf(h));
  }
  AttackReport report;
  ASSERT_NO_FATAL_FAILURE(StartAttacker(&report));
  const std::string whos[] = {"self", std::to_string(kVictimUidSymlink),
                              std::to_string(kVictimUidForeign), "sandbox"};
  std::vector<Victim> victims(std::size(whos));
  for (size_t i = 0; i < victims.size(); ++i) {
    ASSERT_NO_FATAL_FAILURE(RunVictim(whos[i], &victims[i]));
    EXPECT_EQ(victims[i].status, MX_OK) << whos[i];
    size_t before = duplicates;
    for (mx_koid_t k : victims[i].koids) note(k);
    printf(
        "[attack] koid rewind/plant: victim %-10s %d creates in %.1f ms, first koid %#llx, "
        "%zu koids already live elsewhere\n",
        whos[i].c_str(), kObjectsPerVictim, static_cast<double>(victims[i].create_ns) / 1e6,
        victims[i].koids.empty() ? 0ull : static_cast<unsigned long long>(victims[i].koids[0]),
        duplicates - before);
  }
  // The planted files are not used (they still hold the attacker's value).
  for (uint32_t uid : {kVictimUidSymlink, kVictimUidForeign}) {
    struct stat st;
    if (lstat(CounterPath(uid).c_str(), &st) == 0) {
      EXPECT_NE(st.st_uid, uid);
    }
  }
  printf("[attack] koid rewind/plant: %zu live koids in 5 processes, %zu duplicates\n", total,
         duplicates);
  EXPECT_EQ(duplicates, 0u);
  for (Victim& v : victims) FinishVictim(&v);
  StopAttacker();
  for (mx_handle_t h : mine) mx_handle_close(h);
}

}  // namespace
