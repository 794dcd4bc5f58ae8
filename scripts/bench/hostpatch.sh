#!/bin/sh
# Figure 15: the host's own code under `hot watch` (docs/RELOADING.md,
# "Patching the host's own code"), on the app of `hot init --template
# hummingbird` grown to 100 source files, built in debug:
#   a. save to first new answer for a one-function edit (hostGreeting(),
#      what GET /host answers): from the write of the file to the first
#      GET /host that answers the new text, against a bare swiftc compiling
#      that one file against the same host modules; the sides alternate.
#   b. what the `patchable` setting costs a debug build: the rebuild of the
#      app's own targets after every source of them is touched, and the p50
#      of GET /host (code of the app itself) under wrk, with the setting and
#      without it, alternating.
#
# Usage: scripts/bench/hostpatch.sh BINDIR
#   BINDIR: a release build folder holding hot (and hotnode).
# Prints a Markdown section on stdout; progress on stderr.
# Runs: BENCH_PATCH_RUNS (10) saves per side, BENCH_PATCH_ROUNDS (2) rounds of b.
set -eu

if [ $# -ne 1 ]; then
  echo "usage: $0 BINDIR (a release build folder holding hot)" >&2
  exit 2
fi
bin=$(cd "$1" && pwd -P)
root=$(cd "$(dirname "$0")/../.." && pwd -P)
hot="$bin/hot"
[ -x "$hot" ] || { echo "hostpatch.sh: $hot is missing; build hot in release first" >&2; exit 2; }
runs=${BENCH_PATCH_RUNS:-10}
rounds=${BENCH_PATCH_ROUNDS:-2}

work=$(mktemp -d /tmp/hot-bench-patch.XXXXXX)
app_pid=""
watch_pid=""
cleanup() {
  status=$?
  trap - EXIT INT TERM
  [ -z "$watch_pid" ] || { kill -INT "$watch_pid" 2>/dev/null; wait "$watch_pid" 2>/dev/null || true; }
  [ -z "$app_pid" ] || { kill "$app_pid" 2>/dev/null; wait "$app_pid" 2>/dev/null || true; }
  rm -rf "$work"
  exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

started=$(date +%s)
log() { echo "hostpatch.sh: [$(($(date +%s) - started)) s] $*" >&2; }
. "$(dirname "$0")/lib.sh"

command -v wrk >/dev/null 2>&1 || {
  log "installing wrk"
  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk) >&2
}
command -v curl >/dev/null 2>&1 || (DEBIAN_FRONTEND=noninteractive apt-get install -y -qq curl) >&2

# The app at the cache's fixed path, beside its release build (server.sh):
# Hummingbird's packages are built in debug once on a machine.
cached_app hummingbird
cd "$app"
# 96 more files of the app's own code: models with methods and computed
# properties, as an app of some size has. The template has 4.
i=1
while [ "$i" -le 96 ]; do
  cat >"Sources/App/Model$i.swift" <<EOF
struct Model$i: Sendable {
    var id: Int
    var name: String
    var scores: [Double]

    var total: Double { scores.reduce(0, +) }

    func summary() -> String { "\(name) #\(id): \(total)" }

    func ranked(against others: [Model$i]) -> Int {
        others.filter { \$0.total > total }.count + 1
    }

    static func sample() -> Model$i { Model$i(id: $i, name: "m$i", scores: [1, 2, 3]) }
}
EOF
  i=$((i + 1))
done
[ "$(find Sources -name '*.swift' | wc -l)" -eq 100 ] || fail "the app has $(find Sources -name '*.swift' | wc -l) source files, not 100"
git init -q && git add -A && git_commit -m app

log "building the app in debug (Hot and 100 files of its own; Hummingbird and its packages unless the cache has them)"
TMPDIR="$work" swift build --product Server >&2

port=$((20000 + $$ % 20000))
start_app() {
  PORT=$port ./.build/debug/Server >"$work/app.log" 2>&1 &
  app_pid=$!
  for _ in $(seq 1 600); do
    curl -sf "http://127.0.0.1:$port/health" >/dev/null 2>&1 && return 0
    sleep 0.1
  done
  cat "$work/app.log" >&2
  fail "the app did not come up"
}
stop_app() { kill "$app_pid" 2>/dev/null; wait "$app_pid" 2>/dev/null || true; app_pid=""; }
start_app

greeting=Sources/App/HostGreeting.swift
# The file in two shapes: "plain", hostGreeting() alone, importing nothing;
# "imports", a handler file as an app has them, importing Hummingbird and
# the app's Shared and using their types.
style=plain
# set_greeting TAG [FILE]: hostGreeting() answers with TAG (in the app's file,
# or in FILE, a copy outside the app that the watch does not see).
set_greeting() {
  file=${2:-$greeting}
  if [ "$style" = imports ]; then
    printf 'import Hummingbird\nimport Shared\n\nfunc hostGreeting() -> String {\n    "Hello %s from the app"\n}\n\nfunc hostGreetingResponse(_ request: Request, context: AppContext) -> Greeting {\n    Greeting(message: hostGreeting(), release: 0)\n}\n' "$1" >"$file.tmp"
  else
    printf 'func hostGreeting() -> String {\n    "Hello %s from the app"\n}\n' "$1" >"$file.tmp"
  fi
  mv "$file.tmp" "$file"
}
"$hot" watch >"$work/watch.out" 2>&1 &
watch_pid=$!
n=0
until grep -q "watching the host's own code" "$work/watch.out"; do
  n=$((n + 1)); [ "$n" -lt 600 ] || fail "hot watch did not watch the host: $(cat "$work/watch.out")"; sleep 0.05
done
# watched TAG: a save under the watch, to the first GET /host with TAG.
watched() {
  t0=$(now)
  set_greeting "$1"
  n=0
  until curl -s "http://127.0.0.1:$port/host" | grep -q "Hello $1 from"; do
    n=$((n + 1)); [ "$n" -lt 20000 ] || fail "GET /host never answered $1: $(tail -n 5 "$work/watch.out")"
  done
  t1=$(now)
  awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.6f\n", b - a }' >>"$work/w_$style.txt"
}
# Waits until the watch printed COUNT patches.
settled() {
  n=0
  while [ "$(grep -c ' patched  build ' "$work/watch.out")" -lt "$1" ]; do
    n=$((n + 1)); [ "$n" -lt 2000 ] || fail "hot watch did not report patch $1: $(tail -n 5 "$work/watch.out")"; sleep 0.01
  done
  sleep 0.05
}
# The one file, compiled alone against the modules the patch compiles
# against (and the flags that let it see their C modules, which hot passes too).
clang_flags=$(python3 -c 'import json; print(" ".join(json.load(open(".hot/host/build.json"))["clangFlags"]))')
bare() {
  set_greeting "$1" "$work/HostGreeting.swift"
  # shellcheck disable=SC2086
  TMPDIR="$work" swiftc -emit-library -parse-as-library -swift-version 6 -module-name "bare_$1" -I .hot/host/Modules $clang_flags -Onone \
    "$work/HostGreeting.swift" -o "$work/bare.so"
}
patches=0
# side_by_side STYLE: the saves of one shape of the file, against its bare compile.
side_by_side() {
  style=$1
  : >"$work/w_$style.txt"
  : >"$work/b_$style.txt"
  # A first patch of this shape, not measured.
  set_greeting "warm$style"
  patches=$((patches + 1)); settled "$patches"
  i=0
  while [ "$i" -lt "$runs" ]; do
    i=$((i + 1))
    patches=$((patches + 1))
    if [ $((i % 2)) -eq 1 ]; then
      watched "w$style$i"; settled "$patches"
      timed "$work/b_$style.txt" bare "b$style$i"
    else
      timed "$work/b_$style.txt" bare "b$style$i"
      watched "w$style$i"; settled "$patches"
    fi
  done
  grep ' patched  build ' "$work/watch.out" | tail -n "$runs" >"$work/lines_$style.txt"
}
log "15a: $runs saves per shape of the file under hot watch against bare swiftc, alternating"
side_by_side plain
side_by_side imports
kill -INT "$watch_pid"
wait "$watch_pid" || true
watch_pid=""
for style in plain imports; do
  eval "pb_$style=\$(sed -n 's/.*build \([0-9]*\) ms.*/\1/p' \"\$work/lines_$style.txt\" | awk '{ print \$1 / 1000 }' | median)"
  eval "pl_$style=\$(sed -n 's/.*load \([0-9]*\) ms.*/\1/p' \"\$work/lines_$style.txt\" | awk '{ print \$1 / 1000 }' | median)"
  eval "w_$style=\$(median <\"\$work/w_$style.txt\")"
  eval "b_$style=\$(median <\"\$work/b_$style.txt\")"
done
r_plain=$(ratio "$w_plain" "$b_plain")
r_imports=$(ratio "$w_imports" "$b_imports")
stop_app
git checkout -q -- "$greeting"
style=plain

log "15b: the patchable setting, $rounds rounds of: rebuild and wrk with it, then without (or the other way)"
# The setting applies to debug builds; moved to release, the debug build is as without it.
with_setting() { sed -i 's/\.when(configuration: \.release))/.when(configuration: .debug))/' Package.swift; }
without_setting() { sed -i 's/\.when(configuration: \.debug))/.when(configuration: .release))/' Package.swift; }
own_rebuild() {
  touch Sources/App/*.swift Sources/Shared/*.swift Sources/Server/*.swift
  TMPDIR="$work" swift build --product Server
}
measure_p50() {
  start_app
  wrk -t1 -c16 -d2s "http://127.0.0.1:$port/host" >/dev/null
  wrk -t1 -c16 -d5s --latency "http://127.0.0.1:$port/host" >"$work/wrk.txt"
  stop_app
  wrk_summary "$work/wrk.txt" | awk '{ print $1 }'
}
: >"$work/bw.txt"; : >"$work/bo.txt"; : >"$work/pw.txt"; : >"$work/po.txt"
round=0
while [ "$round" -lt "$rounds" ]; do
  round=$((round + 1))
  for side in first second; do
    if { [ "$side" = first ] && [ $((round % 2)) -eq 1 ]; } || { [ "$side" = second ] && [ $((round % 2)) -eq 0 ]; }; then
      with_setting; timed "$work/bw.txt" own_rebuild; measure_p50 >>"$work/pw.txt"
    else
      without_setting; timed "$work/bo.txt" own_rebuild; measure_p50 >>"$work/po.txt"
    fi
  done
done
with_setting
bw=$(median <"$work/bw.txt"); bo=$(median <"$work/bo.txt")
pw=$(median <"$work/pw.txt"); po=$(median <"$work/po.txt")
r_build=$(ratio "$bw" "$bo")
r_p50=$(ratio "$pw" "$po")

cat <<MD
## The host's own code under \`hot watch\`

Measured by \`scripts/bench/hostpatch.sh\` on the app of \`hot init --template hummingbird\` with 96
more files of its own (100 in all), built in debug with the template's \`patchable\` setting, the app
running and \`hot watch\` in the background.

**Save to first new answer** ($runs runs per side and shape, medians, alternating). Each run writes
\`hostGreeting()\` (what GET /host answers, in \`Sources/App/HostGreeting.swift\`) with a new text, and
times from the write to the first \`curl\` of GET /host that answers it (curl runs back to back). Against
it, a bare \`swiftc -emit-library\` of that one file against the same host modules (\`.hot/host/Modules\`,
with the host's C module flags). The file in two shapes: importing nothing, and a handler file that
imports Hummingbird and the app's \`Shared\` and uses their types, as an app's files do.

| the edited file | save to first new answer, \`hot watch\` | bare swiftc of the file | watch / swiftc | watch's own build, load |
| --- | --- | --- | --- | --- |
| imports Hummingbird and Shared | $(ms "$w_imports") | $(ms "$b_imports") | **$r_imports** (target at most 1.0: $(meets "$r_imports" 1.0); under 0.5 s: $(meets "$w_imports" 0.5)) | $(ms "$pb_imports"), $(ms "$pl_imports") |
| imports nothing | $(ms "$w_plain") | $(ms "$b_plain") | $r_plain (under 0.5 s: $(meets "$w_plain" 0.5)) | $(ms "$pb_plain"), $(ms "$pl_plain") |

**What the setting costs a debug build** ($rounds rounds, medians): the rebuild of the app's own
targets (App, Shared, Server: every source touched, then \`swift build\`), and the p50 of GET /host,
code of the app itself, under \`wrk -t1 -c16 -d5s\`, with the setting and with it moved to release
builds. Release builds are compiled without it either way.

| | with \`patchable\` | without | ratio |
| --- | --- | --- | --- |
| rebuild of the app's own targets | $(sec "$bw") | $(sec "$bo") | $r_build |
| GET /host p50 | $(awk -v x="$pw" 'BEGIN { printf "%.3f ms", x }') | $(awk -v x="$po" 'BEGIN { printf "%.3f ms", x }') | $r_p50 |
MD

if [ -n "${BENCH_SUMMARY:-}" ]; then
  {
    echo "patch_swiftc_ratio $r_imports"
    echo "patch_seconds $w_imports"
    echo "patch_plain_swiftc_ratio $r_plain"
    echo "patch_plain_seconds $w_plain"
    echo "patch_setting_build_ratio $r_build"
    echo "patch_setting_p50_ratio $r_p50"
  } >>"$BENCH_SUMMARY"
fi
