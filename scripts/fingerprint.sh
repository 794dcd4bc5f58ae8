#!/bin/sh
# Writes Sources/Hot/SDKFingerprint.swift: the hash of the SDK's sources and the
# compiler's version. A node refuses a module whose descriptor names another
# SDK or compiler, because the module was compiled against type layouts that
# may not be the node's. A test checks that the committed file is current.
set -eu
cd "$(dirname "$0")/.."
out=Sources/Hot/SDKFingerprint.swift
sum=$(ls Sources/Hot/*.swift | grep -v SDKFingerprint.swift | LC_ALL=C sort | xargs cat | sha256sum | cut -c1-16)
compiler=$(swiftc --version 2>&1 | sed -n 's/.*Swift version \([0-9][0-9.]*\).*/\1/p' | head -n 1)
new=$(printf '%s\n' \
  '// Written by scripts/fingerprint.sh from the SDK sources; do not edit.' \
  'extension HotSDK {' \
  '    /// A hash of the SDK sources this node or tool was built from.' \
  "    public static let fingerprint = \"$sum\"" \
  '    /// The Swift compiler version this node or tool was built with.' \
  "    public static let compiler = \"$compiler\"" \
  '}')
if [ ! -f "$out" ] || [ "$(cat "$out")" != "$new" ]; then
  printf '%s\n' "$new" > "$out"
  echo "fingerprint: SDK $sum, compiler $compiler"
fi
