#!/bin/sh
# CI stage for the compose cluster (issue 7), on a Debian machine with root, no systemd and no
# container registry (containers.md):
#   1. install Debian's docker.io, docker-compose and busybox-static (when missing)
#   2. build the workspace; start an engine by hand unless one already answers (its PID kept)
#   3. build the local base image (base-image.sh) and the rebound image (stage.sh + compose build)
#   4. bring the cluster up on an internal network (docker-compose.ci.yml): 2 login servers,
#      2 supernodes, REBOUND_CI_PEERS peers (default 10); wait until every peer is attached
#   5. reboot wave through the load generator's docker driver (mass-restart.mjs): SIGKILL half of
#      the peer containers at once, start them all at once; wait until every one is attached again
#   6. patch-tuesday through `rebound run --driver docker` from the host, on the cluster as it is
#      now (all attached again): its exit code is the check; report.json/html/junit.xml kept in
#      REBOUND_CI_DIR/patch-tuesday; the operator token read from the keys volume for its store read
#   7. always: save the containers' logs, `down -v`, stop the engine we started by its PID
# Every step has a time bound, and the whole stage REBOUND_CI_TIMEOUT_S (default 900 s).
# Outputs in REBOUND_CI_DIR (default ci-reports/docker): stage.log, dockerd.log, compose.log, summary.txt.
# Exit: 0 every check passed; 1 a check failed (peers not attached, the wave failed);
#       3 the set-up failed (install, engine, images, compose up); 2 bad usage.
set -u
root=$(cd "$(dirname "$0")/../.." && pwd)
peers=${REBOUND_CI_PEERS:-10}
budget_s=${REBOUND_CI_TIMEOUT_S:-900}
out=${REBOUND_CI_DIR:-$root/ci-reports/docker}
project=rebound-ci
base_image=localhost/rebound-node-base:22
node="$root/node_modules/.bin/node"
# Both compose implementations read these: every docker-compose call below is this project with the CI override.
export COMPOSE_PROJECT_NAME=$project COMPOSE_FILE="$root/docker-compose.yml:$root/docker-compose.ci.yml"
case "$peers$budget_s" in *[!0-9]*|'') echo "ci-stage: REBOUND_CI_PEERS and REBOUND_CI_TIMEOUT_S must be numbers" >&2; exit 2 ;; esac

mkdir -p "$out"
: > "$out/summary.txt"
: > "$out/stage.log"
deadline=$(( $(date +%s) + budget_s ))
engine_pid=""

say () { echo "ci-stage: $*" | tee -a "$out/summary.txt"; }

# run_step NAME BOUND_S CMD...: CMD with at most BOUND_S seconds, less if the stage's budget is
# nearly spent; its output appended to stage.log. Returns CMD's status (124 on timeout).
run_step () {
  name=$1 bound=$2
  shift 2
  left=$(( deadline - $(date +%s) ))
  if [ "$left" -lt "$bound" ]; then bound=$left; fi
  if [ "$bound" -le 0 ]; then say "$name: no time left in the ${budget_s} s budget"; return 124; fi
  started=$(date +%s)
  echo "== $name (at most $bound s)" >> "$out/stage.log"
  timeout "$bound" "$@" >> "$out/stage.log" 2>&1
  status=$?
  say "$name: $( [ $status -eq 0 ] && echo ok || echo "FAILED (status $status)" ) in $(( $(date +%s) - started )) s"
  return $status
}

teardown () {
  if command -v docker-compose >/dev/null && docker info >/dev/null 2>&1; then
    timeout 60 docker-compose logs --no-color > "$out/compose.log" 2>&1
    # Up to 3 tries: on a loaded machine the engine may still hold an endpoint of a container it
    # just removed, and then refuses to remove the network ("has active endpoints").
    tries=0
    until timeout 120 docker-compose down -v --remove-orphans >> "$out/stage.log" 2>&1; do
      tries=$((tries + 1))
      if [ $tries -ge 3 ]; then say "teardown: compose down failed $tries times (stage.log)"; break; fi
      sleep 5
    done
  fi
  if [ -n "$engine_pid" ]; then
    # Our engine only, by its PID: SIGTERM, then SIGKILL if it has not exited within 30 s.
    kill -TERM "$engine_pid" 2>/dev/null
    i=0
    while kill -0 "$engine_pid" 2>/dev/null && [ $i -lt 30 ]; do sleep 1; i=$((i + 1)); done
    if kill -0 "$engine_pid" 2>/dev/null; then kill -KILL "$engine_pid"; say "teardown: engine $engine_pid killed after 30 s"; fi
    say "teardown: engine $engine_pid stopped"
  fi
}
trap teardown EXIT
trap 'exit 130' INT TERM

setup_failed () { say "set-up failed at: $1"; exit 3; }

# Runs in this shell (not under run_step's timeout) so that engine_pid is ours; bounded by its loop.
start_engine () {
  if docker info >/dev/null 2>&1; then say "engine: one already answers; using it (it will not be stopped)"; return 0; fi
  dockerd > "$out/dockerd.log" 2>&1 &
  engine_pid=$!
  echo "$engine_pid" > "$out/engine.pid"
  i=0
  while ! docker info >/dev/null 2>&1; do
    i=$((i + 1))
    # 30 s: it answers after ~1 s on this kind of machine (containers.md).
    if [ $i -gt 60 ] || ! kill -0 "$engine_pid" 2>/dev/null; then return 1; fi
    sleep 0.5
  done
  say "engine: dockerd pid $engine_pid answers"
}

peer_ips () {
  docker ps -q --filter "label=com.docker.compose.project=$project" --filter label=io.rebound.role=peer |
    xargs -r docker inspect -f '{{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}'
}

if ! command -v dockerd >/dev/null || ! command -v docker-compose >/dev/null || [ ! -x /bin/busybox ]; then
  run_step install 300 sh -c 'apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends docker.io docker-compose busybox-static' ||
    setup_failed install
fi
run_step build 300 sh -c "cd '$root' && npm run build --silent" || setup_failed build
start_engine || setup_failed engine
run_step base-image 180 "$root/scripts/docker/base-image.sh" "$base_image" || setup_failed base-image
run_step stage 180 "$root/scripts/docker/stage.sh" || setup_failed stage
export BASE_IMAGE="$base_image"
run_step image 300 docker-compose build keys || setup_failed image
# A run that was cut short may have left the project behind: start from fresh keys and volumes.
run_step clean 120 docker-compose down -v --remove-orphans || setup_failed clean
up_started=$(date +%s)
run_step compose-up 300 docker-compose up -d --scale "peer=$peers" || setup_failed compose-up

ips=$(peer_ips)
count=$(echo "$ips" | grep -c .)
[ "$count" -eq "$peers" ] || { say "expected $peers peer containers, found $count"; exit 1; }
run_step all-attached 180 "$node" "$root/scripts/docker/wait-attached.mjs" --timeout-s 170 $ips || exit 1
say "cluster: $peers peers attached $(( $(date +%s) - up_started )) s after compose up began"

run_step mass-restart 120 sh -c "'$node' '$root/scripts/docker/mass-restart.mjs' --project $project --fraction 0.5 > '$out/mass-restart.txt'" || {
  cat "$out/mass-restart.txt" >> "$out/summary.txt"; exit 1; }
grep '^mass-restart:' "$out/mass-restart.txt" | tee -a "$out/summary.txt"
victims=$(awk '$1 == "victim" { print $3 }' "$out/mass-restart.txt")
run_step victims-attached 150 "$node" "$root/scripts/docker/wait-attached.mjs" --timeout-s 140 $victims || exit 1

# The history check reads the store with the operator token: the keys service wrote it in the keys
# volume, which login-1 mounts. Exported, not passed as an argument, so it shows in no `ps`.
REBOUND_OPERATOR_TOKEN=$(timeout 30 docker-compose exec -T login-1 cat /keys/operator-token) ||
  say "patch-tuesday: operator token not readable; the history check will not read the store"
export REBOUND_OPERATOR_TOKEN
rm -rf "$out/patch-tuesday"
# Bounded by rebound itself too: 5 s warm-up, restarts within 5 s, recovery observed for at most 90 s.
run_step patch-tuesday 300 "$node" "$root/packages/loadgen/dist/src/main.js" run patch-tuesday --driver docker \
  --compose-project $project --warmup-ms 5000 --reboot-window-ms 5000 --out "$out/patch-tuesday" --seed 7 || {
  tail -n 30 "$out/stage.log" >> "$out/summary.txt"; exit 1; }
say "PASS"
exit 0
