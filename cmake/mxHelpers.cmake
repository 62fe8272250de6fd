# SPDX-License-Identifier: BSD-3-Clause
# Small helpers shared by the top-level CMakeLists.txt and tests/CMakeLists.txt.
include_guard(GLOBAL)

# mx_glob(<out-var> <pattern>... [EXCLUDE <regex>...])
# Globs relative to the source tree (CONFIGURE_DEPENDS, so new files trigger a re-configure) and
# drops every path matching one of the EXCLUDE regexes. The result is sorted.
function(mx_glob out)
  cmake_parse_arguments(PARSE_ARGV 1 arg "" "" "EXCLUDE")
  set(patterns)
  foreach(p IN LISTS arg_UNPARSED_ARGUMENTS)
    list(APPEND patterns "${PROJECT_SOURCE_DIR}/${p}")
  endforeach()
  file(GLOB_RECURSE files CONFIGURE_DEPENDS LIST_DIRECTORIES false ${patterns})
  foreach(re IN LISTS arg_EXCLUDE)
    list(FILTER files EXCLUDE REGEX "${re}")
  endforeach()
  list(SORT files)
  set(${out} "${files}" PARENT_SCOPE)
endfunction()

# mx_target_warnings(<target>): the project's warning set; -Werror when MX_WERROR is ON. With
# Clang it includes the thread-safety analysis (src/base/thread_annotations.h), so every Clang
# build checks the lock annotations.
function(mx_target_warnings target)
  target_compile_options(${target} PRIVATE
    -Wall -Wextra -Wno-unused-parameter -Wimplicit-fallthrough
    $<$<COMPILE_LANGUAGE:CXX>:-Wnon-virtual-dtor>
    "$<$<COMPILE_LANG_AND_ID:CXX,Clang>:-Wthread-safety;-Wthread-safety-beta>"
    $<$<BOOL:${MX_WERROR}>:-Werror>)
endfunction()

# mx_add_gtest(<name> [INTERNAL] LABEL <label> TIMEOUT <seconds> SOURCES <file>...)
# One gtest executable linked against the static library, the test support library (which supplies
# main()) and GoogleTest/GoogleMock. INTERNAL adds src/ to the include path (unit tests); without it
# a test sees include/ only, as an outside user would. Every test case becomes its own CTest test,
# discovered when ctest runs (so a crashing case never breaks the build).
function(mx_add_gtest name)
  cmake_parse_arguments(PARSE_ARGV 1 arg "INTERNAL" "LABEL;TIMEOUT" "SOURCES")
  add_executable(${name} ${arg_SOURCES})
  target_link_libraries(${name} PRIVATE mx_test_support mx::mx_static GTest::gmock GTest::gtest)
  if(arg_INTERNAL)
    target_link_libraries(${name} PRIVATE mx_internal)
  endif()
  mx_target_warnings(${name})
  gtest_discover_tests(${name}
    DISCOVERY_MODE PRE_TEST
    DISCOVERY_TIMEOUT 60
    PROPERTIES LABELS ${arg_LABEL} TIMEOUT ${arg_TIMEOUT})
endfunction()
