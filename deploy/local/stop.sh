#!/usr/bin/env bash
# Stops the local cluster: the running job (stop-with-savepoint, or cancel), then TaskManager,
# JobManager and Kafka (SIGTERM, SIGKILL after a grace period). Safe to run repeatedly.
#   JOB_STOP=savepoint (default) | drain | cancel | none
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"
JOB_STOP="${JOB_STOP:-savepoint}"

stop_job() {
  local id="$1"
  local state
  state="$(rest GET "/jobs/$id" 2>/dev/null | jq -r '.state // empty' || true)"
  [[ "$state" == RUNNING || "$state" == CREATED || "$state" == RESTARTING ]] || { log "job $id is ${state:-unknown}, nothing to stop"; return 0; }
  if [[ "$JOB_STOP" == savepoint || "$JOB_STOP" == drain ]]; then
    local drain=false; [[ "$JOB_STOP" == drain ]] && drain=true
    log "stopping job $id with a savepoint (drain=$drain)"
    local trigger status="" location=""
    trigger="$(rest POST "/jobs/$id/stop" "{\"drain\": $drain, \"targetDirectory\": \"file://$WORK_DIR/savepoints\"}" | jq -r '."request-id" // empty' || true)"
    if [[ -n "$trigger" ]]; then
      local deadline=$((SECONDS + 120))
      while ((SECONDS < deadline)); do
        local answer; answer="$(rest GET "/jobs/$id/savepoints/$trigger" 2>/dev/null || true)"
        status="$(jq -r '.status.id // empty' <<<"$answer" 2>/dev/null || true)"
        if [[ "$status" == COMPLETED ]]; then
          location="$(jq -r '.operation.location // empty' <<<"$answer" || true)"
          break
        fi
        sleep 1
      done
    fi
    if [[ -n "$location" ]]; then
      echo "$location" >"$WORK_DIR/last-savepoint"
      log "savepoint: $location (resume: SAVEPOINT=$location submit.sh)"
      return 0
    fi
    log "stop-with-savepoint did not complete; cancelling"
  fi
  rest PATCH "/jobs/$id?mode=cancel" >/dev/null 2>&1 || true
  # Not wait_for: a timeout here must not abort stopping the processes.
  local deadline=$((SECONDS + 60))
  while ((SECONDS < deadline)); do
    state="$(rest GET "/jobs/$id" 2>/dev/null | jq -r '.state // empty' || true)"
    [[ "$state" == RUNNING || "$state" == CANCELLING || "$state" == CREATED || "$state" == RESTARTING ]] || break
    sleep 0.5
  done
  log "job $id: ${state:-unknown}"
}

stop_process() { # stop_process <name> <grace seconds>
  local name="$1" grace="$2" f="$PID_DIR/$1.pid"
  [[ -f "$f" ]] || return 0
  local pid; pid="$(cat "$f")"
  if kill -0 "$pid" 2>/dev/null; then
    log "stopping $name (pid $pid)"
    kill -TERM "$pid" 2>/dev/null || true
    local deadline=$((SECONDS + grace))
    while kill -0 "$pid" 2>/dev/null && ((SECONDS < deadline)); do sleep 0.5; done
    if kill -0 "$pid" 2>/dev/null; then
      log "$name did not stop within ${grace}s: SIGKILL"
      kill -KILL "$pid" 2>/dev/null || true
      sleep 0.5
    fi
  fi
  rm -f "$f"
}

if [[ "$JOB_STOP" != none && -f "$WORK_DIR/job.id" ]] && curl -sf "$REST_URL/overview" >/dev/null 2>&1; then
  stop_job "$(cat "$WORK_DIR/job.id")" || log "could not stop the job cleanly"
fi
rm -f "$WORK_DIR/job.id"
stop_process taskmanager 30
stop_process jobmanager 30
stop_process kafka 30
log "local cluster stopped"
