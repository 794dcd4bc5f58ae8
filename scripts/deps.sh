#!/bin/sh
# Installs the system packages the build needs, only when they are missing.
# `deps.sh test` adds what the tests use besides: sshd for the ssh transport
# test, strace to prove that no git process is ever started, PostgreSQL's
# server for the test of an app that keeps its rows there, valgrind for the
# counted figures (scripts/counts.sh), etcd's server for the fleets that
# deploy through it (EtcdCluster, a 3-member cluster on loopback), and
# iproute2's ip for the partition of a node in a network namespace.
set -eu
missing=""
pkg-config --exists libgit2 2>/dev/null || missing="$missing libgit2-dev pkg-config"
if [ "${1:-}" = "test" ]; then
  [ -x /usr/sbin/sshd ] || missing="$missing openssh-server"
  command -v ssh >/dev/null 2>&1 || missing="$missing openssh-client"
  command -v strace >/dev/null 2>&1 || missing="$missing strace"
  ls /usr/lib/postgresql/*/bin/postgres >/dev/null 2>&1 || missing="$missing postgresql"
  command -v valgrind >/dev/null 2>&1 || missing="$missing valgrind"
  [ -x /usr/bin/etcd ] || missing="$missing etcd-server"
  [ -x /usr/sbin/ip ] || [ -x /sbin/ip ] || [ -x /usr/bin/ip ] || [ -x /bin/ip ] || missing="$missing iproute2"
fi
[ -z "$missing" ] && exit 0
echo "installing:$missing"
if [ "$(id -u)" -eq 0 ]; then sudo=""; else sudo="sudo"; fi
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
# shellcheck disable=SC2086
$sudo apt-get install -y -qq --no-install-recommends $missing >/dev/null
