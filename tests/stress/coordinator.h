// SPDX-License-Identifier: BSD-3-Clause
// The coordinator of mx_soak: spawns and kills the workers, wires links between them, and
// cross-checks what they report (coordinator.cc; the run itself and the verdict:
// coordinator_run.cc).
#ifndef MX_TESTS_STRESS_COORDINATOR_H_
#define MX_TESTS_STRESS_COORDINATOR_H_

#include "soak.h"

namespace mx_soak {

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

}  // namespace mx_soak

#endif  // MX_TESTS_STRESS_COORDINATOR_H_
