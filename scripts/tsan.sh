#!/usr/bin/env bash
# Runs the reload stress tests and the lock's own built under ThreadSanitizer
# (`make tsan`).
# The TSan-built test binary has, now and then, never exited after its last
# test, stuck in libdispatch's exit path with every test passed: the run is
# bounded, and a run cut at the bound counts only when Swift Testing's own
# closing line says every test passed. Whatever is left of it is ended.
set -u -o pipefail
scratch="$1"
swift="${SWIFT:-swift}"
log=$(mktemp)
trap 'rm -f "$log"; pkill -f "$scratch/.*HotPackageTests.xctest" 2>/dev/null || true' EXIT
# Line-buffered, so that a run cut at the bound still shows how far it got.
TSAN_OPTIONS=halt_on_error=1 timeout --kill-after=10 300 stdbuf -oL -eL "$swift" test --skip-build --disable-xctest --sanitize=thread -Xswiftc -DHOT_TSAN \
  --scratch-path "$scratch" --filter 'ReloadStressTests|InFlightStressTests|LockedTests' 2>&1 | tee "$log"
status=$?
if [ "$status" -eq 124 ] || [ "$status" -eq 137 ]; then
  if grep -q 'Test run with [0-9]* tests* in [0-9]* suites* passed' "$log"; then
    echo "tsan: every test passed; the test binary did not exit within 300 s and was ended"
    exit 0
  fi
fi
exit "$status"
