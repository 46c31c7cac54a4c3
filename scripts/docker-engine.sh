#!/usr/bin/env bash
# Brings up a local Docker engine and the debian:trixie-slim base image (see docs: nothing can be pulled here).
# Idempotent: every step is skipped when its result is already there.
#   scripts/docker-engine.sh up     install, start dockerd if none answers, import the base image
#   scripts/docker-engine.sh down   stop the dockerd this script started (recorded in the pid file)
set -euo pipefail

state_dir=${GMAIL_RELAY_ENGINE_DIR:-/tmp/gmail-relay-engine}
pid_file="$state_dir/dockerd.pid"
base_image=debian:trixie-slim
mkdir -p "$state_dir"

log() { printf '[docker-engine] %s\n' "$*" >&2; }

install_packages() {
  local missing=()
  command -v dockerd >/dev/null || missing+=(docker.io)
  command -v debootstrap >/dev/null || missing+=(debootstrap)
  command -v openssl >/dev/null || missing+=(openssl)
  if ((${#missing[@]})); then
    log "installing ${missing[*]}"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
  fi
}

start_daemon() {
  if docker info >/dev/null 2>&1; then
    log "an engine already answers"
    return
  fi
  log "starting dockerd (host networking only)"
  # No iptables or bridge: only loopback/host networking is allowed on these machines.
  nohup dockerd --iptables=false --ip6tables=false --bridge=none \
    >"$state_dir/dockerd.log" 2>&1 &
  echo $! >"$pid_file"
  for _ in $(seq 1 60); do
    docker info >/dev/null 2>&1 && return
    sleep 0.5
  done
  log "dockerd did not answer within 30 s; its log:"
  tail -20 "$state_dir/dockerd.log" >&2
  exit 1
}

import_base_image() {
  if docker image inspect "$base_image" >/dev/null 2>&1; then
    log "$base_image is present"
    return
  fi
  local rootfs="$state_dir/rootfs"
  log "making $base_image with debootstrap (about 30 s)"
  rm -rf "$rootfs"
  debootstrap --variant=minbase trixie "$rootfs" >"$state_dir/debootstrap.log" 2>&1 \
    || { tail -20 "$state_dir/debootstrap.log" >&2; exit 1; }
  # Same cleanup as the official slim image: no apt lists or caches in the base layer.
  rm -rf "$rootfs"/var/lib/apt/lists/* "$rootfs"/var/cache/apt/*.bin "$rootfs"/var/cache/apt/archives/*.deb
  tar -C "$rootfs" -c . | docker import - "$base_image" >/dev/null
  rm -rf "$rootfs"
}

stop_daemon() {
  [[ -f $pid_file ]] || { log "no dockerd started by this script"; return; }
  local pid
  pid=$(cat "$pid_file")
  if kill -0 "$pid" 2>/dev/null; then
    log "stopping dockerd ($pid)"
    kill "$pid"
    for _ in $(seq 1 40); do kill -0 "$pid" 2>/dev/null || break; sleep 0.5; done
  fi
  rm -f "$pid_file"
}

case "${1:-up}" in
  up) install_packages; start_daemon; import_base_image ;;
  down) stop_daemon ;;
  *) echo "usage: $0 up|down" >&2; exit 64 ;;
esac
