#!/bin/sh
# Figures 8 and 10 of `make bench`: the app of `hot init --template
# hummingbird`, built in release, under wrk.
#   8   wrk on keep-alive connections against /hello while a new version of
#       the routes module is loaded every second, against the same app with
#       no loads, in alternating rounds: p50, p99, requests/s, non-2xx.
#   10  edit to live of the routes module (it imports Hummingbird): from the
#       write of the file to the first answer from the new code, against
#       bare swiftc of the same module with the same flags.
# Usage: scripts/bench/hummingbird.sh BIN-DIR   (BIN-DIR holds hot)
# Writes markdown on stdout and `key value` lines to $BENCH_SUMMARY.
set -eu
bin=$1
root=$(cd "$(dirname "$0")/../.." && pwd)
summary=${BENCH_SUMMARY:-/dev/null}
rounds=${HB_ROUNDS:-3}
seconds=${HB_SECONDS:-10}
edits=${HB_EDITS:-8}
work=$(mktemp -d /tmp/hot-bench-hb.XXXXXX)
app_pid=""
cleanup() {
  [ -z "$app_pid" ] || { kill "$app_pid" 2>/dev/null; wait "$app_pid" 2>/dev/null || true; }
  rm -rf "$work"
}
trap cleanup EXIT INT TERM

command -v wrk >/dev/null 2>&1 || {
  echo "installing wrk" >&2
  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk) >&2
}
command -v curl >/dev/null 2>&1 || (DEBIAN_FRONTEND=noninteractive apt-get install -y -qq curl) >&2

hot="$bin/hot"
app="$work/app"
"$hot" init "$app" --template hummingbird --hot-package "$root" >&2
cd "$app"
# The same handler as routes:hello, compiled into the app itself, for the
# hot route's cost against a direct one.
python3 - <<'PY'
path = "Sources/App/App.swift"
text = open(path).read()
direct = """router.get("/direct/:name") { request, context -> Response in
    let name = context.parameters.get("name") ?? "world"
    return try Greeting(message: "Hello, \\(name)!", release: 0).response(from: request, context: context)
}
"""
text = text.replace("    router.get(\"/health\")", direct + "    router.get(\"/health\")", 1)
open(path, "w").write(text)
PY
# The app in release, and the modules built against that build.
sed -i 's/"product": "Server" }/"product": "Server", "configuration": "release" }/' hot.json
echo "building the template app in release (Hummingbird and its packages)" >&2
swift build -c release --product Server >&2

routes=modules/routes/routes.swift
# Sets the routes module's release number.
set_release() { sed -i "s/^let release = .*/let release = $1/" "$routes"; }

# Versions 2..N built ahead, so that the loads under wrk cost what a deploy of
# an already-built version costs (staging, trial load, swap), not a compile
# competing with the server for the two cores.
loads=$((rounds * seconds + 5))
echo "building $loads versions of the routes module" >&2
# Release n is built as version n; going back to release 1 finds it built,
# and it is what the app boots.
for n in $(seq 1 $((loads + 1))); do
  set_release "$n"
  "$hot" build routes >/dev/null
done
set_release 1
"$hot" build routes >/dev/null

port=$((20000 + $$ % 20000))
PORT=$port ./.build/release/Server > "$work/app.log" 2>&1 &
app_pid=$!
for _ in $(seq 1 300); do
  curl -sf "http://127.0.0.1:$port/health" >/dev/null 2>&1 && break
  sleep 0.1
done
curl -sf "http://127.0.0.1:$port/hello/bench" >/dev/null || { cat "$work/app.log" >&2; exit 1; }

url="http://127.0.0.1:$port/hello/bench"
wrk -t1 -c16 -d3s "$url" >/dev/null # warm-up

# One wrk run against $1 (default: the hot route); prints "p50_ms p99_ms
# requests_per_s non2xx errors".
measure() {
  wrk -t1 -c16 -d"${seconds}s" --latency "${1:-$url}" > "$work/wrk.txt"
  awk '
    function ms(v) {
      if (v ~ /us$/) { sub(/us$/, "", v); return v / 1000 }
      if (v ~ /ms$/) { sub(/ms$/, "", v); return v + 0 }
      if (v ~ /s$/) { sub(/s$/, "", v); return v * 1000 }
      return v
    }
    $1 == "50%" { p50 = ms($2) }
    $1 == "99%" { p99 = ms($2) }
    /^Requests\/sec:/ { rps = $2 }
    /Non-2xx or 3xx responses:/ { non2xx = $NF }
    /Socket errors:/ { gsub(/,/, ""); errors = $4 + $6 + $8 + $10 }
    END { printf "%.3f %.3f %.0f %d %d\n", p50, p99, rps, non2xx, errors }
  ' "$work/wrk.txt"
}

# Loads version 2, 3, … once a second until the file "$work/stop" appears.
deploy_loop() {
  n=$1
  while [ ! -e "$work/stop" ]; do
    set_release "$n"
    "$hot" deploy >/dev/null 2>>"$work/deploy.err" || echo "deploy of release $n failed" >> "$work/deploy.err"
    n=$((n + 1))
    sleep 1
  done
}

# The hot route against the same handler compiled into the app, no loads.
: > "$work/hot_route"
: > "$work/direct_route"
for round in $(seq 1 "$rounds"); do
  echo "round $round: hot route against direct route" >&2
  measure >> "$work/hot_route"
  measure "http://127.0.0.1:$port/direct/bench" >> "$work/direct_route"
done

next=2
: > "$work/base"
: > "$work/loads"
for round in $(seq 1 "$rounds"); do
  echo "round $round: no loads" >&2
  measure >> "$work/base"
  echo "round $round: a load every second" >&2
  rm -f "$work/stop"
  deploy_loop "$next" &
  loop=$!
  measure >> "$work/loads"
  touch "$work/stop"
  wait "$loop"
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
non2xx=$(awk '{ s += $4 + $5 } END { print s + 0 }' "$work/base" "$work/loads")
route_p50=$(column "$work/hot_route" 1); route_rps=$(column "$work/hot_route" 3)
direct_p50=$(column "$work/direct_route" 1); direct_rps=$(column "$work/direct_route" 3)
route_ratio=$(awk -v a="$route_p50" -v b="$direct_p50" 'BEGIN { printf "%.2f", a / b }')
route_rps_ratio=$(awk -v a="$route_rps" -v b="$direct_rps" 'BEGIN { printf "%.2f", a / b }')
p99_ratio=$(awk -v a="$load_p99" -v b="$base_p99" 'BEGIN { printf "%.2f", a / b }')
rps_ratio=$(awk -v a="$load_rps" -v b="$base_rps" 'BEGIN { printf "%.2f", a / b }')

# Figure 10: edit to live against bare swiftc of the same module, with the
# flags hot build used: the host's module folder and C import flags, as
# .hot/host/build.json recorded them from SwiftPM's build description.
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

{
  echo "hb_p99_ratio $p99_ratio"
  echo "hb_rps_ratio $rps_ratio"
  echo "hb_non2xx $non2xx"
  echo "hb_edit_ratio $edit_ratio"
  echo "hb_edit_seconds $edit_s"
  echo "hb_route_ratio $route_ratio"
  echo "hb_route_rps_ratio $route_rps_ratio"
} >> "$summary"

cat <<MD
## The Hummingbird app under load

\`scripts/bench/hummingbird.sh\`: the app of \`hot init --template hummingbird\`, built in
release, serving \`GET /hello/bench\` (a handler of the hot routes module) to \`wrk -t1 -c16
--latency\` on keep-alive connections, $rounds rounds of ${seconds} s with no loads and
$rounds rounds with a new version of the routes module loaded every second (\`hot deploy\` of
a version built beforehand: staging, trial load in a child run of the app, swap),
alternating. Medians of the rounds. The last answer came from release $loaded.

| | no loads | a load every second | ratio | target |
| --- | --- | --- | --- | --- |
| p50 latency (ms) | $base_p50 | $load_p50 | | |
| p99 latency (ms) | $base_p99 | $load_p99 | $p99_ratio | at most 1.2 |
| requests/s | $base_rps | $load_rps | $rps_ratio | at least 0.95 |
| non-2xx responses and socket errors, all rounds | | | $non2xx | 0 |
| failed deploys | | | ${deploy_failures:-0} | 0 |

The hot route against the same handler compiled into the app (\`/direct/bench\`, added
to the app for this figure), no loads, $rounds rounds each, alternating, medians: p50
$route_p50 ms against $direct_p50 ms (ratio **$route_ratio**), $route_rps against $direct_rps
requests/s (ratio **$route_rps_ratio**). This is the typed async handle's cost as a request
sees it; the handle alone, against a direct async call of a trivial function, is the async row of figure 1.

Edit to live of the routes module, which imports Hummingbird and the app's Shared
library: from the write of the file to the first answer from the new code, \`hot deploy\`
(build against the app's release build, staging, trial load, swap) against bare swiftc of
the same module with the same flags, alternating, $edits times each, medians:
$edit_s s against $bare_s s, ratio **$edit_ratio** (target at most 1.15).
MD
