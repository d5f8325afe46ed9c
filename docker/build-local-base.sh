#!/usr/bin/env bash
# Build a Debian bookworm base image with Python 3.11 from Debian's own archive, without
# any image registry: debootstrap a minimal root file system, then `docker import` it.
# Used where Docker Hub is unreachable (CI, air-gapped machines); elsewhere the
# Dockerfile's default base (python:3.11-slim) is pulled as usual.
#
#   docker/build-local-base.sh [TAG]          (default TAG: autodl-base:bookworm)
#
# Needs root, debootstrap and a running Docker engine. Skips the work when TAG exists
# (pass FORCE=1 to rebuild). MIRROR overrides the Debian mirror.
set -euo pipefail

TAG="${1:-autodl-base:bookworm}"
MIRROR="${MIRROR:-http://deb.debian.org/debian}"
SUITE=bookworm

if [ "${FORCE:-0}" != 1 ] && docker image inspect "$TAG" >/dev/null 2>&1; then
  echo "base image $TAG exists; skipping (FORCE=1 rebuilds)"
  exit 0
fi
command -v debootstrap >/dev/null || { echo "error: debootstrap is not installed" >&2; exit 1; }

ROOTFS="$(mktemp -d /tmp/autodl-rootfs.XXXXXX)"
trap 'rm -rf "$ROOTFS"' EXIT
start=$(date +%s)
echo "debootstrap $SUITE (minbase) into $ROOTFS from $MIRROR"
debootstrap --variant=minbase \
  --include=python3,python3-venv,python3-pip,ca-certificates \
  "$SUITE" "$ROOTFS" "$MIRROR" >"$ROOTFS.log" 2>&1 || {
    tail -30 "$ROOTFS.log" >&2; echo "error: debootstrap failed (log: $ROOTFS.log)" >&2; exit 1; }
rm -f "$ROOTFS.log"

# Lean: package lists, caches and docs are not needed at run time.
chroot "$ROOTFS" apt-get clean
rm -rf "$ROOTFS"/var/lib/apt/lists/* "$ROOTFS"/var/cache/apt/* \
       "$ROOTFS"/usr/share/doc/* "$ROOTFS"/usr/share/man/* "$ROOTFS"/usr/share/info/* \
       "$ROOTFS"/usr/share/locale/* "$ROOTFS"/tmp/*
# The bookworm archive keys ship in the image: apt works inside it when a mirror is reachable.
cat >"$ROOTFS/etc/apt/sources.list" <<SOURCES
deb $MIRROR $SUITE main
SOURCES

tar -C "$ROOTFS" -c . | docker import \
  --change 'ENV LANG=C.UTF-8 PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
  --change 'CMD ["python3"]' \
  - "$TAG" >/dev/null
echo "built $TAG in $(( $(date +%s) - start )) s: $(docker image inspect -f '{{.Size}}' "$TAG") bytes"
