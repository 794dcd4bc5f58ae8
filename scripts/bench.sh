#!/bin/sh
# Measures the figures of BENCHMARKS.md side by side in one run and rewrites
# the file. Usage: scripts/bench.sh BINDIR (a release build of hot and hotnode).
set -eu
bin=$(cd "$1" && pwd)
root=$(cd "$(dirname "$0")/.." && pwd)
hot="$bin/hot"
runs=${BENCH_RUNS:-15}
dir=$(mktemp -d /tmp/hot-bench.XXXXXX)
cleanup() {
  (cd "$dir/app" 2>/dev/null && "$hot" stop >/dev/null 2>&1) || true
  rm -rf "$dir"
}
trap cleanup EXIT INT TERM

now() { date +%s.%N; }
median() { sort -n | awk '{ a[NR] = $1 } END { if (NR % 2) print a[(NR + 1) / 2]; else print (a[NR / 2] + a[NR / 2 + 1]) / 2 }'; }

cd "$dir"
"$hot" init app >/dev/null
cd app
"$hot" start >/dev/null
sdk=$(dirname "$(find "$bin" -maxdepth 2 -name Hot.swiftmodule | head -n 1)")
src=modules/hello/hello.swift

# Edit to live: the same one-line edit, deployed by hot, against a bare swiftc
# of the same sources, alternating so that both see the same machine load.
: > "$dir/deploy.txt"
: > "$dir/swiftc.txt"
i=0
while [ "$i" -lt "$runs" ]; do
  i=$((i + 1))
  sed -i "s/\"Hello, [^\\\\]*\\\\(name)/\"Hello $i, \\\\(name)/" "$src"
  t0=$(now); "$hot" deploy >/dev/null; t1=$(now)
  awk "BEGIN { print $t1 - $t0 }" >> "$dir/deploy.txt"
  sed -i "s/\"Hello [0-9]*, /\"Hello x$i, /" "$src"
  printf 'import Hot\n@_cdecl("hot_module_descriptor") public func d() -> UnsafeRawPointer { let t: StaticString = "x"; return UnsafeRawPointer(t.utf8Start) }\n@_cdecl("hot_module_entry") public func e() -> UnsafeMutableRawPointer { ModuleEntry.handOff(module) }\n' > "$dir/entry.swift"
  t0=$(now)
  swiftc -emit-library -parse-as-library -swift-version 6 -module-name bare_v$i -I "$sdk" -Onone "$src" "$dir/entry.swift" -o "$dir/bare$i.so"
  t1=$(now)
  awk "BEGIN { print $t1 - $t0 }" >> "$dir/swiftc.txt"
  sed -i "s/\"Hello x$i, /\"Hello $i, /" "$src"
done
deploy=$(median < "$dir/deploy.txt")
bare=$(median < "$dir/swiftc.txt")
ratio=$(awk "BEGIN { printf \"%.3f\", $deploy / $bare }")
"$hot" call hello:greet bench >/dev/null

cat > "$root/BENCHMARKS.md" <<MD
# Benchmarks

Produced by \`make bench\` (scripts/bench.sh over a release build), $(date -u +%Y-%m-%d), on
$(nproc) cores ($(uname -m)), Swift $(swiftc --version 2>&1 | sed -n 's/.*Swift version \([0-9.]*\).*/\1/p' | head -n 1).
Figures are medians of $runs runs measured side by side, alternating, in one run.

## Edit to live

A one-line change in a one-file module: \`hot deploy\` (detect, compile, ship,
swap into a running node) against a bare \`swiftc -emit-library\` of the same
sources with the same flags.

| what | median |
| --- | --- |
| \`hot deploy\` | $(printf '%.3f' "$deploy") s |
| bare \`swiftc -emit-library\` | $(printf '%.3f' "$bare") s |
| ratio | $ratio (target at most 1.15) |
MD
cat "$root/BENCHMARKS.md"
