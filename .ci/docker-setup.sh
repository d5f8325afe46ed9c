#!/usr/bin/env bash
# CI (as root, on a clean Debian machine): a running Docker engine and the local base
# image the Docker tests build on. Idempotent: each step is skipped when already done.
set -euo pipefail
cd "$(dirname "$0")/.."
export DEBIAN_FRONTEND=noninteractive

need=()
command -v dockerd >/dev/null || need+=(docker.io)
command -v debootstrap >/dev/null || need+=(debootstrap)
if [ ${#need[@]} -gt 0 ]; then
  echo "installing ${need[*]}"
  apt-get update -qq
  apt-get install -y -qq "${need[@]}" >/dev/null
fi

wait_for_engine() {
  for _ in $(seq 1 60); do
    docker info >/dev/null 2>&1 && return 0
    kill -0 "$1" 2>/dev/null || return 1
    sleep 1
  done
  return 1
}

if ! docker info >/dev/null 2>&1; then
  echo "starting dockerd (log: /tmp/dockerd.log)"
  nohup dockerd >/tmp/dockerd.log 2>&1 &
  pid=$!
  if ! wait_for_engine "$pid"; then
    # Inside a confined CI sandbox iptables may be unavailable; the tests' containers use
    # no network, so the engine can do without it.
    kill "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
    echo "dockerd did not start; retrying without iptables"
    nohup dockerd --iptables=false --ip-masq=false >>/tmp/dockerd.log 2>&1 &
    pid=$!
    wait_for_engine "$pid" || {
      tail -20 /tmp/dockerd.log >&2; echo "error: dockerd did not start" >&2; exit 1; }
  fi
fi
echo "docker engine $(docker version --format '{{.Server.Version}}') is up"

# No registry is reachable: the tests' base image comes from Debian's archive.
bash docker/build-local-base.sh autodl-base:bookworm
