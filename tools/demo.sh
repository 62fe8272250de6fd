#!/usr/bin/env bash
# Builds the release preset's demo (examples/demo.cc) and runs it.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
source tools/deps.sh
mx_install_deps

cmake --preset release >/dev/null
cmake --build --preset release --target mx_demo
exec ./build/release/examples/mx_demo "$@"
