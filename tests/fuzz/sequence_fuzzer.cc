// SPDX-License-Identifier: BSD-3-Clause
// libFuzzer target: sequences of channel, event and fd-handle operations through the public C API,
// checked against a model after every step (tests/fuzz/sequence_program.h has the input encoding
// and the properties). A violated property prints the operation and the check, then aborts.
//
// Seeds: tests/fuzz/corpus/sequence/, written by tests/api/sequence_program_test.cc. At exit the
// target prints what the programs did (programs, operations, messages, handles moved, calls).
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <vector>

#include "fuzz/sequence_program.h"

namespace {

mx_fuzz::SequenceStats g_stats;

void PrintStats() {
  const mx_fuzz::SequenceStats& s = g_stats;
  fprintf(stderr,
          "sequence_fuzzer: %llu programs, %llu operations, %llu messages written, %llu read back, "
          "%llu handles moved, %llu calls answered, %llu timed out, %llu SHOULD_WAIT, "
          "%llu expected errors, %llu writes to a closed peer accepted (known bug)\n",
          static_cast<unsigned long long>(s.programs), static_cast<unsigned long long>(s.ops),
          static_cast<unsigned long long>(s.messages_written),
          static_cast<unsigned long long>(s.messages_read),
          static_cast<unsigned long long>(s.handles_moved),
          static_cast<unsigned long long>(s.calls_answered),
          static_cast<unsigned long long>(s.calls_timed_out),
          static_cast<unsigned long long>(s.should_wait),
          static_cast<unsigned long long>(s.expected_errors),
          static_cast<unsigned long long>(s.known_bug_writes));
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int* argc, char*** argv) {
  // The smallest channel buffer libmx accepts (256 KiB), so that the 512 KiB a program may write
  // reaches the message ring and fills it. Read once, before the first channel exists.
  setenv("MX_CHANNEL_BUFFER_BYTES", "262144", 0);
  atexit(PrintStats);
  // A program reaches some 30,000 coverage features; libFuzzer's entropic schedule keeps
  // per-input feature counts whose upkeep then costs more than the program (measured: 2.6 times
  // fewer executions). Use the classic schedule unless the command line chooses (libFuzzer reads
  // its flags after this function, from the argv it leaves).
  for (int i = 1; i < *argc; ++i) {
    if (strncmp((*argv)[i], "-entropic=", 10) == 0) return 0;
  }
  static std::vector<char*> args;
  args.assign(*argv, *argv + *argc);
  static char entropic_off[] = "-entropic=0";
  args.push_back(entropic_off);
  args.push_back(nullptr);
  *argv = args.data();
  *argc += 1;
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string error = mx_fuzz::RunSequence(data, size, &g_stats);
  if (!error.empty()) {
    fprintf(stderr, "sequence_fuzzer: %s\n", error.c_str());
    abort();
  }
  return 0;
}
