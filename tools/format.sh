#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# The tree's C and C++ files follow .clang-format (Google style, 100 columns).
#
#   tools/format.sh           lists the tracked C/C++ files clang-format would change; exits 1 if any
#   tools/format.sh --fix     formats them in place
#
# Uses clang-format-14 (Debian 12's; tools/deps.sh installs it), or CLANG_FORMAT if set: another
# version formats some constructs differently, so the check pins the one CI runs.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

fix=0
case "${1:-}" in
  --fix) fix=1 ;;
  "") ;;
  *) echo "usage: tools/format.sh [--fix]" >&2; exit 2 ;;
esac

fmt=${CLANG_FORMAT:-clang-format-14}
command -v "$fmt" >/dev/null || { echo "$fmt not found (apt-get install clang-format)" >&2; exit 2; }

mapfile -t files < <(git ls-files -- '*.c' '*.cc' '*.h' | sort)
if [ "$fix" -eq 1 ]; then
  printf '%s\0' "${files[@]}" | xargs -0 -n 50 "$fmt" -i
  exit 0
fi

# One clang-format process for the whole tree; it names each file it would change in its
# "file:line:col: error: code should be clang-formatted" lines.
mapfile -t unformatted < <("$fmt" --dry-run -Werror "${files[@]}" 2>&1 |
  sed -nE 's/^([^:]+):[0-9]+:[0-9]+: error: code should be clang-formatted.*/\1/p' | sort -u)
if [ ${#unformatted[@]} -gt 0 ]; then
  echo "files clang-format would change (tools/format.sh --fix formats them):" >&2
  printf '  %s\n' "${unformatted[@]}" >&2
  exit 1
fi
echo "all ${#files[@]} C/C++ files formatted"
