#!/bin/sh
# Figure 17 of `make bench`: a fleet through etcd on this one machine.
#   a deploy through etcd to 128 nodes against the same deploy to a fleet of
#   one node (each a fresh one-line change of the hello module, so each
#   includes one compile), and a node that joins the 128-node fleet: from
#   `hot start --etcd` to its first answer from the fleet's committed
#   release, against `hot start` of a node that follows no fleet.
# A 3-member etcd cluster (Debian's etcd-server) on loopback, in the work
# folder. Usage: scripts/bench/fleet-etcd.sh BIN-DIR   (BIN-DIR holds hot)
# Writes markdown on stdout and `key value` lines to $BENCH_SUMMARY.
set -eu
bin=$(cd "$1" && pwd)
summary=${BENCH_SUMMARY:-/dev/null}
size=${FLEET_ETCD_NODES:-128}
runs=${FLEET_ETCD_RUNS:-3}
work=$(mktemp -d /tmp/hot-bench-etcd.XXXXXX)
etcd_pids=""
log() { echo "fleet-etcd.sh: $*" >&2; }
. "$(dirname "$0")/lib.sh"
hot="$bin/hot"
cleanup() {
  # Every process of the project's nodes (supervisors, nodes, followers):
  # TERM, a moment to end, then KILL; then the cluster.
  pids=""
  if [ -d "$work/fleet/.hot" ]; then
    for pidfile in $(find "$work/fleet/.hot" -name supervisor.pid -o -name node.pid -o -name follower.pid 2>/dev/null); do
      pid=$(cat "$pidfile" 2>/dev/null || true)
      case $pid in '' | *[!0-9]*) continue ;; esac
      kill -TERM "$pid" 2>/dev/null && pids="$pids $pid"
    done
  fi
  for pid in $pids $etcd_pids; do
    kill -TERM "$pid" 2>/dev/null || true
    n=0
    while kill -0 "$pid" 2>/dev/null && [ "$n" -lt 50 ]; do sleep 0.1; n=$((n + 1)); done
    kill -KILL "$pid" 2>/dev/null || true
  done
  for pid in $etcd_pids; do wait "$pid" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT INT TERM

[ -x /usr/bin/etcd ] || {
  echo "installing etcd-server" >&2
  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq etcd-server) >&2
}

# The cluster: three members on loopback ports picked from this process's id.
base=$((30000 + ($$ % 5000) * 2))
cluster=""
urls=""
for m in 1 2 3; do
  cluster="$cluster${cluster:+,}m$m=http://127.0.0.1:$((base + 10 + m))"
  urls="$urls${urls:+,}http://127.0.0.1:$((base + m))"
done
for m in 1 2 3; do
  /usr/bin/etcd --name "m$m" --data-dir "$work/etcd/m$m" \
    --listen-client-urls "http://127.0.0.1:$((base + m))" --advertise-client-urls "http://127.0.0.1:$((base + m))" \
    --listen-peer-urls "http://127.0.0.1:$((base + 10 + m))" --initial-advertise-peer-urls "http://127.0.0.1:$((base + 10 + m))" \
    --initial-cluster "$cluster" --initial-cluster-token "bench-$$" --initial-cluster-state new \
    > "$work/etcd-m$m.log" 2>&1 &
  etcd_pids="$etcd_pids $!"
done
for _ in $(seq 1 100); do
  curl -sf -X POST -d '{}' "http://127.0.0.1:$((base + 1))/v3/maintenance/status" >/dev/null 2>&1 && break
  sleep 0.1
done

cd "$work"
quiet "$hot" init fleet
cd fleet

# The fleet of one: a node of its own.
quiet "$hot" start --node solo --etcd "$urls" --fleet one
t1=$(now)
log "starting $size nodes that follow the fleet big"
n=1
while [ "$n" -le "$size" ]; do
  quiet "$hot" start --node "$(printf 'n%03d' "$n")" --etcd "$urls" --fleet big
  n=$((n + 1))
done
t2=$(now)
start_time=$(awk -v a="$t1" -v b="$t2" 'BEGIN { print b - a }')

: >"$work/one.txt"
: >"$work/big.txt"
i=0
while [ "$i" -lt "$runs" ]; do
  i=$((i + 1))
  # Alternating which fleet goes first.
  if [ $((i % 2)) = 1 ]; then order="one big"; else order="big one"; fi
  for fleet in $order; do
    hello_module "$fleet$i" >modules/hello/hello.swift
    timed "$work/$fleet.txt" "$hot" deploy --etcd "$urls" --fleet "$fleet"
  done
done
# Where a 128-node deploy's time goes on this machine: the CPU time of each
# kind of process over one more deploy (utime + stime, with the children
# each has reaped: a node's trial children count as the node's), against
# the wall time and the two cores.
ticks() {
  total=0
  for pid in "$@"; do
    used=$(awk '{ i = index($0, ") "); split(substr($0, i + 2), f, " "); print f[12] + f[13] + f[14] + f[15] }' "/proc/$pid/stat" 2>/dev/null || echo 0)
    total=$((total + used))
  done
  echo "$total"
}
pids_of() { for pidfile in $(find .hot -name "$1" 2>/dev/null); do cat "$pidfile"; done; }
nodes=$(pids_of node.pid)
followers=$(pids_of follower.pid)
supervisors=$(pids_of supervisor.pid)
hz=$(getconf CLK_TCK)
before_etcd=$(ticks $etcd_pids); before_nodes=$(ticks $nodes); before_followers=$(ticks $followers); before_supervisors=$(ticks $supervisors)
hello_module "profiled" >modules/hello/hello.swift
t0=$(now)
/usr/bin/time -f "%U %S" -o "$work/coordinator.txt" "$hot" deploy --etcd "$urls" --fleet big >/dev/null
t1=$(now)
profiled_wall=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f", b - a }')
cpu() { awk -v a="$1" -v b="$2" -v hz="$hz" 'BEGIN { printf "%.3f", (b - a) / hz }'; }
cpu_etcd=$(cpu "$before_etcd" "$(ticks $etcd_pids)")
cpu_nodes=$(cpu "$before_nodes" "$(ticks $nodes)")
cpu_followers=$(cpu "$before_followers" "$(ticks $followers)")
cpu_supervisors=$(cpu "$before_supervisors" "$(ticks $supervisors)")
cpu_coordinator=$(awk '{ printf "%.3f", $1 + $2 }' "$work/coordinator.txt")
cpu_total=$(awk -v a="$cpu_etcd" -v b="$cpu_nodes" -v c="$cpu_followers" -v d="$cpu_supervisors" -v e="$cpu_coordinator" 'BEGIN { printf "%.3f", a + b + c + d + e }')
cpu_floor=$(awk -v t="$cpu_total" 'BEGIN { printf "%.3f", t / 2 }')

# The project's newest build is now the fleet of one's: a node that joins
# the big fleet boots it, and must then take big's committed release from etcd.
hello_module "elsewhere" >modules/hello/hello.swift
quiet "$hot" deploy --etcd "$urls" --fleet one
one=$(median <"$work/one.txt")
big=$(median <"$work/big.txt")
deploy_ratio=$(ratio "$big" "$one")
# Every node of the big fleet answers with the last deploy's change (the profiled one).
for node in n001 "$(printf 'n%03d' "$size")"; do
  answer=$("$hot" call hello:greet x --node "$node")
  [ "$answer" = "\"Hello profiled, x!\"" ] || fail "node $node answers $answer after the deploys"
done

# A node that joins: `hot start --etcd` returns once it runs the committed
# release; against a node started with no fleet, alternating.
: >"$work/join.txt"
: >"$work/plain.txt"
i=0
while [ "$i" -lt "$runs" ]; do
  i=$((i + 1))
  t0=$(now)
  quiet "$hot" start --node "joiner$i" --etcd "$urls" --fleet big
  answer=$("$hot" call hello:greet x --node "joiner$i")
  t1=$(now)
  [ "$answer" = "\"Hello profiled, x!\"" ] || fail "the joining node answers $answer, not the committed release"
  awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.6f\n", b - a }' >>"$work/join.txt"
  t0=$(now)
  quiet "$hot" start --node "plain$i"
  "$hot" call hello:greet x --node "plain$i" >/dev/null
  t1=$(now)
  awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.6f\n", b - a }' >>"$work/plain.txt"
done
join=$(median <"$work/join.txt")
plain=$(median <"$work/plain.txt")
join_extra=$(awk -v a="$join" -v b="$plain" 'BEGIN { printf "%.3f", a - b }')

{
  echo "etcd_deploy_ratio $deploy_ratio"
  echo "etcd_deploy_cpu_floor_seconds $cpu_floor"
  echo "etcd_join_extra_seconds $join_extra"
} >>"$summary"

cat <<MD
## A fleet through etcd (figure 17)

\`scripts/bench/fleet-etcd.sh\`: a 3-member etcd cluster (Debian's etcd-server) on loopback,
$size nodes following the fleet \`big\` and one node following the fleet \`one\`, every node
with its follower beside it, all on this machine (starting the $size took $(sec "$start_time")).
Each deploy is a fresh one-line change of the hello module, so each includes one compile;
medians of $runs runs a fleet, alternating.

| | median |
| --- | --- |
| \`hot deploy --etcd URLS --fleet one\` (1 node) | $(sec "$one") |
| \`hot deploy --etcd URLS --fleet big\` ($size nodes) | $(sec "$big") |
| **ratio** | **$deploy_ratio** (target at most 2.5) |
| a node joining the $size-node fleet: \`hot start --etcd\` to its first answer from the committed release | $(sec "$join") |
| a node that follows no fleet: \`hot start\` to its first answer | $(sec "$plain") |
| **what joining adds** | **$(sec "$join_extra")** (target at most 1 s) |

Where one more $size-node deploy's time went ($(sec "$profiled_wall") of wall time): CPU time of each
kind of process, from /proc (a node's includes the trial children it reaped), and
\`/usr/bin/time\` for \`hot deploy\` itself (the coordinator, with its compile):

| processes | CPU |
| --- | --- |
| the 3 etcd members | $(sec "$cpu_etcd") |
| the $size followers | $(sec "$cpu_followers") |
| the $size nodes, with their trial children | $(sec "$cpu_nodes") |
| their supervisors | $(sec "$cpu_supervisors") |
| \`hot deploy\` | $(sec "$cpu_coordinator") |
| **all, over the 2 cores** | **$(sec "$cpu_floor")** of CPU a core |
MD
