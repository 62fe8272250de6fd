#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# Builds examples/demo.cc with nothing but a C++ compiler, cmake and make (installed from Debian
# when missing) and runs it. No tests, benchmarks or presets: the library and the one example.
# Arguments go to the demo. Build directory: build/demo.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
source tools/deps.sh
MX_DEPS=(cmake g++ make)
mx_install_deps

echo "== configure + build (Release, target mx_demo) in build/demo" >&2
cmake -S . -B build/demo -DCMAKE_BUILD_TYPE=Release -DMX_BUILD_TESTS=OFF -DMX_BUILD_BENCH=OFF \
  -DMX_BUILD_EXAMPLES=ON >/dev/null
cmake --build build/demo -j2 --target mx_demo
exec ./build/demo/examples/mx_demo "$@"
