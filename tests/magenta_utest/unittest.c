// SPDX-License-Identifier: BSD-3-Clause
// The runner behind the <unittest/unittest.h> stand-in: registered cases, one child process per
// test with a deadline, and the pass/fail summary that tools/magenta-utest.sh reads.
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>
#include <unittest/unittest.h>

bool mxut_test_ok = true;

static struct mxut_case* g_cases;
static struct mxut_case** g_cases_tail = &g_cases;
static unsigned g_passed;
static unsigned g_failed;

void mxut_register_case(struct mxut_case* test_case) {
  // Constructors run in file order; keep the cases in that order.
  test_case->next = NULL;
  *g_cases_tail = test_case;
  g_cases_tail = &test_case->next;
}

void mxut_fail(const char* file, int line, const char* check, const char* msg) {
  mxut_test_ok = false;
  printf("    %s:%d: check failed: %s%s%s\n", file, line, check, msg[0] ? ": " : "", msg);
  fflush(stdout);
}

void mxut_fail_values(const char* file, int line, const char* check, unsigned long long left,
                      unsigned long long right, const char* msg) {
  mxut_test_ok = false;
  printf("    %s:%d: check failed: %s%s%s\n      left %lld (%#llx), right %lld (%#llx)\n", file,
         line, check, msg[0] ? ": " : "", msg, (long long)left, left, (long long)right, right);
  fflush(stdout);
}

int unittest_printf_critical(const char* format, ...) {
  va_list args;
  va_start(args, format);
  int n = vprintf(format, args);
  va_end(args);
  fflush(stdout);
  return n;
}

static unsigned timeout_seconds(void) {
  const char* text = getenv("MXUT_TEST_TIMEOUT");
  long value = text ? strtol(text, NULL, 10) : 0;
  return value > 0 ? (unsigned)value : 60u;
}

static bool run_in_this_process(bool (*fn)(void)) {
  mxut_test_ok = true;
  bool returned = fn();
  return returned && mxut_test_ok;
}

// Runs |fn| in a child under alarm(): SIGALRM's default action ends a hung test. The verdict is
// the child's exit status; anything else (a signal, a stray exit code) is a failure with a reason.
static bool run_in_child(bool (*fn)(void), char* why, size_t why_size) {
  unsigned timeout = timeout_seconds();
  fflush(stdout);
  fflush(stderr);
  pid_t pid = fork();
  if (pid < 0) {
    snprintf(why, why_size, "fork failed (errno %d)", errno);
    return false;
  }
  if (pid == 0) {
    signal(SIGALRM, SIG_DFL);
    alarm(timeout);
    bool ok = run_in_this_process(fn);
    fflush(stdout);
    fflush(stderr);
    _exit(ok ? 0 : 1);
  }
  int status = 0;
  while (waitpid(pid, &status, 0) < 0) {
    if (errno != EINTR) {
      snprintf(why, why_size, "waitpid failed (errno %d)", errno);
      return false;
    }
  }
  if (WIFEXITED(status) && WEXITSTATUS(status) == 0) return true;
  if (WIFEXITED(status) && WEXITSTATUS(status) == 1) {
    snprintf(why, why_size, "checks failed");
  } else if (WIFEXITED(status)) {
    snprintf(why, why_size, "exited with status %d", WEXITSTATUS(status));
  } else if (WIFSIGNALED(status) && WTERMSIG(status) == SIGALRM) {
    snprintf(why, why_size, "timed out after %u s", timeout);
  } else if (WIFSIGNALED(status)) {
    snprintf(why, why_size, "crashed: %s", strsignal(WTERMSIG(status)));
  } else {
    snprintf(why, why_size, "ended with wait status %#x", status);
  }
  return false;
}

void mxut_run_test(struct mxut_case* test_case, const char* name, bool (*fn)(void)) {
  printf("[ RUN      ] %s.%s\n", test_case->name, name);
  char why[96] = "checks failed";
  const char* no_fork = getenv("MXUT_NO_FORK");
  bool ok =
      (no_fork && no_fork[0] == '1') ? run_in_this_process(fn) : run_in_child(fn, why, sizeof(why));
  if (ok) {
    g_passed++;
    printf("[       OK ] %s.%s\n", test_case->name, name);
  } else {
    g_failed++;
    printf("[  FAILED  ] %s.%s: %s\n", test_case->name, name, why);
  }
  fflush(stdout);
}

bool unittest_run_all_tests(int argc, char** argv) {
  (void)argc;
  (void)argv;
  for (struct mxut_case* c = g_cases; c != NULL; c = c->next) c->body(c);
  printf("mxut: %u passed, %u failed, %u total\n", g_passed, g_failed, g_passed + g_failed);
  fflush(stdout);
  return g_failed == 0;
}
