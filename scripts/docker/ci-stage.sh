#!/bin/sh
# CI stage for the compose cluster (issue 7), on a Debian machine with root, no systemd and no
# container registry (containers.md). Blocking in .ci/run: a failure here fails CI.
#   1. install Debian's docker.io, docker-compose and busybox-static (when missing)
#   2. build the workspace; start an engine by hand unless one already answers (its PID kept)
#   3. build the local base image (base-image.sh) and the rebound image (stage.sh + compose build)
#   4. bring the cluster up on an internal network (docker-compose.ci.yml): 2 login servers,
#      2 supernodes, REBOUND_CI_PEERS peers (default 10); wait until every peer is attached
#   5. reboot wave through the load generator's docker driver (mass-restart.mjs): SIGKILL half of
#      the peer containers at once, start them all at once; wait until every one is attached again
#   6. scenarios through `rebound run --driver docker` from the host, each on a fresh cluster
#      (down -v, up: the history check judges a run against its own writes only), each one's exit
#      code a check, its report.json/html/junit.xml kept in REBOUND_CI_DIR/<name>, its figures in
#      summary.txt (figures.mjs); the operator token read from the keys volume for the store read:
#        patch-tuesday                    the cluster as step 5 left it (all attached again)
#        wipe-device                      kill 30% of the peers, empty their volumes, start them
#        freeze-network                   cut half the supernodes off the network for 8 s
#      A failed scenario does not stop the next: each says something of its own.
#   7. always (EXIT trap): save the containers' logs, remove wipe helpers left behind, `down -v`,
#      stop the engine we started by its PID
# Every step has a time bound, and the whole stage REBOUND_CI_TIMEOUT_S (default 900 s; .ci/run
# gives 420, and the stage takes ~3-4 min on a 2-core VM).
# Outputs in REBOUND_CI_DIR (default ci-reports/docker): stage.log, dockerd.log, compose.log, summary.txt.
# Exit: 0 every check passed; 1 a check failed (peers not attached, the wave or a scenario failed);
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
# nearly spent; its output appended to stage.log. Returns CMD's status (124 on timeout, 137 if it
# then ignored SIGTERM for 30 s).
run_step () {
  name=$1 bound=$2
  shift 2
  left=$(( deadline - $(date +%s) ))
  if [ "$left" -lt "$bound" ]; then bound=$left; fi
  if [ "$bound" -le 0 ]; then say "$name: no time left in the ${budget_s} s budget"; return 124; fi
  started=$(date +%s)
  echo "== $name (at most $bound s)" >> "$out/stage.log"
  # SIGTERM at the bound (rebound then stops gracefully and still writes its report), SIGKILL 30 s later.
  timeout -k 30 "$bound" "$@" >> "$out/stage.log" 2>&1
  status=$?
  case $status in
    0) verdict=ok ;;
    124|137) verdict="FAILED: out of time (its bound was $bound s; stage.log has its output)" ;;
    *) verdict="FAILED (status $status; stage.log has its output)" ;;
  esac
  say "$name: $verdict in $(( $(date +%s) - started )) s"
  return $status
}

teardown () {
  if command -v docker-compose >/dev/null && timeout 10 docker info >/dev/null 2>&1; then
    timeout 60 docker-compose logs --no-color > "$out/compose.log" 2>&1
    # A wipe's helper container (docker-wipe.ts) left by a run cut short would keep its volumes
    # in use, and `down -v` would then fail to remove them.
    timeout 30 docker ps -aq --filter label=io.rebound.helper --filter "label=io.rebound.project=$project" | xargs -r timeout 30 docker rm -f >> "$out/stage.log" 2>&1
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

# wait_attached STEP: every peer of the project attached (bounded), or the check fails.
wait_attached () {
  ips=$(peer_ips)
  count=$(echo "$ips" | grep -c .)
  [ "$count" -eq "$peers" ] || { say "$1: expected $peers peer containers, found $count"; return 1; }
  run_step "$1" 180 "$node" "$root/scripts/docker/wait-attached.mjs" --timeout-s 170 $ips
}

# fresh_cluster: the project again from nothing (new keys, empty volumes), every peer attached.
# A set-up failure, not a check: the scenarios after it cannot run.
fresh_cluster () {
  run_step "$1-down" 120 docker-compose down -v --remove-orphans || setup_failed "$1-down"
  run_step "$1-up" 300 docker-compose up -d --scale "peer=$peers" || setup_failed "$1-up"
  wait_attached "$1-attached" || setup_failed "$1-attached"
}

failed=""
# scenario NAME ARGS...: `rebound run ARGS --driver docker` on the project as it is now; its exit
# code is the check. Report in $out/NAME, its figures in summary.txt. Bounded by rebound itself
# too (each run's warm-up, observation and settle bounds) and by run_step's.
scenario () {
  name=$1
  shift
  # The history check reads the store with the operator token: the keys service wrote it in the
  # keys volume, which login-1 mounts. Exported, not passed as an argument, so it shows in no `ps`.
  REBOUND_OPERATOR_TOKEN=$(timeout 30 docker-compose exec -T login-1 cat /keys/operator-token) ||
    say "$name: operator token not readable; the history check will not read the store"
  export REBOUND_OPERATOR_TOKEN
  rm -rf "${out:?}/$name"
  if run_step "$name" 240 "$node" "$root/packages/loadgen/dist/src/main.js" run "$@" --driver docker --compose-project $project --out "$out/$name"; then
    status=0
  else
    status=1
    failed="$failed $name"
  fi
  timeout 10 "$node" "$root/scripts/docker/figures.mjs" "$out/$name/report.json" | tee -a "$out/summary.txt"
  [ $status -eq 0 ] || tail -n 30 "$out/stage.log" >> "$out/summary.txt"
}

wait_attached all-attached || exit 1
say "cluster: $peers peers attached $(( $(date +%s) - up_started )) s after compose up began"

run_step mass-restart 120 sh -c "'$node' '$root/scripts/docker/mass-restart.mjs' --project $project --fraction 0.5 --logs-dir '$out/mass-restart-logs' > '$out/mass-restart.txt'" || {
  cat "$out/mass-restart.txt" >> "$out/summary.txt"; exit 1; }
grep '^mass-restart:' "$out/mass-restart.txt" | tee -a "$out/summary.txt"
victims=$(awk '$1 == "victim" { print $3 }' "$out/mass-restart.txt")
run_step victims-attached 150 "$node" "$root/scripts/docker/wait-attached.mjs" --timeout-s 140 $victims || exit 1

# Short runs: 5 s warm-up, restarts within 5 s, recovery observed for at most 90 s (the default).
scenario patch-tuesday patch-tuesday --warmup-ms 5000 --reboot-window-ms 5000 --seed 7
fresh_cluster wipe-cluster
scenario wipe-device wipe-device --warmup-ms 5000 --reboot-window-ms 5000 --seed 8
fresh_cluster freeze-cluster
scenario freeze-network freeze --freeze-mode network --freeze-fraction 0.5 --freeze-ms 8000 --warmup-ms 5000 --seed 9

if [ -n "$failed" ]; then say "FAIL:$failed (reports in $out)"; exit 1; fi
say "PASS"
exit 0
