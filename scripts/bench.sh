#!/bin/sh
# `make bench`: measures every figure side by side in one run and rewrites
# BENCHMARKS.md. Usage: scripts/bench.sh BINDIR (a release build of hot).
#   1     in-process call costs: Benchmarks/ExternalCalls (ordo-one/benchmark)
#   2, 6  swap latency and memory: Benchmarks/hotbench
#   3-5,7 whole processes: scripts/bench/process.sh
set -eu
bin=$(cd "$1" && pwd)
root=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d /tmp/hot-bench-all.XXXXXX)
trap 'rm -rf "$work"' EXIT INT TERM

echo "building the benchmarks package (release)" >&2
swift build -c release --package-path "$root/Benchmarks" >&2

echo "figure 1: external calls" >&2
(cd "$root/Benchmarks" && HOT_BIN="$bin" swift package --allow-writing-to-package-directory benchmark \
  --target ExternalCalls --format markdown --no-progress) > "$work/calls.md" 2>&1 || {
  cat "$work/calls.md" >&2
  exit 1
}
# The p50 of a benchmark's wall-clock row, in ns per call: each measured
# iteration makes 1,000 calls (see ExternalCalls.swift).
p50() {
  awk -v name="### $1" '
    $0 == name { found = 1; next }
    found && /^### / { exit }
    found && /Time \(wall clock\)/ {
      # The harness picks the unit per benchmark: ns, us (μs), ms or s.
      scale = 1
      if ($0 ~ /\(μs\)|\(us\)/) scale = 1000
      if ($0 ~ /\(ms\)/) scale = 1000000
      if ($0 ~ /\(s\)/) scale = 1000000000
      split($0, f, "|"); gsub(/[ ,]/, "", f[5]); printf "%.2f\n", f[5] * scale / 1000; exit
    }
  ' "$work/calls.md"
}
direct=$(p50 "direct existential call")
typed=$(p50 "typed external call")
dynamic_int=$(p50 "dynamic Term call, int in and out")
dynamic_string=$(p50 "dynamic Term call, 1 KB string in and out")

echo "figures 2 and 6: swap and memory" >&2
HOT_BIN="$bin" "$root/Benchmarks/.build/release/hotbench" 200 > "$work/swap.md"

echo "figures 3, 4, 5 and 7: whole processes" >&2
"$root/scripts/bench/process.sh" "$bin" > "$work/process.md"

{
  cat <<MD
# Benchmarks

Produced by \`make bench\` (scripts/bench.sh) on $(date -u +%Y-%m-%d): $(nproc) cores,
$(uname -m), Swift $(swiftc --version 2>&1 | sed -n 's/.*Swift version \([0-9.]*\).*/\1/p' | head -n 1), release builds. Each ratio compares two
things measured side by side in the same run; this machine is shared and noisy, so
single figures move between runs while the ratios hold better.

## External calls

\`swift package benchmark --target ExternalCalls\` in Benchmarks/ (ordo-one/benchmark): the
same function, \`x &+ 1\`, compiled with -O into a hot module loaded by a node in the
benchmark process, called through the export table, against the same function behind a
protocol existential in the benchmark binary. Medians, ns per call (each measured
iteration makes 1,000 calls).

| call | p50 (ns) | target |
| --- | --- | --- |
| direct call through a protocol existential | $direct | |
| typed external call (\`ExternalFunction\`) | $typed | |
| ratio typed / direct | $(awk "BEGIN { if ($direct > 0) printf \"%.2f\", $typed / $direct; else print \"n/a\" }") | at most 1.10 |
| dynamic Term call, int in and out | $dynamic_int | at most 100 |
| dynamic Term call, 1 KB string in and out | $dynamic_string | |

MD
  cat "$work/swap.md"
  echo
  cat "$work/process.md"
} > "$root/BENCHMARKS.md"
cat "$root/BENCHMARKS.md"
