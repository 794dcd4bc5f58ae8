#!/bin/sh
# `make bench-curve`: figures 12 and 13, the load curve and compaction
# (Benchmarks/hotcurve), which `make bench` leaves out to stay inside 15
# minutes: the curve loads 2,030 distinct versions, and compiles them again
# whenever the SDK's fingerprint changes (about 15 minutes on 2 cores; they
# are kept in Benchmarks/.build/hotcurve-versions). It writes
# Benchmarks/CURVE.md and Benchmarks/curve-summary.txt, which `make bench`
# copies into BENCHMARKS.md with the date they were measured.
# Usage: scripts/bench/curve.sh
set -eu
root=$(cd "$(dirname "$0")/../.." && pwd -P)
work=$(mktemp -d /tmp/hot-bench-curve.XXXXXX)
trap 'rm -rf "$work"' EXIT INT TERM
started=$(date +%s)

echo "building hot, hotnode and hotcurve (release)" >&2
# As in scripts/bench.sh: compiled again, so no figure is of stale inlined code.
rm -f "$root/Benchmarks/.build/release/hotcurve.build/"*.o
for product in hot hotnode hotcurve; do
  swift build -c release --package-path "$root/Benchmarks" --product "$product" >&2
done
bin="$root/Benchmarks/.build/release"
cache="$root/Benchmarks/.build/hotcurve-versions"

echo "figure 12: the load curve" >&2
HOT_BIN="$bin" HOTBENCH_SUMMARY="$work/summary" HOTCURVE_CACHE="$cache" "$bin/hotcurve" 10 500 2000 > "$work/curve.md"
echo "figure 13: compaction" >&2
HOT_BIN="$bin" HOTBENCH_SUMMARY="$work/summary" HOTCURVE_CACHE="$cache" "$bin/hotcurve" --compaction 2000 > "$work/compaction.md"

{
  echo "Measured by \`make bench-curve\` (scripts/bench/curve.sh) on $(date -u +%Y-%m-%d), in $(($(date +%s) - started)) s."
  echo
  cat "$work/curve.md"
  echo
  cat "$work/compaction.md"
} > "$root/Benchmarks/CURVE.md"
{
  echo "# Figures 12 and 13 for scripts/bench.sh's table, by scripts/bench/curve.sh on $(date -u +%Y-%m-%d)."
  grep -E '^(curve|compact)_' "$work/summary"
} > "$root/Benchmarks/curve-summary.txt"
cat "$root/Benchmarks/CURVE.md"
