#!/usr/bin/env bash
# rctl setup: idempotent. Installs what is missing (Debian's docker.io, redis-server, redis-tools,
# redis-sentinel), starts dockerd if no engine answers and waits for it, and, when the pinned
# official Redis image can be neither found nor pulled (no registry), builds a local one from
# Debian's redis-server binary and points rctl at it (~/.rctl/config.json).
set -euo pipefail

OFFICIAL_IMAGE="redis:7.2.5"   # keep in sync with DEFAULT_IMAGE in src/version.ts
LOCAL_REPO="rctl-local/redis"
RCTL_HOME="${RCTL_HOME:-$HOME/.rctl}"
say() { printf 'setup: %s\n' "$*"; }

SUDO=""
if [ "$(id -u)" != 0 ]; then
  if command -v sudo >/dev/null 2>&1; then SUDO="sudo"; else SUDO="__none__"; fi
fi
as_root() {
  if [ "$SUDO" = "__none__" ]; then say "need root (or sudo) to run: $*"; exit 5; fi
  $SUDO "$@"
}

# 1. Packages.
need=()
command -v redis-server >/dev/null 2>&1 || need+=(redis-server)
command -v redis-cli >/dev/null 2>&1 || need+=(redis-tools)
command -v redis-sentinel >/dev/null 2>&1 || need+=(redis-sentinel)
command -v dockerd >/dev/null 2>&1 || need+=(docker.io)
if [ ${#need[@]} -gt 0 ]; then
  say "installing ${need[*]}"
  as_root apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
fi
# Debian's packages may start a redis-server/redis-sentinel service on 6379/26379 where an init
# system runs; rctl's Sentinel layout wants those ports, so stop the packaged services.
for svc in redis-server redis-sentinel; do
  if command -v systemctl >/dev/null 2>&1 && systemctl is-active --quiet "$svc" 2>/dev/null; then
    as_root systemctl stop "$svc" || true
  fi
done

# 2. A Docker engine that answers.
engine_up() { timeout 5 docker info >/dev/null 2>&1; }
if ! engine_up; then
  say "starting dockerd"
  if command -v systemctl >/dev/null 2>&1 && systemctl list-unit-files docker.service >/dev/null 2>&1 && as_root systemctl start docker 2>/dev/null; then
    :
  else
    as_root bash -c 'nohup dockerd >/var/log/rctl-dockerd.log 2>&1 &'
  fi
  for _ in $(seq 1 60); do engine_up && break; sleep 0.5; done
  engine_up || { say "dockerd did not answer within 30 s; see /var/log/rctl-dockerd.log"; exit 5; }
fi

# 3. A Redis image.
write_image_config() {
  # Private like everything rctl creates there (records may hold a password): mode 0700 when new.
  [ -d "$RCTL_HOME" ] || mkdir -p -m 700 "$RCTL_HOME"
  node -e '
    const fs = require("fs"); const [file, image] = process.argv.slice(1);
    let cfg = {}; try { cfg = JSON.parse(fs.readFileSync(file, "utf8")); } catch {}
    cfg.image = image; fs.writeFileSync(file, JSON.stringify(cfg, null, 2) + "\n");
  ' "$RCTL_HOME/config.json" "$1"
  say "rctl will use image $1 ($RCTL_HOME/config.json; --image or RCTL_IMAGE override it)"
}
if [ -n "${RCTL_IMAGE:-}" ] && docker image inspect "$RCTL_IMAGE" >/dev/null 2>&1; then
  say "using RCTL_IMAGE=$RCTL_IMAGE"
elif docker image inspect "$OFFICIAL_IMAGE" >/dev/null 2>&1 || timeout 120 docker pull -q "$OFFICIAL_IMAGE" >/dev/null 2>&1; then
  say "image $OFFICIAL_IMAGE is present"
else
  version=$(redis-server --version | sed -n 's/.*v=\([0-9.]*\).*/\1/p')
  tag="$LOCAL_REPO:$version"
  if docker image inspect "$tag" >/dev/null 2>&1; then
    say "local image $tag is present"
  else
    say "no registry reachable: building $tag from Debian's redis-server $version"
    root=$(mktemp -d)
    trap 'rm -rf "$root"' EXIT
    mkdir -p "$root/usr/local/bin" "$root/data" "$root/tmp" "$root/etc"
    chmod 1777 "$root/tmp"
    cp -L "$(command -v redis-server)" "$root/usr/local/bin/redis-server"
    cp -L "$(command -v redis-cli)" "$root/usr/local/bin/redis-cli"
    ln -s redis-server "$root/usr/local/bin/redis-sentinel"
    for bin in "$(command -v redis-server)" "$(command -v redis-cli)"; do
      for lib in $(ldd "$bin" | grep -o '/[^ ]*'); do cp -L --parents "$lib" "$root"; done
    done
    printf 'root:x:0:0:root:/root:/bin/sh\n' >"$root/etc/passwd"
    printf 'root:x:0:\n' >"$root/etc/group"
    tar -C "$root" -c . | docker import \
      --change 'ENV PATH=/usr/local/bin:/usr/bin:/bin' \
      --change 'WORKDIR /data' \
      --change 'CMD ["redis-server"]' \
      --change "LABEL io.rctl.local-image=true io.rctl.redis-version=$version" \
      - "$tag" >/dev/null
    say "built $tag"
  fi
  write_image_config "$tag"
fi
say "ready"
