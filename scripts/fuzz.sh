#!/bin/sh
# Fuzzes the control protocol: the frame decoder fed in pieces, the term
# codec, requests and responses, both sides of the handshake and the
# session's MAC check (Fuzz/HotWireFuzz). Built as a SwiftPM executable with
# libFuzzer and AddressSanitizer in a build folder of its own, then run for
# FUZZ_SECONDS (default 60).
#
#   FUZZ_SECONDS  how long to fuzz (default 60)
#   FUZZ_BUILD    the build folder (default .build-fuzz)
#   FUZZ_CORPUS   the corpus kept between runs (default $FUZZ_BUILD/corpus)
#   FUZZ_JOBS     parallel fuzzing processes (default 1)
#   FUZZ_ARGS     more libFuzzer flags
#   SWIFT         the swift executable (default swift)
#
# A crash (a trap, an ASan report, a violated protocol property) is saved as
# $FUZZ_BUILD/artifacts/crash-<sha1>; replay it with
#   .build-fuzz/release/HotWireFuzz .build-fuzz/artifacts/crash-<sha1>
# The exit status is libFuzzer's: 0 when nothing was found.
set -eu
cd "$(dirname "$0")/.."

SWIFT=${SWIFT:-swift}
FUZZ_SECONDS=${FUZZ_SECONDS:-60}
FUZZ_BUILD=${FUZZ_BUILD:-.build-fuzz}
FUZZ_CORPUS=${FUZZ_CORPUS:-$FUZZ_BUILD/corpus}
FUZZ_JOBS=${FUZZ_JOBS:-1}
FUZZ_ARGS=${FUZZ_ARGS:-}
ARTIFACTS=$FUZZ_BUILD/artifacts
SEEDS=$FUZZ_BUILD/seeds

# --sanitize=fuzzer tells SwiftPM that libFuzzer supplies main (so it does
# not rename the entry point) and instruments the C code for coverage. swiftc
# keeps only the last of several -sanitize= flags, so the Swift code gets
# both sanitizers through one -Xswiftc flag placed after SwiftPM's own.
HOT_FUZZ=1 "$SWIFT" build -c release --sanitize=fuzzer \
    -Xswiftc -sanitize=fuzzer,address -Xswiftc -g \
    --scratch-path "$FUZZ_BUILD" --product HotWireFuzz
FUZZER=$FUZZ_BUILD/release/HotWireFuzz

mkdir -p "$FUZZ_CORPUS" "$ARTIFACTS" "$SEEDS"
# The seeds: real traffic of each mode, written by the target itself.
HOT_FUZZ_SEEDS=$SEEDS SWIFT_BACKTRACE=enable=no "$FUZZER" -runs=0 "$SEEDS" >/dev/null 2>&1 || true

set -- "$FUZZER" "$FUZZ_CORPUS" "$SEEDS" \
    -dict=Fuzz/protocol.dict \
    -max_total_time="$FUZZ_SECONDS" \
    -max_len=8192 -timeout=10 -rss_limit_mb=2048 \
    -artifact_prefix="$ARTIFACTS/" -print_final_stats=1
if [ "$FUZZ_JOBS" -gt 1 ]; then
    set -- "$@" -jobs="$FUZZ_JOBS" -workers="$FUZZ_JOBS"
fi
# shellcheck disable=SC2086
set -- "$@" $FUZZ_ARGS
echo "fuzzing for $FUZZ_SECONDS s: $*"
# Swift keeps its globals until exit: leaks at exit are not findings. A
# trap is reported by libFuzzer; Swift's own backtracer would only hold the
# run up.
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=0}
export SWIFT_BACKTRACE=enable=no
exec "$@"
