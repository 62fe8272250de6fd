#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# Every source file of libmx carries an SPDX license line (the project is BSD-3-Clause, see
# LICENSE).
#
#   tools/spdx.sh          lists the tracked source files without the line; exits 1 if any
#   tools/spdx.sh --fix    adds the line to them: first line, or right after a #! line
#
# Source files: C and C++ (.c .cc .h .in), CMake (CMakeLists.txt .cmake), shell (.sh and the
# extension-less scripts under .ci/), gnuplot (.gp) and the linker script (.map).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

tag="SPDX-License-Identifier: BSD-3-Clause"
fix=0
case "${1:-}" in
  --fix) fix=1 ;;
  "") ;;
  *) echo "usage: tools/spdx.sh [--fix]" >&2; exit 2 ;;
esac

comment_for() {
  case "$1" in
    *.c|*.cc|*.h|*.h.in|*.cc.in) echo "// $tag" ;;
    *.map) echo "/* $tag */" ;;
    *) echo "# $tag" ;;
  esac
}

missing=()
while IFS= read -r f; do
  [ -f "$f" ] || continue
  head -n 3 "$f" | grep -q "$tag" && continue
  missing+=("$f")
done < <(git ls-files -- '*.c' '*.cc' '*.h' '*.in' '*.cmake' '*.sh' '*.gp' '*.map' \
           'CMakeLists.txt' '*/CMakeLists.txt' '.ci/*' | sort -u)

if [ "$fix" -eq 0 ]; then
  if [ ${#missing[@]} -gt 0 ]; then
    echo "files without \"$tag\" in their first lines (tools/spdx.sh --fix adds it):" >&2
    printf '  %s\n' "${missing[@]}" >&2
    exit 1
  fi
  echo "spdx: every source file carries the license line"
  exit 0
fi

for f in "${missing[@]}"; do
  line=$(comment_for "$f")
  tmp=$(mktemp)
  if head -n 1 "$f" | grep -q '^#!'; then
    { head -n 1 "$f"; echo "$line"; tail -n +2 "$f"; } >"$tmp"
  else
    { echo "$line"; cat "$f"; } >"$tmp"
  fi
  chmod --reference="$f" "$tmp"
  mv "$tmp" "$f"
  echo "spdx: added to $f"
done
