#!/bin/sh
# The figures `make test` counts rather than times (BENCHMARKS.md,
# "Counted figures"): instructions per typed call, dynamic call, typed async
# handle call (and the direct async call it is compared with) and swap,
# counted by callgrind, which gives the same count on a busy machine as on a
# quiet one. Each kind runs Benchmarks/callcount twice,
# at N and at 11 N, and the difference of the two whole-process counts over
# 10 N is what one costs, with none of the start-up both runs share.
# A count more than 10% over the one committed in Benchmarks/counts.txt
# fails: a change that makes a call or a swap dearer says so at its commit,
# and one that is meant to writes the new figures with --write.
# Usage: scripts/counts.sh [--write]   (HOT_BIN: the folder of the hot to build with;
# HOT_BENCH_BUILD: the Benchmarks package's build folder)
set -eu
root=$(cd "$(dirname "$0")/.." && pwd -P)
committed="$root/Benchmarks/counts.txt"
write=false
case "${1:-}" in
  --write) write=true ;;
  "") ;;
  *) echo "usage: $0 [--write] (--write records the counts measured now in Benchmarks/counts.txt)" >&2; exit 2 ;;
esac
[ -f "$committed" ] || $write || { echo "counts.sh: $committed is missing; run scripts/counts.sh --write to record it" >&2; exit 2; }

command -v valgrind >/dev/null 2>&1 || "$root/scripts/deps.sh" test
swift=${SWIFT:-swift}
# callcount is built as the benchmarks are, in release; the modules it loads
# are built by the hot of this package's own build.
# SwiftPM compiles callcount again only when a module it imports itself
# changes, not when the @inlinable code of Hot or HotNode that it inlines
# through BenchSupport does: its object is removed first, so it is.
# HOT_BENCH_BUILD: the Benchmarks package's build folder (make bench's is
# in the machine's benchmark cache).
build=${HOT_BENCH_BUILD:-$root/Benchmarks/.build}
rm -f "$build/release/callcount.build/"*.o
$swift build -c release --package-path "$root/Benchmarks" --scratch-path "$build" --product callcount >&2
# HOT_BIN: a folder holding a built hot (make bench passes its release
# build); by default this package's debug build, which make test has made.
hot_bin=${HOT_BIN:-$root/.build/debug}
if [ -z "${HOT_BIN:-}" ]; then
  # Built for the SDK callcount is built with (nothing to do after make test's build).
  $swift build --package-path "$root" --product hot >&2
elif [ ! -x "$hot_bin/hot" ]; then
  echo "counts.sh: $HOT_BIN/hot is missing; build hot there, or leave HOT_BIN unset" >&2
  exit 2
fi

work=$(mktemp -d /tmp/hot-counts.XXXXXX)
trap 'rm -rf "$work"' EXIT INT TERM
# Valgrind 3.19 cannot read the DWARF 5 the toolchain writes, and gives up
# on the binary: it counts a copy without it.
callcount="$work/callcount"
strip --strip-debug -o "$callcount" "$build/release/callcount"

# count KIND N: the instructions callgrind collects over the whole process.
count() {
  SWIFT_DETERMINISTIC_HASHING=1 HOT_BIN="$hot_bin" \
    valgrind --tool=callgrind --callgrind-out-file="$work/out.$1.$2" "$callcount" "$1" "$2" >"$work/log.$1.$2" 2>&1 || {
    cat "$work/log.$1.$2" >&2
    echo "counts.sh: callcount $1 $2 failed under valgrind" >&2
    exit 1
  }
  sed -n 's/.*Collected : \([0-9]*\).*/\1/p' "$work/log.$1.$2"
}

failed=0
measured=""
printf '| kind | N | instructions per operation | committed | ratio |\n| --- | --- | --- | --- | --- |\n'
for entry in typed:20000 dynamic:5000 directasync:5000 async:5000 swap:3; do
  kind=${entry%%:*}
  n=${entry#*:}
  small=$(count "$kind" "$n")
  large=$(count "$kind" $((n * 11)))
  each=$(awk -v a="$large" -v b="$small" -v n="$n" 'BEGIN { printf "%.1f", (a - b) / (n * 10) }')
  measured="$measured$kind $each
"
  was=$(awk -v k="$kind" '$1 == k { print $2 }' "$committed" 2>/dev/null || true)
  if [ -n "$was" ]; then
    ratio=$(awk -v a="$each" -v b="$was" 'BEGIN { printf "%.3f", a / b }')
    over=$(awk -v r="$ratio" 'BEGIN { print (r > 1.10) ? 1 : 0 }')
    [ "$over" -eq 0 ] || failed=1
  else
    ratio="new"
  fi
  printf '| %s | %s, %s | %s | %s | %s |\n' "$kind" "$n" $((n * 11)) "$each" "${was:-none}" "$ratio"
done

if $write; then
  {
    echo "# Instructions per operation, counted by scripts/counts.sh (callgrind);"
    echo "# make test fails when one grows more than 10% over its figure here."
    printf '%s' "$measured"
  } >"$committed"
  echo "counts.sh: wrote $committed" >&2
elif [ "$failed" -ne 0 ]; then
  echo "counts.sh: a counted figure grew more than 10% over Benchmarks/counts.txt: find what the change added to that path, or, if it is meant, record the new figures with scripts/counts.sh --write and say why in the commit" >&2
  exit 1
fi
