// SPDX-License-Identifier: BSD-3-Clause
#include "os/spawn.h"

#include <signal.h>
#include <spawn.h>

#include <cstring>

#include "os/status.h"

extern char** environ;

namespace mx::internal {
namespace {

// |name=value| has the name of |assignment| (which is "NAME=...").
bool SameName(const char* variable, const std::string& assignment) {
  const size_t eq = assignment.find('=');
  return std::strncmp(variable, assignment.data(), eq) == 0 && variable[eq] == '=';
}

// The child's environment: |envp| (or ours) without the variables |overrides| set, then those.
std::vector<std::string> ChildEnvironment(const char* const* envp,
                                          const std::vector<std::string>& overrides) {
  std::vector<std::string> env;
  for (const char* const* e = envp != nullptr ? envp : environ; e != nullptr && *e != nullptr;
       ++e) {
    bool replaced = false;
    for (const std::string& o : overrides) replaced = replaced || SameName(*e, o);
    if (!replaced) env.emplace_back(*e);
  }
  env.insert(env.end(), overrides.begin(), overrides.end());
  return env;
}

}  // namespace

mx_status_t SpawnProcess(const SpawnRequest& request, pid_t* pid) {
  std::vector<std::string> env_storage = ChildEnvironment(request.envp, request.env_overrides);
  std::vector<char*> env;
  for (std::string& s : env_storage) env.push_back(s.data());
  env.push_back(nullptr);

  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  // dup2 onto itself clears close-on-exec for the child only (glibc >= 2.29).
  for (const SpawnFdAction& a : request.fds) {
    posix_spawn_file_actions_adddup2(&actions, a.fd, a.child_fd);
  }
  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  sigset_t none;
  sigemptyset(&none);
  posix_spawnattr_setsigmask(&attr, &none);
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK);
  const int err = ::posix_spawn(pid, request.path, &actions, &attr,
                                const_cast<char* const*>(request.argv), env.data());
  posix_spawn_file_actions_destroy(&actions);
  posix_spawnattr_destroy(&attr);
  return err == 0 ? MX_OK : SpawnStatus(err);
}

}  // namespace mx::internal
