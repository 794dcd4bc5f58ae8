#!/bin/sh
# Figures 8, 10 and 16 of `make bench`: the app of `hot init --template
# hummingbird` (8, 10) or `--template vapor` (16), built in release, under
# wrk.
#   8, 16  the hot route /hello against the same handler compiled into the
#       app, first while the app runs the routes module's built-in version
#       (the floor: the same handle, the module compiled into the app), then
#       a version loaded from its shared object, built with -O as the app
#       is; and wrk on keep-alive connections against /hello while a new
#       version is loaded every second, against the same app with no loads,
#       in alternating rounds: p50, p99, requests/s, non-2xx.
#   10  (Hummingbird) edit to live of the routes module (it imports
#       Hummingbird): from the write of the file to the first answer from
#       the new code, against bare swiftc of the same module with the same
#       flags.
# Usage: scripts/bench/server.sh BIN-DIR [hummingbird|vapor]   (BIN-DIR holds hot)
# Writes markdown on stdout and `key value` lines to $BENCH_SUMMARY, their
# keys prefixed hb_ or vp_.
set -eu
bin=$(cd "$1" && pwd)
framework=${2:-hummingbird}
case "$framework" in
  hummingbird) prefix=hb; title=Hummingbird; figure=8 ;;
  vapor) prefix=vp; title=Vapor; figure=16 ;;
  *) echo "server.sh: no template $framework: use hummingbird or vapor" >&2; exit 2 ;;
esac
root=$(cd "$(dirname "$0")/../.." && pwd)
summary=${BENCH_SUMMARY:-/dev/null}
rounds=${HB_ROUNDS:-3}
seconds=${HB_SECONDS:-10}
# The route rounds compare p50s, which settle sooner than a p99.
route_seconds=${HB_ROUTE_SECONDS:-5}
edits=${HB_EDITS:-8}
work=$(mktemp -d "/tmp/hot-bench-$prefix.XXXXXX")
app_pid=""
cleanup() {
  status=$?
  trap - EXIT INT TERM
  if [ "$status" -ne 0 ]; then
    log "failed (status $status); the app's log ends:"
    tail -n 20 "$work/app.log" >&2 2>/dev/null || true
    [ -z "$app_pid" ] || kill -0 "$app_pid" 2>/dev/null || log "the app (pid $app_pid) is not running"
  fi
  [ -z "$app_pid" ] || { kill "$app_pid" 2>/dev/null; wait "$app_pid" 2>/dev/null || true; }
  rm -rf "$work"
  exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
log() { echo "server.sh ($framework): $*" >&2; }
. "$(dirname "$0")/lib.sh"

command -v wrk >/dev/null 2>&1 || {
  echo "installing wrk" >&2
  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk) >&2
}
command -v curl >/dev/null 2>&1 || (DEBIAN_FRONTEND=noninteractive apt-get install -y -qq curl) >&2

hot="$bin/hot"
cached_app "$framework"
cd "$app"
# The same handler as routes:hello, compiled into the app itself, for the
# hot route's cost against a direct one.
FRAMEWORK=$framework python3 - <<'PY'
import os
if os.environ["FRAMEWORK"] == "hummingbird":
    path, anchor = "Sources/App/App.swift", '    router.get("/health")'
    direct = """router.get("/direct/:name") { request, context -> Response in
    let name = context.parameters.get("name") ?? "world"
    return try Greeting(message: "Hello, \\(name)!", release: 0).response(from: request, context: context)
}
"""
else:
    # In the group of the hot middleware, as /hello is: what differs is the handler's handle.
    path, anchor = "Sources/App/App.swift", '    routes.get("count"'
    direct = """    routes.get("direct", ":name") { request async throws -> Response in
        let name = request.parameters.get("name") ?? "world"
        return try await Greeting(message: "Hello, \\(name)!", release: 0).encodeResponse(for: request)
    }
"""
text = open(path).read()
assert anchor in text, anchor
text = text.replace(anchor, direct + anchor, 1)
open(path, "w").write(text)
PY
# The app in release, and the modules built against that build.
sed -i 's/"product": "Server" }/"product": "Server", "configuration": "release" }/' hot.json
echo "building the template app in release ($title and its packages)" >&2
# SwiftPM leaves its lock files in TMPDIR: in the work folder, they go with it.
TMPDIR="$work" swift build -c release --product Server >&2

routes=modules/routes/routes.swift
# Sets the routes module's release number.
set_release() { sed -i "s/^let release = .*/let release = $1/" "$routes"; }

port=$((20000 + $$ % 20000))
PORT=$port ./.build/release/Server > "$work/app.log" 2>&1 &
app_pid=$!
for _ in $(seq 1 300); do
  curl -sf "http://127.0.0.1:$port/health" >/dev/null 2>&1 && break
  sleep 0.1
done
curl -sf "http://127.0.0.1:$port/hello/bench" >/dev/null || { cat "$work/app.log" >&2; exit 1; }

url="http://127.0.0.1:$port/hello/bench"
direct="http://127.0.0.1:$port/direct/bench"
wrk -t1 -c16 -d3s "$url" >/dev/null # warm-up

# One wrk run against $1 (default: the hot route) for $2 seconds (default:
# $seconds); prints "p50_ms p99_ms requests_per_s non2xx errors".
measure() {
  wrk -t1 -c16 -d"${2:-$seconds}s" --latency "${1:-$url}" > "$work/wrk.txt"
  wrk_summary "$work/wrk.txt"
}

# The hot route against the same handler compiled into the app, no loads,
# alternating: $1 names the version the app runs.
route_rounds() {
  : > "$work/hot_$1"
  : > "$work/direct_$1"
  for round in $(seq 1 "$rounds"); do
    echo "round $round: hot route ($1) against direct route" >&2
    measure "$url" "$route_seconds" >> "$work/hot_$1"
    measure "$direct" "$route_seconds" >> "$work/direct_$1"
  done
}

# The app booted the routes module's built-in version (nothing was built in
# .hot/build): the floor, the same handle calling code compiled into the app.
version=$("$hot" status --json | python3 -c 'import json, sys; m = [m for m in json.load(sys.stdin)["modules"] if m["name"] == "routes"][0]; print(m["current"]["version"])')
[ "$version" = 0 ] || { echo "the app booted routes v$version, not its built-in version" >&2; exit 1; }
route_rounds builtin

# A version from its shared object, compiled with -O as the app was.
set_release 2
"$hot" deploy --release >/dev/null
curl -s "$url" | grep -q '"release":2' || { echo "release 2 is not answering" >&2; exit 1; }
route_rounds loaded

# Versions 3..N built ahead, so that the loads under wrk cost what a deploy
# of an already-built version costs (staging, trial load, swap), not a
# compile competing with the server for the two cores.
loads=$((rounds * seconds + 5))
echo "building $loads versions of the routes module" >&2
for n in $(seq 3 $((loads + 3))); do
  set_release "$n"
  "$hot" build routes --release >/dev/null
done
set_release 2

# every_second FILE COMMAND...: runs COMMAND once a second until the file
# "$work/stop" appears, then appends how many times it ran and the CPU
# seconds its commands took (the shell's children: user and system) to FILE.
every_second() {
  every_out=$1
  shift
  count=0
  while [ ! -e "$work/stop" ]; do
    "$@"
    count=$((count + 1))
    sleep 1
  done
  times > "$work/times"
  echo "$count $(children_cpu "$work/times")" >> "$every_out"
}
# Loads release $n, already built, and moves $n on.
deploy_next() {
  set_release "$n"
  "$hot" deploy --release >/dev/null 2>>"$work/deploy.err" || echo "deploy of release $n failed" >> "$work/deploy.err"
  n=$((n + 1))
}
# CPU seconds of the app's process, $1 = own (user and system) or children
# (its reaped trial children), from /proc.
ticks=$(getconf CLK_TCK)
app_cpu() {
  [ -r "/proc/$app_pid/stat" ] || fail "the app (pid $app_pid) is gone"
  case "$1" in
    own) awk -v hz="$ticks" '{ printf "%.2f\n", ($14 + $15) / hz }' "/proc/$app_pid/stat" ;;
    children) awk -v hz="$ticks" '{ printf "%.2f\n", ($16 + $17) / hz }' "/proc/$app_pid/stat" ;;
  esac
}

# The control: a process that burns, once a second, the CPU a load's own
# processes took (measured in the rounds with loads so far) and loads
# nothing. What it does to the p99 is what any work of that size does on
# these cores; what a load does beyond it is the swap's.
spin() { awk -v n="$1" 'BEGIN { for (i = 0; i < n; i++) x += i; exit x < 0 }'; }
# How many of the spin's iterations take one second of CPU, awk's start included.
( awk 'BEGIN { for (i = 0; i < 20000000; i++) x += i; exit x < 0 }'; times > "$work/times" )
spin_rate=$(children_cpu "$work/times" | awk '{ printf "%.0f", 20000000 / $1 }')

next=3
: > "$work/base"
: > "$work/loads"
: > "$work/spin"
: > "$work/cpu"
: > "$work/deploy_cpu"
: > "$work/spin_cpu"
for round in $(seq 1 "$rounds"); do
  echo "round $round: no loads" >&2
  own0=$(app_cpu own)
  measure >> "$work/base"
  own1=$(app_cpu own); children1=$(app_cpu children)
  echo "round $round: a load every second" >&2
  rm -f "$work/stop"
  n=$next
  every_second "$work/deploy_cpu" deploy_next &
  loop=$!
  measure >> "$work/loads"
  touch "$work/stop"
  wait "$loop" || fail "the load loop ended with status $?"
  own2=$(app_cpu own); children2=$(app_cpu children)
  # The app's own CPU in the round without loads and in the one with, and its trial children's.
  echo "$own0 $own1 $own2 $children1 $children2" >> "$work/cpu"
  echo "round $round: the same CPU every second, no loads" >&2
  spin=$(awk -v r="$spin_rate" 'NR == FNR { n += $1; c += $2; next } { t += $5 - $4 }
    END { printf "%.0f", (c + t) / n * r }' "$work/deploy_cpu" "$work/cpu")
  rm -f "$work/stop"
  every_second "$work/spin_cpu" spin "$spin" &
  loop=$!
  measure >> "$work/spin"
  touch "$work/stop"
  wait "$loop" || fail "the control loop ended with status $?"
  next=$(sed -n "s/^let release = //p" "$routes")
  next=$((next + 1))
done
loaded=$(curl -s "$url" | sed -n 's/.*"release":\([0-9]*\).*/\1/p')
deploy_failures=$(grep -c "failed" "$work/deploy.err" 2>/dev/null || true)

# Medians over the rounds of each column.
median() { sort -n | awk '{ v[NR] = $1 } END { if (NR % 2) print v[(NR + 1) / 2]; else printf "%.3f\n", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
column() { awk -v c="$2" '{ print $c }' "$1" | median; }
base_p50=$(column "$work/base" 1); base_p99=$(column "$work/base" 2); base_rps=$(column "$work/base" 3)
load_p50=$(column "$work/loads" 1); load_p99=$(column "$work/loads" 2); load_rps=$(column "$work/loads" 3)
spin_p50=$(column "$work/spin" 1); spin_p99=$(column "$work/spin" 2); spin_rps=$(column "$work/spin" 3)
spin_count=$(awk '{ s += $1 } END { print s + 0 }' "$work/spin_cpu")
spin_ms=$(awk '{ n += $1; c += $2 } END { printf "%.0f", n ? c * 1000 / n : 0 }' "$work/spin_cpu")
non2xx=$(awk '{ s += $4 + $5 } END { print s + 0 }' "$work/base" "$work/loads")
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f", a / b }'; }
builtin_p50=$(column "$work/hot_builtin" 1); builtin_rps=$(column "$work/hot_builtin" 3)
direct_a_p50=$(column "$work/direct_builtin" 1); direct_a_rps=$(column "$work/direct_builtin" 3)
route_p50=$(column "$work/hot_loaded" 1); route_rps=$(column "$work/hot_loaded" 3)
direct_p50=$(column "$work/direct_loaded" 1); direct_rps=$(column "$work/direct_loaded" 3)
builtin_ratio=$(ratio "$builtin_p50" "$direct_a_p50")
builtin_rps_ratio=$(ratio "$builtin_rps" "$direct_a_rps")
route_ratio=$(ratio "$route_p50" "$direct_p50")
route_rps_ratio=$(ratio "$route_rps" "$direct_rps")
# Where the cores went: the loads' own processes (hot deploy, the app's
# trial children) per load, and as a share of the machine over the rounds
# with loads; the app's own share in the rounds without and with.
cores=$(nproc)
load_count=$(awk '{ s += $1 } END { print s + 0 }' "$work/deploy_cpu")
deploy_cpu=$(awk '{ s += $2 } END { print s + 0 }' "$work/deploy_cpu")
trial_cpu=$(awk '{ s += $5 - $4 } END { print s + 0 }' "$work/cpu")
deploy_ms=$(awk -v c="$deploy_cpu" -v n="$load_count" 'BEGIN { printf "%.0f", n ? c * 1000 / n : 0 }')
trial_ms=$(awk -v c="$trial_cpu" -v n="$load_count" 'BEGIN { printf "%.0f", n ? c * 1000 / n : 0 }')
span=$(awk -v r="$rounds" -v s="$seconds" -v c="$cores" 'BEGIN { print r * s * c }')
load_share=$(awk -v a="$deploy_cpu" -v b="$trial_cpu" -v t="$span" 'BEGIN { printf "%.1f", (a + b) * 100 / t }')
app_share_base=$(awk -v t="$span" '{ s += $2 - $1 } END { printf "%.1f", s * 100 / t }' "$work/cpu")
app_share_loads=$(awk -v t="$span" '{ s += $3 - $2 } END { printf "%.1f", s * 100 / t }' "$work/cpu")
p99_ratio=$(awk -v a="$load_p99" -v b="$base_p99" 'BEGIN { printf "%.2f", a / b }')
rps_ratio=$(awk -v a="$load_rps" -v b="$base_rps" 'BEGIN { printf "%.2f", a / b }')
spin_p99_ratio=$(awk -v a="$spin_p99" -v b="$base_p99" 'BEGIN { printf "%.2f", a / b }')
spin_rps_ratio=$(awk -v a="$spin_rps" -v b="$base_rps" 'BEGIN { printf "%.2f", a / b }')

# Figure 10 (Hummingbird only): edit to live against bare swiftc of the
# same module, with the flags hot build used: the host's module folder and
# C import flags, as .hot/host/build.json recorded them from SwiftPM's
# build description.
edit_s=""; bare_s=""; edit_ratio=""
if [ "$framework" = hummingbird ]; then
  host_flags=$(python3 -c 'import json, shlex; b = json.load(open(".hot/host/build.json")); print(" ".join(shlex.quote(f) for f in ["-I", b["modulesDirectory"]] + b["clangFlags"]))')
  entry="$work/entry.swift"
  printf 'import Hot\n@_cdecl("hot_module_descriptor") public func d() -> UnsafeRawPointer { let t: StaticString = "x"; return UnsafeRawPointer(t.utf8Start) }\n@_cdecl("hot_module_entry") public func e() -> UnsafeMutableRawPointer { ModuleEntry.handOff(module) }\n' >"$entry"
  swiftc_command="swiftc -emit-library -parse-as-library -swift-version 6 -wmo -module-name bare_routes -Onone $host_flags $routes $entry -o $work/bare.so"
  : > "$work/edit"
  : > "$work/bare"
  n=1000
  for i in $(seq 1 "$edits"); do
    n=$((n + 1))
    start=$(date +%s.%N)
    set_release "$n"
    "$hot" deploy >/dev/null
    until curl -s "$url" | grep -q "\"release\":$n"; do :; done
    end=$(date +%s.%N)
    echo "$start $end" | awk '{ print $2 - $1 }' >> "$work/edit"
    start=$(date +%s.%N)
    set_release "$((n + 500))"
    sh -c "$swiftc_command" >/dev/null 2>"$work/bare.err" || { cat "$work/bare.err" >&2; exit 1; }
    end=$(date +%s.%N)
    echo "$start $end" | awk '{ print $2 - $1 }' >> "$work/bare"
  done
  edit_s=$(median < "$work/edit")
  bare_s=$(median < "$work/bare")
  edit_ratio=$(awk -v a="$edit_s" -v b="$bare_s" 'BEGIN { printf "%.2f", a / b }')
fi

{
  echo "${prefix}_p99_ratio $p99_ratio"
  echo "${prefix}_rps_ratio $rps_ratio"
  echo "${prefix}_non2xx $non2xx"
  [ -z "$edit_ratio" ] || echo "${prefix}_edit_ratio $edit_ratio"
  [ -z "$edit_s" ] || echo "${prefix}_edit_seconds $edit_s"
  echo "${prefix}_route_ratio $route_ratio"
  echo "${prefix}_route_rps_ratio $route_rps_ratio"
  echo "${prefix}_builtin_ratio $builtin_ratio"
  echo "${prefix}_builtin_rps_ratio $builtin_rps_ratio"
  echo "${prefix}_load_cpu_share $load_share"
  echo "${prefix}_spin_p99_ratio $spin_p99_ratio"
  echo "${prefix}_spin_rps_ratio $spin_rps_ratio"
} >> "$summary"

cat <<MD
## The $title app under load (figure $figure)

\`scripts/bench/server.sh BIN $framework\`: the app of \`hot init --template $framework\`, built in
release, serving \`GET /hello/bench\` (a handler of the hot routes module) to \`wrk -t1 -c16
--latency\` on keep-alive connections, $rounds rounds of ${seconds} s with no loads,
$rounds rounds with a new version of the routes module loaded every second (\`hot deploy\` of
a version built beforehand: staging, trial load in a child run of the app, swap), and
$rounds control rounds (below), alternating. Medians of the rounds. The last answer came
from release $loaded.

| | no loads | a load every second | ratio | target |
| --- | --- | --- | --- | --- |
| p50 latency (ms) | $base_p50 | $load_p50 | | |
| p99 latency (ms) | $base_p99 | $load_p99 | $p99_ratio | at most 1.2 |
| requests/s | $base_rps | $load_rps | $rps_ratio | at least 0.95 |
| non-2xx responses and socket errors, all rounds | | | $non2xx | 0 |
| failed deploys | | | ${deploy_failures:-0} | 0 |
| the app's CPU, share of the $cores cores | $app_share_base% | $app_share_loads% | | |

The control, in the same rounds: instead of a load, a process that burns the CPU a load's
own processes took ($spin_ms ms, measured) once a second and loads nothing,
$spin_count times in all, against the same rounds with no loads:

| | no loads | the same CPU every second, no loads | ratio |
| --- | --- | --- | --- |
| p50 latency (ms) | $base_p50 | $spin_p50 | |
| p99 latency (ms) | $base_p99 | $spin_p99 | $spin_p99_ratio |
| requests/s | $base_rps | $spin_rps | $spin_rps_ratio |

The loads' own processes took CPU the server and wrk would otherwise have had: per load,
$deploy_ms ms in \`hot deploy\` and $trial_ms ms in the app's trial children (the trial and the
spare child started for the next one), $load_count loads in all: **$load_share%** of the
$cores cores over the rounds with loads, where wrk and the app already kept both busy.

The hot route against the same handler compiled into the app (\`/direct/bench\`, added
to the app for this figure), no loads, $rounds rounds of ${route_seconds} s of each, alternating, medians. First
while the app runs the routes module's built-in version (the module compiled into the app
by \`swift build -c release\`, reached through the same handle): the floor. Then a version
loaded from its shared object (\`hot deploy --release\`, -O as the app):

| the app runs | hot route p50 (ms) | compiled-in p50 (ms) | ratio | hot route req/s | compiled-in req/s | ratio |
| --- | --- | --- | --- | --- | --- | --- |
| the built-in version | $builtin_p50 | $direct_a_p50 | **$builtin_ratio** | $builtin_rps | $direct_a_rps | $builtin_rps_ratio |
| a loaded version | $route_p50 | $direct_p50 | **$route_ratio** | $route_rps | $direct_rps | $route_rps_ratio |

This is the typed async handle's cost as a request sees it; the handle alone, against a
direct async call of a trivial function, is the async row of figure 1. In the Vapor app
both routes pass through the app's hot middleware (\`stamp\`), so what differs is the
handler's handle alone.
MD
if [ -n "$edit_ratio" ]; then
  cat <<MD

Edit to live of the routes module, which imports Hummingbird and the app's Shared
library: from the write of the file to the first answer from the new code, \`hot deploy\`
(build against the app's release build, staging, trial load, swap) against bare swiftc of
the same module with the same flags, alternating, $edits times each, medians:
$edit_s s against $bare_s s, ratio **$edit_ratio** (target at most 1.15).
MD
fi
