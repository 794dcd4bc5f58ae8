#!/bin/sh
# Figure 11: a save under `hot watch`, from the write of the file to the first
# external call answered by the new code, against a bare `swiftc
# -emit-library` of the same module and against the jobs the driver would
# start (frontend, autolink-extract, link) run without it; and `hot deploy`
# one-shot against the bare swiftc. For the one-file `hello` module of
# `hot init` and a module of ten files. The sides alternate run by run, and
# so does which goes first.
#
# Usage: scripts/bench/watch.sh BINDIR
#   BINDIR: a release build folder holding hot, hotnode and watchprobe
#   (~/.cache/hot-bench/benchmarks/release after `make bench`'s build).
# Prints a Markdown section on stdout; progress on stderr. Runs: BENCH_WATCH_RUNS (15).
set -eu

if [ $# -ne 1 ]; then
  echo "usage: $0 BINDIR (a release build folder holding hot, hotnode and watchprobe)" >&2
  exit 2
fi
bin=$(cd "$1" && pwd -P)
hot="$bin/hot"
probe="$bin/watchprobe"
for exe in "$hot" "$bin/hotnode" "$probe"; do
  [ -x "$exe" ] || { echo "watch.sh: $exe is missing; build the Benchmarks package in release first" >&2; exit 2; }
done
sdk=$(dirname "$(find "$bin/" -maxdepth 2 -name Hot.swiftmodule | head -n 1)")
runs=${BENCH_WATCH_RUNS:-15}

work=$(mktemp -d /tmp/hot-watch.XXXXXX)
watch_pid=""
cleanup() {
  status=$?
  trap - EXIT INT TERM
  if [ -n "$watch_pid" ]; then kill -INT "$watch_pid" 2>/dev/null || true; wait "$watch_pid" 2>/dev/null || true; fi
  (cd "$work/w" 2>/dev/null && "$hot" stop >/dev/null 2>&1) || true
  rm -rf "$work"
  exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

started=$(date +%s)
log() { echo "watch.sh: [$(($(date +%s) - started)) s] $*" >&2; }
. "$(dirname "$0")/lib.sh"

# The module's file that changes: its greeting carries the tag $2.
greeter() {
  cat <<EOF
import Hot

let module = HotModule(exports: [
    .function("greet", greet),
])

func greet(_ name: String) -> String {
    "Hello $2, \\(name)!" + $1
}
EOF
}
# One of the nine other files of the ten-file module.
part() {
  cat <<EOF
struct Record$1: Codable, Sendable {
    var id: Int
    var names: [String]
    var scores: [Double]
}

func summary$1(_ records: [Record$1]) -> [String: Double] {
    var result: [String: Double] = [:]
    for record in records {
        for (name, score) in zip(record.names, record.scores) { result[name, default: 0] += score }
    }
    return result
}

func best$1(_ records: [Record$1], above limit: Double) -> [Int] {
    records.filter { \$0.scores.reduce(0, +) > limit }.map(\\.id).sorted()
}
EOF
}

cd "$work"
quiet "$hot" init w
cd w
mkdir -p modules/ten
for n in 1 2 3 4 5 6 7 8 9; do part "$n" >"modules/ten/part$n.swift"; done
# ten's greeting also touches the other files, so the whole module is compiled together.
tail_ten='String(summary1([]).count + best9([], above: 0).count)'
greeter '""' base >modules/hello/hello.swift
greeter "$tail_ten" base >modules/ten/ten.swift
quiet "$hot" start
socket="$work/w/.hot/node.sock"
cookie="$work/w/.hot/cookie"

# The entry file hot generates, for the bare compiles.
entry="$work/entry.swift"
printf 'import Hot\n@_cdecl("hot_module_descriptor") public func d() -> UnsafeRawPointer { let t: StaticString = "x"; return UnsafeRawPointer(t.utf8Start) }\n@_cdecl("hot_module_entry") public func e() -> UnsafeMutableRawPointer { ModuleEntry.handOff(module) }\n' >"$entry"
# bare MODULE N: the bare swiftc of a module, as hot build's flags.
bare() {
  TMPDIR="$work/jobs_tmp" swiftc -emit-library -parse-as-library -swift-version 6 -wmo -module-name "bare_$1_v$2" -I "$sdk" -Onone \
    modules/"$1"/*.swift "$entry" -o "$work/bare_$1.so"
}
# The driver's own jobs for the same compile: run once with -save-temps -v,
# which prints each job's command line and keeps the files they read (the
# supplementary output map of a many-file module, say) in its temporary
# folder, here under $work. -save-temps also makes the frontend write its
# SIL and IR beside the object; those two outputs are dropped from its line.
# Run one after another, the jobs are what the compile costs without the driver.
mkdir -p "$work/jobs_tmp"
for m in hello ten; do
  TMPDIR="$work/jobs_tmp" swiftc -save-temps -v -emit-library -parse-as-library -swift-version 6 -wmo -module-name "jobs_$m" \
    -I "$sdk" -Onone modules/"$m"/*.swift "$entry" -o "$work/jobs_$m.so" 2>&1 \
    | grep -E '^/[^ ]*/(swift-frontend|swift-autolink-extract|clang) ' \
    | sed -e 's/ -sil-output-path [^ ]*//g' -e 's/ -ir-output-path [^ ]*//g' >"$work/jobs_$m.sh" || true
  [ "$(wc -l <"$work/jobs_$m.sh")" -eq 3 ] || fail "swiftc -v did not print the three jobs for $m: $(cat "$work/jobs_$m.sh")"
done
driver_jobs() { sh -e "$work/jobs_$1.sh"; }

"$hot" watch >"$work/watch.out" 2>&1 &
watch_pid=$!
n=0
until grep -q watching "$work/watch.out"; do
  n=$((n + 1)); [ "$n" -lt 200 ] || fail "hot watch did not start: $(cat "$work/watch.out")"; sleep 0.05
done

for f in w_hello w_ten b_hello b_ten j_hello j_ten d_hello d_ten bd_hello bd_ten; do : >"$work/$f.txt"; done
# watched MODULE TAIL TAG: a save under the watch, to the first answer from the new code.
watched() {
  greeter "$2" "$3" >"$work/next.swift"
  "$probe" "$socket" "$cookie" "$1:greet" bench "modules/$1/$1.swift" "$work/next.swift" "Hello $3," >>"$work/w_$1.txt" \
    || fail "watchprobe failed for $1 $3: $(tail -n 5 "$work/watch.out")"
}
# Waits until the watch has printed COUNT swaps of MODULE (the permanent record written too).
settled() {
  n=0
  while [ "$(grep -c "^$1 v" "$work/watch.out")" -lt "$2" ]; do
    n=$((n + 1)); [ "$n" -lt 400 ] || fail "hot watch did not report swap $2 of $1"; sleep 0.01
  done
  sleep 0.05
}
log "11: hot watch, $runs runs per side and module"
swaps=0
i=0
while [ "$i" -lt "$runs" ]; do
  i=$((i + 1))
  swaps=$((swaps + 1))
  for m in hello ten; do
    tail='""'; [ "$m" = ten ] && tail=$tail_ten
    if [ $((i % 2)) -eq 1 ]; then
      watched "$m" "$tail" "w$i"; settled "$m" "$swaps"
      timed "$work/b_$m.txt" bare "$m" "$i"
      timed "$work/j_$m.txt" driver_jobs "$m"
    else
      timed "$work/j_$m.txt" driver_jobs "$m"
      timed "$work/b_$m.txt" bare "$m" "$i"
      watched "$m" "$tail" "w$i"; settled "$m" "$swaps"
    fi
  done
done
kill -INT "$watch_pid"
wait "$watch_pid" || true
watch_pid=""
# What the watch itself printed: its build and load times per swap.
watch_build() { grep "^$1 v" "$work/watch.out" | sed -n 's/.*build \([0-9]*\) ms.*/\1/p' | awk '{ print $1 / 1000 }' | median; }
watch_load() { grep "^$1 v" "$work/watch.out" | sed -n 's/.*load \([0-9]*\) ms.*/\1/p' | awk '{ print $1 / 1000 }' | median; }

log "11: hot deploy one-shot against bare swiftc"
i=0
while [ "$i" -lt "$runs" ]; do
  i=$((i + 1))
  for m in hello ten; do
    tail='""'; [ "$m" = ten ] && tail=$tail_ten
    if [ $((i % 2)) -eq 1 ]; then
      greeter "$tail" "d$i" >"modules/$m/$m.swift"; timed "$work/d_$m.txt" "$hot" deploy "$m"
      timed "$work/bd_$m.txt" bare "$m" "d$i"
    else
      timed "$work/bd_$m.txt" bare "$m" "d$i"
      greeter "$tail" "d$i" >"modules/$m/$m.swift"; timed "$work/d_$m.txt" "$hot" deploy "$m"
    fi
  done
done
answer=$("$hot" call ten:greet bench)
[ "$answer" = "\"Hello d$runs, bench!0\"" ] || fail "the node answers $answer after the last deploy"
quiet "$hot" stop

for m in hello ten; do
  eval "w_$m=\$(median <\"\$work/w_$m.txt\")"
  eval "b_$m=\$(median <\"\$work/b_$m.txt\")"
  eval "j_$m=\$(median <\"\$work/j_$m.txt\")"
  eval "d_$m=\$(median <\"\$work/d_$m.txt\")"
  eval "bd_$m=\$(median <\"\$work/bd_$m.txt\")"
  eval "wb_$m=\$(watch_build $m)"
  eval "wl_$m=\$(watch_load $m)"
done
r_wb_hello=$(ratio "$w_hello" "$b_hello"); r_wj_hello=$(ratio "$w_hello" "$j_hello"); r_d_hello=$(ratio "$d_hello" "$bd_hello")
r_wb_ten=$(ratio "$w_ten" "$b_ten"); r_wj_ten=$(ratio "$w_ten" "$j_ten"); r_d_ten=$(ratio "$d_ten" "$bd_ten")

cat <<MD
## Edit to live under \`hot watch\`

Measured by \`scripts/bench/watch.sh\` ($runs runs per side and module, medians; the sides alternate,
and so does which goes first). A project of \`hot init\` with its node running and \`hot watch\` in
the background. Each run writes a changed greeting into the module's file, in place, and
\`watchprobe\` (Benchmarks/watchprobe) times from that write to the first \`greet\` call, over one
connection, a call every millisecond, that answers with the new text. Against it: a bare swiftc of
the same sources with hot's flags, and the driver's own jobs for that compile (the commands
\`swiftc -save-temps -v\` prints: frontend, autolink-extract, link) run one after another without it. The
\`hello\` module is one file; \`ten\` is ten files, compiled together.

| module | save to first new answer, \`hot watch\` | bare \`swiftc -emit-library\` | driver's jobs alone | watch / swiftc | watch / jobs | watch's own build, load |
| --- | --- | --- | --- | --- | --- | --- |
| hello (1 file) | $(ms "$w_hello") | $(ms "$b_hello") | $(ms "$j_hello") | **$r_wb_hello** (target at most 0.6: $(meets "$r_wb_hello" 0.6)) | **$r_wj_hello** (target at most 1.15: $(meets "$r_wj_hello" 1.15)) | $(ms "$wb_hello"), $(ms "$wl_hello") |
| ten (10 files) | $(ms "$w_ten") | $(ms "$b_ten") | $(ms "$j_ten") | $r_wb_ten | $r_wj_ten | $(ms "$wb_ten"), $(ms "$wl_ten") |

\`hot deploy MODULE\` one-shot (a process: finds the project, checks git, builds, connects, stages,
loads, makes permanent), against the same bare swiftc:

| module | \`hot deploy\` | bare swiftc | ratio |
| --- | --- | --- | --- |
| hello (1 file) | $(ms "$d_hello") | $(ms "$bd_hello") | **$r_d_hello** (target at most 1.0: $(meets "$r_d_hello" 1.0)) |
| ten (10 files) | $(ms "$d_ten") | $(ms "$bd_ten") | $r_d_ten |
MD

if [ -n "${BENCH_SUMMARY:-}" ]; then
  {
    echo "watch_swiftc_ratio $r_wb_hello"
    echo "watch_jobs_ratio $r_wj_hello"
    echo "watch_seconds $w_hello"
    echo "watch_deploy_ratio $r_d_hello"
    echo "watch_ten_swiftc_ratio $r_wb_ten"
    echo "watch_ten_jobs_ratio $r_wj_ten"
    echo "watch_ten_deploy_ratio $r_d_ten"
  } >>"$BENCH_SUMMARY"
fi
