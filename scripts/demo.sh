#!/bin/sh
# The main job, shown: a new project, a node started, a module changed and
# hot-deployed into the running node, the new behaviour called.
set -eu
bin=$(cd "$1" && pwd)
hot="$bin/hot"
dir=$(mktemp -d /tmp/hot-demo.XXXXXX)
cleanup() {
  (cd "$dir/shop" 2>/dev/null && "$hot" stop >/dev/null 2>&1) || true
  rm -rf "$dir"
}
trap cleanup EXIT INT TERM

step() { printf '\n\033[1m$ %s\033[0m\n' "$*"; }
run() { step "$*"; "$@"; }

cd "$dir"
run "$hot" init shop
cd shop
run "$hot" start
run "$hot" call hello:greet '"bob"'
step "edit modules/hello/hello.swift: greet now says Welcome back"
sed -i 's/"Hello, \\(name)!"/"Welcome back, \\(name)! (served by new code, same process)"/' modules/hello/hello.swift
grep -n 'Welcome' modules/hello/hello.swift
pid_before=$(cat .hot/node.pid)
run "$hot" deploy
run "$hot" call hello:greet '"bob"'
run "$hot" status
pid_after=$(cat .hot/node.pid)
if [ "$pid_before" = "$pid_after" ]; then
  printf '\nThe node kept running (pid %s): new code, no restart.\n' "$pid_after"
else
  echo "the node restarted: that is a failure" >&2
  exit 1
fi
run "$hot" stop
