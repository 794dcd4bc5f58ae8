# Helpers shared by the benchmark scripts under scripts/bench, sourced after
# the script sets $work (its temporary folder) and defines log (progress on stderr).

now() { date +%s.%N; }
median() { sort -n | awk '{ a[NR] = $1 } END { if (NR == 0) print "nan"; else if (NR % 2) print a[(NR + 1) / 2]; else print (a[NR / 2] + a[NR / 2 + 1]) / 2 }'; }
fail() { log "$*"; exit 1; }

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
