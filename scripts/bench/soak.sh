#!/bin/sh
# The load curve of figure 12 taken to 10,000 loads, by hand (make bench does
# not run it): one node takes 10,000 loads of distinct versions of one small
# module, with the same figures at 10, 500, 2,000, 5,000 and 10,000 loads;
# then filler pages take the process to just under vm.max_map_count and the
# node loads until a load fails, to show what a node does at the ceiling: the
# load's error (what the node replies), whether the current version still
# serves, and whether a load succeeds once mappings are free again.
#
# Usage: scripts/bench/soak.sh BINDIR [CHECKPOINT...]
#   BINDIR: a release build folder holding hot and hotcurve
#   (swift build -c release --package-path Benchmarks, then also
#   --product hot; Benchmarks/.build/release).
#   CHECKPOINT: load counts to measure at (10 500 2000 5000 10000).
# Writes Benchmarks/SOAK.md, which make bench copies into BENCHMARKS.md, and
# prints it. The 10,060 versions are compiled two at a time (about 0.15 s each
# on an idle 2-core machine, more on a busy one) and kept in HOTCURVE_CACHE
# (Benchmarks/.build/hotcurve-versions), which figure 12 reuses.
set -eu

if [ $# -lt 1 ]; then
  echo "usage: $0 BINDIR [CHECKPOINT...] (BINDIR: a release build folder holding hot and hotcurve)" >&2
  exit 2
fi
root=$(cd "$(dirname "$0")/../.." && pwd)
bin=$(cd "$1" && pwd -P)
shift
[ $# -gt 0 ] || set -- 10 500 2000 5000 10000
for exe in "$bin/hot" "$bin/hotcurve"; do
  [ -x "$exe" ] || { echo "soak.sh: $exe is missing; build the Benchmarks package in release first" >&2; exit 2; }
done
out=$(mktemp /tmp/hot-soak.XXXXXX)
trap 'rm -f "$out"' EXIT INT TERM

started=$(date +%s)
HOT_BIN="$bin" HOTCURVE_CACHE="${HOTCURVE_CACHE:-$root/Benchmarks/.build/hotcurve-versions}" HOTCURVE_FILL_MAPS=1 \
  "$bin/hotcurve" "$@" >"$out"
took=$(($(date +%s) - started))
{
  cat <<MD
## Soak: the load curve further, and the map ceiling

\`scripts/bench/soak.sh Benchmarks/.build/release $*\`, run by hand on $(date -u +%Y-%m-%d) ($(nproc) cores, $took s
with the builds of the versions not already cached). Its figures are figure 12's, taken further.

MD
  # The curve's own heading goes: this section is its home.
  sed '1{/^## /d}' "$out"
} >"$root/Benchmarks/SOAK.md"
cat "$root/Benchmarks/SOAK.md"
