#!/bin/sh
# Whole-process benchmark figures: edit to live (split into detect, compile,
# ship and swap), change detection in a 20,000-file repository, a fleet deploy
# to 1, 8 and 32 local nodes, and a cold build of 50 modules. Each figure runs
# the two sides it compares alternately, run by run, so both see the same
# machine load, and reports medians.
#
# Usage: scripts/bench/process.sh BINDIR
#   BINDIR: a release build folder holding hot and hotnode (and Modules/Hot.swiftmodule),
#   e.g. .build/release after `swift build -c release`.
# Prints Markdown sections on stdout (the caller appends them to BENCHMARKS.md);
# progress goes to stderr. Run counts: BENCH_EDIT_RUNS (15), BENCH_DETECT_RUNS (10),
# BENCH_FLEET_RUNS (5), BENCH_COLD_RUNS (3, fewer when a pair would end past
# BENCH_COLD_BUDGET seconds, 270), BENCH_NOOP_RUNS (10).
# Needs git, swift and swiftc on PATH (the benchmark uses git; hot never does).
set -eu

if [ $# -ne 1 ]; then
  echo "usage: $0 BINDIR (a release build folder holding hot and hotnode)" >&2
  exit 2
fi
# -P: .build/release is a symbolic link, which find would not enter.
bin=$(cd "$1" && pwd -P)
hot="$bin/hot"
if [ ! -x "$hot" ] || [ ! -x "$bin/hotnode" ]; then
  echo "process.sh: $bin lacks hot or hotnode; run swift build -c release first" >&2
  exit 2
fi
sdk=$(dirname "$(find "$bin/" -maxdepth 2 -name Hot.swiftmodule | head -n 1)")
if [ ! -e "$sdk/Hot.swiftmodule" ]; then
  echo "process.sh: no Hot.swiftmodule in $bin or $bin/Modules" >&2
  exit 2
fi

edit_runs=${BENCH_EDIT_RUNS:-15}
detect_runs=${BENCH_DETECT_RUNS:-10}
fleet_runs=${BENCH_FLEET_RUNS:-5}
cold_runs=${BENCH_COLD_RUNS:-3}
noop_runs=${BENCH_NOOP_RUNS:-10}

work=$(mktemp -d /tmp/hot-process.XXXXXX)

# Every node this script started has a pid file under $work; hotnode stops
# cleanly on SIGTERM and removes its pid file.
stop_nodes() {
  pids=""
  for pidfile in "$work"/*/.hot/node.pid "$work"/*/.hot/nodes/*/node.pid; do
    [ -f "$pidfile" ] || continue
    pid=$(cat "$pidfile" 2>/dev/null || true)
    case $pid in '' | *[!0-9]*) continue ;; esac
    if grep -q hotnode "/proc/$pid/cmdline" 2>/dev/null; then
      kill -TERM "$pid" 2>/dev/null || true
      pids="$pids $pid"
    fi
  done
  for pid in $pids; do
    n=0
    while kill -0 "$pid" 2>/dev/null && [ "$n" -lt 50 ]; do sleep 0.1; n=$((n + 1)); done
    kill -KILL "$pid" 2>/dev/null || true
  done
}
cleanup() {
  status=$?
  trap - EXIT INT TERM
  stop_nodes
  rm -rf "$work"
  # SwiftPM leaves lock files named after the package folder in the temporary folder.
  locks=$(printf '%s' "$work" | tr / _)
  rm -f "/tmp/${locks}_"* "${TMPDIR:-/tmp}/${locks}_"*
  exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

started=$(date +%s)
log() { echo "process.sh: [$(($(date +%s) - started)) s] $*" >&2; }
. "$(dirname "$0")/lib.sh"

# pairdiff A B: the run-by-run differences A - B of two timing files.
pairdiff() { paste "$1" "$2" | awk '{ printf "%.6f\n", $1 - $2 }'; }

# The 50 modules of figures 4 (no-op build) and 7: one file each, with a few
# Codable types and functions; the lines between `let module = HotModule(`
# and `])` are the only hot-specific ones besides `import Hot`.
cold_module() {
  cat <<EOF
import Hot

let module = HotModule(exports: [
    .function("greet", greet),
    .function("total", total),
    .function("summary", summary),
    .function("cheapest", cheapest),
])

struct Order: Codable, Sendable {
    var id: Int
    var items: [String]
    var prices: [Int]
}

func greet(_ name: String) -> String {
    "Hello \\(name), from $1"
}

func total(_ order: Order) -> Int {
    order.prices.reduce(0, +)
}

func summary(_ orders: [Order]) -> [String: Int] {
    var result: [String: Int] = [:]
    for order in orders {
        for (item, price) in zip(order.items, order.prices) { result[item, default: 0] += price }
    }
    return result
}

func cheapest(_ orders: [Order], _ limit: Int) -> [Int] {
    orders.filter { total(\$0) <= limit }.map(\\.id).sorted()
}
EOF
}

cores=$(nproc)
swift_version=$(swiftc --version 2>&1 | sed -n 's/.*Swift version \([0-9.]*\).*/\1/p' | head -n 1)

# ---------------------------------------------------------------------------
# 3. Edit to live, split into detect, compile, ship + swap.
# ---------------------------------------------------------------------------
log "3: edit to live ($edit_runs runs)"
cd "$work"
quiet "$hot" init edit
cd edit
quiet "$hot" start
src=modules/hello/hello.swift
entry="$work/entry.swift"
printf 'import Hot\n@_cdecl("hot_module_descriptor") public func d() -> UnsafeRawPointer { let t: StaticString = "x"; return UnsafeRawPointer(t.utf8Start) }\n@_cdecl("hot_module_entry") public func e() -> UnsafeMutableRawPointer { ModuleEntry.handOff(module) }\n' >"$entry"
for f in deploy swiftc detect build shipped; do : >"$work/$f.txt"; done
hot_side() {
  hello_module "d$1" >"$src"
  timed "$work/deploy.txt" "$hot" deploy
}
bare_side() {
  hello_module "s$1" >"$src"
  timed "$work/swiftc.txt" swiftc -emit-library -parse-as-library -swift-version 6 -wmo -module-name "bare_v$1" \
    -I "$sdk" -Onone "$src" "$entry" -o "$work/bare$1.so"
}
i=0
while [ "$i" -lt "$edit_runs" ]; do
  i=$((i + 1))
  # The two compared sides alternate, and so does which of them goes first.
  if [ $((i % 2)) -eq 1 ]; then hot_side "$i"; bare_side "$i"; else bare_side "$i"; hot_side "$i"; fi
  # The parts, on a further one-line change: detect, build, then ship + swap
  # of the version just built.
  hello_module "p$i" >"$src"
  timed "$work/detect.txt" "$hot" changed
  grep -q '^modified *hello' "$work/out" || fail "hot changed did not report hello as modified: $(cat "$work/out")"
  timed "$work/build.txt" "$hot" build
  timed "$work/shipped.txt" "$hot" deploy
done
greeting=$("$hot" call hello:greet bench)
[ "$greeting" = "\"Hello p$edit_runs, bench!\"" ] || fail "the node answers $greeting after the last deploy"
pairdiff "$work/build.txt" "$work/detect.txt" >"$work/compile.txt"
pairdiff "$work/shipped.txt" "$work/detect.txt" >"$work/swap.txt"
e_deploy=$(median <"$work/deploy.txt")
e_bare=$(median <"$work/swiftc.txt")
e_detect=$(median <"$work/detect.txt")
e_build=$(median <"$work/build.txt")
e_shipped=$(median <"$work/shipped.txt")
e_compile=$(median <"$work/compile.txt")
e_swap=$(median <"$work/swap.txt")
e_ratio=$(ratio "$e_deploy" "$e_bare")
e_sum=$(awk -v a="$e_detect" -v b="$e_compile" -v c="$e_swap" 'BEGIN { print a + b + c }')
e_overhead=$(awk -v a="$e_deploy" -v b="$e_bare" 'BEGIN { print a - b }')
quiet "$hot" stop

cat >"$work/fig3.md" <<MD
## Edit to live, split

Measured by \`scripts/bench/process.sh\` on $(date -u +%Y-%m-%d), $cores cores ($(uname -m)), Swift $swift_version,
release build of hot; medians of runs measured side by side, alternating (and alternating which side goes first).

A one-line change in the one-file module of \`hot init\` (\`modules/hello/hello.swift\`), with the
project's node running. Edit to live is \`hot deploy\` (detect, compile, ship, swap); the baseline
is a bare swiftc of the same sources with the same flags ($edit_runs runs each):

\`\`\`sh
hot deploy
swiftc -emit-library -parse-as-library -swift-version 6 -wmo -module-name bare_vN -I BINDIR/Modules -Onone \\
  modules/hello/hello.swift entry.swift -o bare.so     # entry.swift: the same two @_cdecl entry points hot generates
\`\`\`

\`hot deploy\` prints no timings, so the parts are measured from outside, on a further one-line
change each run: \`hot changed\` (detect), then \`hot build\` (detect + compile), then \`hot deploy\`
of the version just built (detect + ship + swap). Parts are medians of the run-by-run differences.

| what | command | median |
| --- | --- | --- |
| edit to live | \`hot deploy\` | $(sec "$e_deploy") |
| bare compile | \`swiftc -emit-library ...\` | $(sec "$e_bare") |
| **ratio** | | **$e_ratio** (target at most 1.15: $(meets "$e_ratio" 1.15)); under 0.4 s: $(meets "$e_deploy" 0.4) |
| hot's overhead over swiftc | \`hot deploy\` − swiftc | $(ms "$e_overhead") |
| detect | \`hot changed\` | $(ms "$e_detect") |
| compile | \`hot build\` − detect | $(ms "$e_compile") |
| ship + swap | \`hot deploy\` (already built) − detect | $(ms "$e_swap") |
| sum of the parts | | $(sec "$e_sum") |
| raw: build | \`hot build\` | $(sec "$e_build") |
| raw: deploy of a built version | \`hot deploy\` | $(sec "$e_shipped") |
MD

# ---------------------------------------------------------------------------
# 7 (and 4's no-op build). Cold build of 50 modules: hot build against swift
# build of the same sources as 50 .dynamic library targets.
# ---------------------------------------------------------------------------
log "7: cold build of 50 modules ($cold_runs runs each)"
mkdir -p "$work/cold/modules" "$work/coldpkg/Sources"
cd "$work/cold"
printf '{\n  "name": "cold",\n  "modules": "modules",\n  "include": [],\n  "sticky": [],\n  "swiftcFlags": [],\n  "nodes": {}\n}\n' >hot.json
printf '.hot/\n' >.gitignore
m=0
while [ "$m" -lt 50 ]; do
  name=$(printf 'c%02d' "$m")
  mkdir -p "modules/$name" "$work/coldpkg/Sources/$name"
  cold_module "$name" >"modules/$name/$name.swift"
  # The same function bodies, without `import Hot` and the `let module = HotModule(...)` block.
  sed '/^import Hot$/d; /^let module = HotModule(/,/^])$/d' "modules/$name/$name.swift" >"$work/coldpkg/Sources/$name/$name.swift"
  m=$((m + 1))
done
git init -q . && git add -A && git_commit -m "50 modules"
cat >"$work/coldpkg/Package.swift" <<'EOF'
// swift-tools-version:6.0
import PackageDescription

let names = (0..<50).map { $0 < 10 ? "c0\($0)" : "c\($0)" }
let package = Package(
    name: "Cold",
    products: names.map { .library(name: $0, type: .dynamic, targets: [$0]) },
    targets: names.map { .target(name: $0) }
)
EOF
for f in coldhot coldswift noophot noopswift; do : >"$work/$f.txt"; done
cold_hot() {
  cd "$work/cold" && rm -rf .hot
  timed "$work/coldhot.txt" "$hot" build
  [ "$(find .hot/build -name '*.so' | wc -l)" -eq 50 ] || fail "hot build did not make 50 objects"
}
cold_swift() {
  cd "$work/coldpkg" && rm -rf .build
  timed "$work/coldswift.txt" swift build -c debug
  [ "$(find .build/debug/ -maxdepth 1 -name 'lib*.so' | wc -l)" -eq 50 ] || fail "swift build did not make 50 libraries"
}
# On a loaded machine a pair of cold builds can take minutes: no further pair
# starts when it would likely end past BENCH_COLD_BUDGET seconds for this figure.
cold_budget=${BENCH_COLD_BUDGET:-270}
cold_start=$(date +%s)
i=0
while [ "$i" -lt "$cold_runs" ]; do
  i=$((i + 1))
  if [ $((i % 2)) -eq 1 ]; then cold_hot; cold_swift; else cold_swift; cold_hot; fi
  spent=$(($(date +%s) - cold_start))
  if [ "$i" -lt "$cold_runs" ] && [ $((spent + spent / i)) -gt "$cold_budget" ]; then
    log "7: stopping after $i runs each ($spent s spent, budget $cold_budget s)"
    break
  fi
done
cold_runs=$i
# No-op rebuilds of the same 50 modules, both sides built by the runs above.
log "4: no-op build of 50 modules ($noop_runs runs each)"
i=0
while [ "$i" -lt "$noop_runs" ]; do
  i=$((i + 1))
  cd "$work/cold" && timed "$work/noophot.txt" "$hot" build
  cd "$work/coldpkg" && timed "$work/noopswift.txt" swift build -c debug
done
c_hot=$(median <"$work/coldhot.txt")
c_swift=$(median <"$work/coldswift.txt")
c_ratio=$(ratio "$c_hot" "$c_swift")
n_hot=$(median <"$work/noophot.txt")
n_swift=$(median <"$work/noopswift.txt")

cat >"$work/fig7.md" <<MD
## Cold build of 50 modules

50 one-file modules (four exports and a Codable struct each). \`hot build\` of the project with
\`.hot\` removed before each run, against \`swift build\` of the same 50 sources as 50 \`.dynamic\`
library products of one package without dependencies (each file without \`import Hot\` and its
\`let module = HotModule(...)\` block), \`.build\` removed before each run. Both debug (\`-Onone\`),
both with their default parallelism ($cores jobs). Medians of $cold_runs runs each, alternating.

\`\`\`sh
rm -rf .hot && hot build
rm -rf .build && swift build -c debug
\`\`\`

| what | command | median |
| --- | --- | --- |
| hot, cold | \`hot build\` | $(sec "$c_hot") |
| SwiftPM, cold | \`swift build -c debug\` | $(sec "$c_swift") |
| **ratio** | | **$c_ratio** (target at most 1.0: $(meets "$c_ratio" 1.0)) |
MD

# ---------------------------------------------------------------------------
# 4. Change detection in 20,000 files of 200 modules.
# ---------------------------------------------------------------------------
log "4: change detection, generating 20,000 files"
mkdir -p "$work/big"
cd "$work/big"
printf '{\n  "name": "big",\n  "modules": "modules",\n  "include": [],\n  "sticky": [],\n  "swiftcFlags": [],\n  "nodes": {}\n}\n' >hot.json
printf '.hot/\n' >.gitignore
awk 'BEGIN {
  for (m = 0; m < 200; m++) {
    dir = sprintf("modules/m%03d", m)
    system("mkdir -p " dir)
    for (f = 0; f < 100; f++) {
      path = sprintf("%s/f%03d.swift", dir, f)
      if (f == 0) printf "import Hot\n\nlet module = HotModule(exports: [\n    .function(\"f%03d\", m%03d_f%03d),\n])\n\n", f, m, f > path
      printf "func m%03d_f%03d(_ x: Int) -> Int {\n    x * %d + %d\n}\n", m, f, m + 1, f > path
      close(path)
    }
  }
}'
[ "$(find modules -name '*.swift' | wc -l)" -eq 20000 ] || fail "expected 20,000 files"
git init -q . && git add -A && git_commit -m "200 modules of 100 files"
# A second commit, so that REV (HEAD~1) differs from HEAD too.
echo '// changed in the second commit' >>modules/m010/f010.swift
echo '// changed in the second commit' >>modules/m020/f020.swift
git add -A && git_commit -m "two files changed"
# The edits: three files modified, one untracked file added.
echo '// edited' >>modules/m050/f001.swift
echo '// edited' >>modules/m100/f002.swift
echo '// edited' >>modules/m150/f003.swift
printf 'func extra() -> Int { 1 }\n' >modules/m199/extra.swift
rev=HEAD~1
gitcmd="git status --porcelain; git diff --name-only $rev"
# Warm the page cache and let git refresh the index's stat data, so neither
# side pays for the files having just been written.
sleep 1
quiet git status --porcelain
quiet "$hot" changed --since "$rev"
hot_side() { timed "$work/hotsince.txt" "$hot" changed --since "$rev"; }
git_side() { timed "$work/gitsince.txt" sh -c "$gitcmd"; }
: >"$work/hotsince.txt"
: >"$work/gitsince.txt"
i=0
while [ "$i" -lt "$detect_runs" ]; do
  i=$((i + 1))
  case $((i % 2)) in
    1) hot_side; git_side ;;
    0) git_side; hot_side ;;
  esac
done
hot_modules=$("$hot" changed --since "$rev" | grep -c '^[a-z]')
git_files=$(sh -c "$gitcmd" | sed 's/^.. //' | sort -u | wc -l)
[ "$hot_modules" -eq 6 ] || fail "hot changed --since $rev reports $hot_modules modules, expected 6"
# Without --since and without any build, every module is new: hot hashes all 20,000 files.
: >"$work/hotnosince.txt"
i=0
while [ "$i" -lt 3 ]; do
  i=$((i + 1))
  timed "$work/hotnosince.txt" "$hot" changed
done
d_hot=$(median <"$work/hotsince.txt")
d_git=$(median <"$work/gitsince.txt")
d_ratio=$(ratio "$d_hot" "$d_git")
d_nosince=$(median <"$work/hotnosince.txt")

cat >"$work/fig4.md" <<MD
## Change detection

A git repository of a hot project with 20,000 files in 200 modules (\`modules/m000\` ..
\`modules/m199\`, 100 small \`.swift\` files each) and two commits; then three files modified and one
untracked file added. \`hot changed --since $rev\` (libgit2, no git process) against git itself
doing the same work in one shell line; medians of $detect_runs runs each, alternating which goes first. All see the
same changes: hot reports $hot_modules modules, git lists $git_files files.

\`\`\`sh
hot changed --since $rev
sh -c '$gitcmd'
\`\`\`

| what | command | median |
| --- | --- | --- |
| hot | \`hot changed --since $rev\` | $(ms "$d_hot") |
| git | \`sh -c '$gitcmd'\` | $(ms "$d_git") |
| **ratio** | | **$d_ratio** (target at most 0.8: $(meets "$d_ratio" 0.8)) |
| hot without \`--since\`, no builds yet (hashes all 20,000 files; median of 3) | \`hot changed\` | $(ms "$d_nosince") |

A no-op \`hot build\` of the 50-module project of the cold-build figure, built once (median of
$noop_runs, alternating with a no-op \`swift build -c debug\` of the same sources as a package, for scale):

| what | command | median |
| --- | --- | --- |
| no-op build, 50 modules | \`hot build\` | $(ms "$n_hot") |
| no-op SwiftPM build, same 50 targets | \`swift build -c debug\` | $(ms "$n_swift") |
MD
cd "$work" && rm -rf big

# ---------------------------------------------------------------------------
# 5. Fleet: one small module deployed to 1, 8 and 32 local nodes.
# ---------------------------------------------------------------------------
log "5: fleet, starting 32 local nodes"
cd "$work"
quiet "$hot" init fleet
cd fleet
fleet=$(pwd)
t0=$(now)
quiet "$hot" start
n=1
while [ "$n" -lt 32 ]; do
  quiet "$hot" start --node "$(printf 'n%02d' "$n")"
  n=$((n + 1))
done
t1=$(now)
start_time=$(awk -v a="$t0" -v b="$t1" 'BEGIN { print b - a }')
# nodes1.json: the default node; nodes8.json and nodes32.json add n01.. .
for size in 1 8 32; do
  {
    printf '{"nodes": {"fleet": "unix:%s/.hot/node.sock"' "$fleet"
    n=1
    while [ "$n" -lt "$size" ]; do
      printf ', "n%02d": "unix:%s/.hot/nodes/n%02d/node.sock"' "$n" "$fleet" "$n"
      n=$((n + 1))
    done
    printf '}}\n'
  } >"$work/nodes$size.json"
  : >"$work/fleet$size.txt"
done
# CPU seconds (user and system, their reaped trial children included) of
# the nodes of the first $1, from /proc; and of this shell's children (the
# hot commands it ran).
ticks=$(getconf CLK_TCK)
nodes_cpu() {
  for pidfile in "$fleet/.hot/node.pid" "$fleet"/.hot/nodes/n*/node.pid; do
    cat "/proc/$(cat "$pidfile")/stat"
  done | head -n "$1" | awk -v hz="$ticks" '{ s += $14 + $15 + $16 + $17 } END { printf "%.2f\n", s / hz }'
}
: >"$work/fleet_cpu1.txt"
: >"$work/fleet_cpu32.txt"
log "5: fleet deploys ($fleet_runs runs per size)"
i=0
while [ "$i" -lt "$fleet_runs" ]; do
  i=$((i + 1))
  # Rotate which size goes first, so every size sees every position.
  case $((i % 3)) in
    1) order="1 8 32" ;;
    2) order="8 32 1" ;;
    0) order="32 1 8" ;;
  esac
  for size in $order; do
    hello_module "f$i-$size" >modules/hello/hello.swift
    nodes0=$(nodes_cpu "$size"); times >"$work/times"; shell0=$(children_cpu "$work/times")
    timed "$work/fleet$size.txt" "$hot" deploy --nodes "$work/nodes$size.json"
    times >"$work/times"; shell1=$(children_cpu "$work/times"); nodes1=$(nodes_cpu "$size")
    [ "$size" = 8 ] || echo "$nodes0 $nodes1 $shell0 $shell1" | awk '{ print $2 - $1, $4 - $3 }' >>"$work/fleet_cpu$size.txt"
  done
done
# The nodes only the 32-node deploys reach answer with the last one's change.
n=8
while [ "$n" -lt 32 ]; do
  node=$(printf 'n%02d' "$n")
  answer=$("$hot" call hello:greet x --node "$node")
  [ "$answer" = "\"Hello f$fleet_runs-32, x!\"" ] || fail "node $node answers $answer after the fleet deploys"
  n=$((n + 1))
done
f1=$(median <"$work/fleet1.txt")
f8=$(median <"$work/fleet8.txt")
f32=$(median <"$work/fleet32.txt")
f_ratio=$(ratio "$f32" "$f1")
f_per=$(awk -v a="$f32" -v b="$f1" 'BEGIN { print (a - b) / 31 }')
# Medians of the CPU a deploy took in the nodes and in hot (its compile included).
cores=$(nproc)
c1_nodes=$(awk '{ print $1 }' "$work/fleet_cpu1.txt" | median); c1_hot=$(awk '{ print $2 }' "$work/fleet_cpu1.txt" | median)
c32_nodes=$(awk '{ print $1 }' "$work/fleet_cpu32.txt" | median); c32_hot=$(awk '{ print $2 }' "$work/fleet_cpu32.txt" | median)
# The 32-node deploy's wall time can be no less than its CPU over the cores.
f_floor=$(awk -v a="$c32_nodes" -v b="$c32_hot" -v c="$cores" 'BEGIN { printf "%.3f", (a + b) / c }')
f_floor_ratio=$(ratio "$f_floor" "$f1")
stop_nodes

cat >"$work/fig5.md" <<MD
## Fleet deploy

One small module (the \`hello\` module of \`hot init\`) on 32 local nodes of one project:
\`hot start\` for the default node and \`hot start --node n01\` .. \`--node n31\` for the others
(starting all 32 took $(sec "$start_time")). Each measurement deploys a fresh one-line change, so it
includes one compile, to the first 1, 8 or 32 nodes of a nodes file; medians of $fleet_runs runs per
size, the sizes rotating order run by run.

\`\`\`sh
hot deploy --nodes nodes1.json     # {"nodes": {"fleet": "unix:/abs/.hot/node.sock"}}
hot deploy --nodes nodes8.json     # ... plus "n01": "unix:/abs/.hot/nodes/n01/node.sock" .. n07
hot deploy --nodes nodes32.json    # ... .. n31
\`\`\`

| nodes | command | median |
| --- | --- | --- |
| 1 | \`hot deploy --nodes nodes1.json\` | $(sec "$f1") |
| 8 | \`hot deploy --nodes nodes8.json\` | $(sec "$f8") |
| 32 | \`hot deploy --nodes nodes32.json\` | $(sec "$f32") |
| **ratio 32/1** | | **$f_ratio** (target at most 2: $(meets "$f_ratio" 2)) |
| cost per further node | (32 − 1) / 31 | $(ms "$f_per") |

Where the cores went (medians, CPU seconds from /proc, user and system, trial children
included): a 1-node deploy took $(sec "$c1_nodes") in the node and $(sec "$c1_hot") in \`hot\` (its
compile included); a 32-node deploy $(sec "$c32_nodes") in the nodes and $(sec "$c32_hot") in \`hot\`. On
$cores cores that CPU alone needs $(sec "$f_floor") of wall time, **$f_floor_ratio** times the 1-node deploy:
all 32 nodes share this one machine's cores, where a fleet's nodes each have their own.
MD

# The figures the targets table of BENCHMARKS.md is made from, one
# "key value" per line, for scripts/bench.sh.
if [ -n "${BENCH_SUMMARY:-}" ]; then
  {
    echo "edit_ratio $e_ratio"
    echo "edit_seconds $e_deploy"
    echo "bare_seconds $e_bare"
    echo "detect_ratio $d_ratio"
    echo "noop_ms $(awk -v x="$n_hot" 'BEGIN { printf "%.0f", x * 1000 }')"
    echo "fleet_ratio $f_ratio"
    echo "fleet_cpu_floor_ratio $f_floor_ratio"
    echo "cold_ratio $c_ratio"
  } >>"$BENCH_SUMMARY"
fi

cat "$work/fig3.md"
echo
cat "$work/fig4.md"
echo
cat "$work/fig5.md"
echo
cat "$work/fig7.md"
log "done"
