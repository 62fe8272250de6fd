# SPDX-License-Identifier: BSD-3-Clause
# Counts the results in a JUnit file written by `ctest --output-junit` (tools/test.sh reads them):
#   cmake -DJUNIT=<file> -P tools/junit_count.cmake     prints "<passed> <failed>"
# Counted as ctest counts them in "N tests failed out of M": one <testcase> per test; status="run"
# passed, and so did a test that skipped itself (status="notrun" with a <skipped> message
# SKIP_REGULAR_EXPRESSION_MATCHED or SKIP_RETURN_CODE=..., e.g. a GTEST_SKIP under a sanitizer);
# "disabled" tests are not counted; anything else ("fail"; "notrun" for a missing executable or an
# unmet dependency) failed. CMake is used because CI surely has it (python3 and xmllint are not on a
# fresh Debian 12 with tools/deps.sh's packages).
if(NOT DEFINED JUNIT OR NOT EXISTS "${JUNIT}")
  message(FATAL_ERROR "junit_count: no JUnit file: '${JUNIT}'")
endif()
file(READ "${JUNIT}" xml)
# A CMake list is ;-separated, and entities (&quot;) in test names carry one.
string(REPLACE ";" "," xml "${xml}")
string(REGEX MATCHALL "<testcase [^>]*>" cases "${xml}")
string(REGEX MATCHALL "<skipped message=\"SKIP_" self_skipped "${xml}")
list(LENGTH self_skipped skipped)
set(ran 0)
set(other 0)
foreach(c IN LISTS cases)
  if(c MATCHES " status=\"run\"")
    math(EXPR ran "${ran} + 1")
  elseif(NOT c MATCHES " status=\"disabled\"")
    math(EXPR other "${other} + 1")
  endif()
endforeach()
math(EXPR passed "${ran} + ${skipped}")
math(EXPR failed "${other} - ${skipped}")
execute_process(COMMAND "${CMAKE_COMMAND}" -E echo "${passed} ${failed}")
