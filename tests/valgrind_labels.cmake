# SPDX-License-Identifier: BSD-3-Clause
# Run by ctest (TEST_INCLUDE_FILES, tests/CMakeLists.txt) after the gtest tests are discovered: adds
# the label `valgrind` to every test of mx_unit_tests and mx_api_tests except the suites below, so
# a new suite is under memcheck (tools/valgrind.sh runs `ctest -L valgrind`) unless it is named
# here. ctest's script mode can only replace a test's labels, so each keeps its own as well.
#
# Left out, and why:
#   - mx_multiprocess_tests, ProcessWrapperTest, SpawnTest, PidfdTest and SpinPlacementTest:
#     mx_spawn and os/'s spawn make a pidfd (pidfd_open, syscall 434), which valgrind 3.19
#     (Debian 12) does not implement, so no child can be spawned under it. FdCostTest counts the
#     pidfd of mx_process_self among its rows. ForkTest does run a second process (valgrind follows
#     fork() by itself; nothing execs).
#   - BackpressureTest, and the stress, fuzz and example programs: megabytes per test, minutes
#     under valgrind; asan and the fuzzers cover them.
#   - SpinTest's cases on contended spins: a spin that is off the CPU for microseconds between two
#     looks counts as contended, and under memcheck every look is that slow.
#   - FifoRingTest.ConcurrentReadersTakeEachElementOnce: three threads pass 200,000 elements
#     through a 64-element ring by retrying; memcheck runs one thread at a time, so it takes
#     minutes there. asan and the debug build run it.
#   - CprngTest.UnwritableBufferIsInvalidArgs hands the kernel an unmapped buffer on purpose;
#     memcheck reports every such system call argument.
set(mx_valgrind_excluded
    "^((ProcessWrapperTest|SpawnTest|PidfdTest|SpinPlacementTest|FdCostTest|BackpressureTest)\\.|SpinTest\\.ASpinOffTheCpu|FifoRingTest\\.ConcurrentReadersTakeEachElementOnce$|CprngTest\\.UnwritableBufferIsInvalidArgs$)")
foreach(binary_label IN ITEMS "mx_unit_tests;unit" "mx_api_tests;api")
  list(GET binary_label 0 binary)
  list(GET binary_label 1 label)
  foreach(t IN LISTS ${binary}_TESTS)
    if(NOT t MATCHES "${mx_valgrind_excluded}")
      set_tests_properties("${t}" PROPERTIES LABELS "${label};valgrind")
    endif()
  endforeach()
endforeach()
