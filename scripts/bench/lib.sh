# Helpers shared by the benchmark scripts under scripts/bench, sourced after
# the script sets $work (its temporary folder) and defines log (progress on stderr).

now() { date +%s.%N; }

# The machine's benchmark cache: the bench apps and the Benchmarks package
# are built at fixed paths in it (HOT_BENCH_CACHE moves it).
bench_cache=${HOT_BENCH_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/hot-bench}

# cached_app FRAMEWORK: makes the app of `hot init --template FRAMEWORK` anew
# at one fixed path in the cache, with the .build the last run left there,
# and sets $app to it. The paths in SwiftPM's commands are then the same each
# run, so it finds the framework's packages built, in debug and in release,
# and builds them once on a machine rather than once a run (a new checkout of
# Hot rebuilds only Hot). Holds the app's lock (descriptor 9) until the
# script ends: a second run at the same time waits for the first. Needs
# $hot and $root.
cached_app() {
  mkdir -p "$bench_cache"
  exec 9>"$bench_cache/$1.lock"
  flock 9
  # Not named as the framework: the app's folder is its package's identity,
  # which must not be its dependency's.
  app="$bench_cache/$1-app"
  cached_app_build="$bench_cache/$1-app.build"
  rm -rf "$cached_app_build"
  [ ! -d "$app/.build" ] || mv "$app/.build" "$cached_app_build"
  rm -rf "$app"
  "$hot" init "$app" --template "$1" --hot-package "$root" >&2
  [ ! -d "$cached_app_build" ] || mv "$cached_app_build" "$app/.build"
}
median() { sort -n | awk '{ a[NR] = $1 } END { if (NR == 0) print "nan"; else if (NR % 2) print a[(NR + 1) / 2]; else print (a[NR / 2] + a[NR / 2 + 1]) / 2 }'; }
fail() { log "$*"; exit 1; }
# children_cpu FILE: CPU seconds (user and system) of the commands this shell
# ran and reaped, from the output of `times` written to FILE. `times` must run
# in the shell itself, not in a $(…) subshell, whose counts start at zero.
children_cpu() { sed -n 2p "$1" | awk '{ for (i = 1; i <= 2; i++) { split($i, t, /[ms]/); s += t[1] * 60 + t[2] } print s }'; }

# timed FILE COMMAND...: runs COMMAND with its output discarded, appends its
# wall time in seconds to FILE; a failing command stops the benchmark.
timed() {
  timed_out=$1
  shift
  timed_t0=$(now)
  if ! "$@" >"$work/out" 2>"$work/err"; then
    log "failed: $*"
    cat "$work/out" "$work/err" >&2
    exit 1
  fi
  timed_t1=$(now)
  awk -v a="$timed_t0" -v b="$timed_t1" 'BEGIN { printf "%.6f\n", b - a }' >>"$timed_out"
}
# quiet COMMAND...: runs COMMAND, showing its output only when it fails.
quiet() {
  if ! "$@" >"$work/out" 2>"$work/err"; then
    log "failed: $*"
    cat "$work/out" "$work/err" >&2
    exit 1
  fi
}
# Seconds with 3 decimals, milliseconds, and a ratio of two numbers.
sec() { awk -v x="$1" 'BEGIN { printf "%.3f s", x }'; }
ms() { awk -v x="$1" 'BEGIN { printf "%.0f ms", x * 1000 }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.3f", a / b; else print "nan" }'; }
# meets VALUE LIMIT: "yes" when VALUE <= LIMIT.
meets() { awk -v a="$1" -v b="$2" 'BEGIN { print (a <= b) ? "yes" : "no" }'; }

# wrk_summary FILE: wrk --latency's output in FILE as "p50_ms p99_ms
# requests_per_s non2xx socket_errors".
wrk_summary() {
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
  ' "$1"
}

# A commit by the benchmark, whatever git's configuration says.
git_commit() { git -c user.name=bench -c user.email=bench@example.invalid -c commit.gpgsign=false commit -q "$@"; }

# The hello module of `hot init`, its greeting tagged with $1: a one-line change
# (figures 3, 5 and 14).
hello_module() {
  cat <<EOF
import Hot

// A hot module: edit this file, run \`hot deploy\`, and the running node
// answers with the new code, without a restart.

let module = HotModule(exports: [
    .function("greet", greet),
])

func greet(_ name: String) -> String {
    "Hello $1, \\(name)!"
}
EOF
}
