#!/bin/sh
# Installs the system packages the build needs, only when they are missing.
set -eu
missing=""
pkg-config --exists libgit2 2>/dev/null || missing="$missing libgit2-dev pkg-config"
[ -z "$missing" ] && exit 0
echo "installing:$missing"
if [ "$(id -u)" -eq 0 ]; then sudo=""; else sudo="sudo"; fi
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
# shellcheck disable=SC2086
$sudo apt-get install -y -qq $missing >/dev/null
