#!/bin/sh
# Entrypoint of the rebound image: the command names the program (docker-compose.yml).
#   rebound-bootstrap | rebound-node | rebound-swarm | rebound   the workspace's programs
#   rebound-keys      the compose cluster's one-shot key maker (make-keys.mjs)
#   healthcheck PATH [FIELD=VALUE...]   the services' health checks (healthcheck.mjs)
#   anything else     run as is (e.g. `sh` to look around)
# POSIX sh: it runs under Debian's dash (node:22-slim) and busybox (the local base image).
set -eu

APP=/app
# REBOUND_X_FROM_FILE=/path sets REBOUND_X to the file's content: compose passes the secrets and
# addresses that the keys service wrote to the shared volume this way, since environment values in
# a compose file are fixed before any container runs. (Not _FILE: rebound-bootstrap already has
# REBOUND_CLUSTER_KEY_FILE, a path it reads itself.)
load_from_files () {
  for name in $(env | sed -n 's/^\(REBOUND_[A-Z0-9_]*\)_FROM_FILE=.*$/\1/p'); do
    eval "path=\${${name}_FROM_FILE}"
    if ! value=$(cat "$path"); then
      echo "entrypoint: ${name}_FROM_FILE: cannot read $path" >&2
      exit 2
    fi
    export "$name=$value"
    unset "${name}_FROM_FILE"
  done
}

# The container's own address on its network: Docker and podman write "<address> <hostname>" into
# /etc/hosts. Every program binds one address (docs/interfaces.md) and dials from it, so a service
# that is not pinned to an address (the scaled peers) still listens where others can reach it.
container_ip () {
  awk -v name="$(cat /etc/hostname)" '$1 !~ /:/ { for (i = 2; i <= NF; i++) if ($i == name) { print $1; exit } }' /etc/hosts
}

# Unset when not found (no network): the program then says that --listen is required.
set_listen () {
  if [ -z "${REBOUND_LISTEN:-}" ]; then
    address=$(container_ip)
    if [ -n "$address" ]; then export REBOUND_LISTEN="$address"; fi
  fi
}

if [ $# -eq 0 ]; then set -- rebound --help; fi
program=$1
shift
load_from_files
case "$program" in
  rebound-bootstrap) set_listen; exec node "$APP/packages/bootstrap/dist/src/main.js" "$@" ;;
  rebound-node) set_listen; exec node "$APP/packages/node/dist/src/main.js" "$@" ;;
  # A swarm binds one address per member: give it --first-ip and --control-ip yourself.
  rebound-swarm) exec node "$APP/packages/node/dist/src/swarm/main.js" "$@" ;;
  rebound) exec node "$APP/packages/loadgen/dist/src/main.js" "$@" ;;
  healthcheck) set_listen; exec node "$APP/docker/healthcheck.mjs" "$@" ;;
  rebound-keys) exec node "$APP/docker/make-keys.mjs" "$@" ;;
  *) exec "$program" "$@" ;;
esac
