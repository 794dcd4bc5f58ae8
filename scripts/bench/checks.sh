#!/bin/sh
# Figure 14: what hot build's checks (docs/ARCHITECTURE.md, "Build checks")
# cost: swift-syntax's parser over the files of the modules a build compiles.
# `hot build --json` reports the checks' own time ("checks": files parsed and
# seconds) beside each module's compile time ("seconds"), measured in the same
# process, so the two are compared within one run:
#   - a one-module build: a one-line change to the hello module of `hot init`,
#     then `hot build --json` (the check parses one file; the module compiles);
#   - a no-op `hot build --json` of 50 modules built before (nothing parsed);
#   - a no-op `hot build --strict --json` of the same, which checks the
#     modules it finds built too (50 files parsed).
#
# Usage: scripts/bench/checks.sh BINDIR
#   BINDIR: a build folder holding hot and hotnode (and Modules/Hot.swiftmodule),
#   e.g. ~/.cache/hot-bench/benchmarks/release after `make bench`'s build. A debug build
#   works too, with a parser many times slower than in release.
# Prints a Markdown section on stdout; progress on stderr. Runs: BENCH_CHECK_RUNS (10);
# modules of the no-op project: BENCH_CHECK_MODULES (50).
set -eu

if [ $# -ne 1 ]; then
  echo "usage: $0 BINDIR (a build folder holding hot and hotnode)" >&2
  exit 2
fi
bin=$(cd "$1" && pwd -P)
hot="$bin/hot"
[ -x "$hot" ] || { echo "checks.sh: $hot is missing; build hot first" >&2; exit 2; }
runs=${BENCH_CHECK_RUNS:-10}
count=${BENCH_CHECK_MODULES:-50}

work=$(mktemp -d /tmp/hot-checks.XXXXXX)
trap 'rm -rf "$work"' EXIT
trap 'exit 130' INT TERM

started=$(date +%s)
log() { echo "checks.sh: [$(($(date +%s) - started)) s] $*" >&2; }
. "$(dirname "$0")/lib.sh"

# Fields of the JSON `hot build --json` printed (on stdin), read with sed
# once spaces and newlines are gone: hot's JSON has its keys sorted, so the
# top level's "checks" holds "files" then "seconds", and a module's "seconds"
# comes right after its "name". Seconds are written out without an exponent
# (Swift writes 1.5e-05), so that sort -n orders them.
compact() { tr -d ' \n'; }
plain() { awk '{ printf "%.6f\n", $1 + 0 }'; }
checks_files() { compact | sed -n 's/.*"checks":{"files":\([0-9]*\),.*/\1/p'; }
checks_seconds() { compact | sed -n 's/.*"checks":{"files":[0-9]*,"seconds":\([0-9.eE+-]*\)}.*/\1/p' | plain; }
module_seconds() { compact | sed -n "s/.*\"name\":\"$1\",\"seconds\":\\([0-9.eE+-]*\\),.*/\\1/p" | plain; }

# ---------------------------------------------------------------------------
# A one-module build: the check of its one file, beside its compile.
# ---------------------------------------------------------------------------
log "one-module build ($runs runs)"
cd "$work"
quiet "$hot" init one
cd one
quiet "$hot" build
for f in one_check one_compile one_total; do : >"$work/$f.txt"; done
i=0
while [ "$i" -lt "$runs" ]; do
  i=$((i + 1))
  hello_module "c$i" >modules/hello/hello.swift
  timed "$work/one_total.txt" "$hot" build --json
  [ "$(checks_files <"$work/out")" = 1 ] || fail "the one-module build did not parse one file: $(cat "$work/out")"
  checks_seconds <"$work/out" >>"$work/one_check.txt"
  module_seconds hello <"$work/out" >>"$work/one_compile.txt"
done
one_check=$(median <"$work/one_check.txt")
one_compile=$(median <"$work/one_compile.txt")
one_total=$(median <"$work/one_total.txt")
one_ratio=$(ratio "$one_check" "$one_compile")

# ---------------------------------------------------------------------------
# No-op builds of $count modules: plain (parses nothing) and strict (parses all).
# ---------------------------------------------------------------------------
log "no-op builds of $count modules ($runs runs each), after building them once"
mkdir -p "$work/many/modules"
cd "$work/many"
printf '{\n  "name": "many",\n  "modules": "modules"\n}\n' >hot.json
printf '.hot/\n' >.gitignore
m=0
while [ "$m" -lt "$count" ]; do
  name=$(printf 'm%02d' "$m")
  mkdir -p "modules/$name"
  hello_module "$name" >"modules/$name/$name.swift"
  m=$((m + 1))
done
git init -q . && git add -A && git_commit -m "$count modules"
quiet "$hot" build
for f in noop_check noop_total strict_check strict_total; do : >"$work/$f.txt"; done
i=0
while [ "$i" -lt "$runs" ]; do
  i=$((i + 1))
  timed "$work/noop_total.txt" "$hot" build --json
  [ "$(checks_files <"$work/out")" = 0 ] || fail "a no-op build parsed files: $(cat "$work/out")"
  checks_seconds <"$work/out" >>"$work/noop_check.txt"
  timed "$work/strict_total.txt" "$hot" build --strict --json
  [ "$(checks_files <"$work/out")" = "$count" ] || fail "a strict no-op build did not parse $count files: $(cat "$work/out")"
  checks_seconds <"$work/out" >>"$work/strict_check.txt"
done
noop_check=$(median <"$work/noop_check.txt")
noop_total=$(median <"$work/noop_total.txt")
strict_check=$(median <"$work/strict_check.txt")
strict_total=$(median <"$work/strict_total.txt")
per_file=$(awk -v s="$strict_check" -v n="$count" 'BEGIN { printf "%.6f", s / n }')

# The figures the targets table of BENCHMARKS.md is made from, for scripts/bench.sh.
if [ -n "${BENCH_SUMMARY:-}" ]; then
  {
    echo "check_one_ratio $one_ratio"
    echo "check_one_ms $(awk -v x="$one_check" 'BEGIN { printf "%.2f", x * 1000 }')"
    echo "check_compile_ms $(awk -v x="$one_compile" 'BEGIN { printf "%.0f", x * 1000 }')"
    echo "check_noop_ms $(awk -v x="$noop_check" 'BEGIN { printf "%.2f", x * 1000 }')"
    echo "check_strict_noop_ms $(awk -v x="$strict_check" 'BEGIN { printf "%.1f", x * 1000 }')"
  } >>"$BENCH_SUMMARY"
fi

cores=$(nproc)
swift_version=$(swiftc --version 2>&1 | sed -n 's/.*Swift version \([0-9.]*\).*/\1/p' | head -n 1)
# Sub-millisecond times keep two decimals.
fine() { awk -v x="$1" 'BEGIN { printf "%.2f ms", x * 1000 }'; }
cat <<MD
## Build checks

Measured by \`scripts/bench/checks.sh\` on $(date -u +%Y-%m-%d), $cores cores ($(uname -m)), Swift $swift_version,
hot from \`$(basename "$(dirname "$bin")")/$(basename "$bin")\`; medians of $runs runs. The checks' time and each
module's compile time are what \`hot build --json\` reports (\`checks.seconds\`, a module's
\`seconds\`), measured inside the same \`hot build\`: reading and parsing the files with
swift-syntax and walking their trees, against the module's frontend and link.

| what | command | checks | beside |
| --- | --- | --- | --- |
| one-module build: the hello module of \`hot init\` after a one-line change | \`hot build --json\` | $(fine "$one_check") (1 file) | its compile $(ms "$one_compile"), the whole build $(ms "$one_total") |
| **checks / compile** | | **$one_ratio** (target at most 0.05: $(meets "$one_ratio" 0.05)) | |
| no-op build of $count modules | \`hot build --json\` | $(fine "$noop_check") (0 files) | the whole build $(ms "$noop_total") |
| no-op strict build of the same (checks the $count built modules too) | \`hot build --strict --json\` | $(fine "$strict_check") ($count files, $(fine "$per_file") each) | the whole build $(ms "$strict_total") |
MD
