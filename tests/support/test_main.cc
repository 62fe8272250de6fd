// SPDX-License-Identifier: BSD-3-Clause
// The main() of every test binary.
//
// `<binary> --mx-child=<name> [args...]` runs the child body registered with MX_CHILD(<name>)
// (tests/support/multiprocess.h) with the arguments after it and exits with its return value,
// without initialising gtest. Any other command line runs the gtest suite.
#include <gtest/gtest.h>
#include <string.h>

#include <string>
#include <vector>

#include "support/multiprocess.h"

int main(int argc, char** argv) {
  static constexpr char kChildFlag[] = "--mx-child=";
  for (int i = 1; i < argc; ++i) {
    if (strncmp(argv[i], kChildFlag, sizeof(kChildFlag) - 1) == 0) {
      std::vector<std::string> args(argv + i + 1, argv + argc);
      return mx_test::RunChild(argv[i] + sizeof(kChildFlag) - 1, args);
    }
  }
  testing::InitGoogleTest(&argc, argv);
  return RUN_ALL_TESTS();
}
