#!/usr/bin/env bash
# Creates the topics and submits the shaded job jar to the local cluster through the REST API
# (POST /jars/upload, POST /jars/<id>/run with programArgs --config <file>). Prints the job id and
# writes it to $WORK_DIR/job.id. Resume from a savepoint with SAVEPOINT=<path> submit.sh.
#   CONFIG=<yaml template>  (default deploy/local/shadow-job.local.yaml)
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"
CONFIG_TEMPLATE="${CONFIG:-$LOCAL_DIR/shadow-job.local.yaml}"
SAVEPOINT="${SAVEPOINT:-}"
PARALLELISM="${PARALLELISM:-2}"

require_jq
curl -sf "$REST_URL/overview" >/dev/null || die "no JobManager at $REST_URL: run start.sh first"
JOB_JAR="$(job_jar)"
job_running() { rest GET "/jobs/$1" 2>/dev/null | jq -e '.state == "RUNNING"' >/dev/null; }
if [[ -f "$WORK_DIR/job.id" ]] && job_running "$(cat "$WORK_DIR/job.id")"; then
  die "job $(cat "$WORK_DIR/job.id") is already running"
fi

# The config is read by the job's main() on the JobManager, and the models by every TaskManager:
# absolute paths on this machine.
CONFIG_FILE="$WORK_DIR/shadow-job.yaml"
sed -e "s|@KAFKA_BOOTSTRAP@|$KAFKA_BOOTSTRAP|g" -e "s|@MODELS_DIR@|$REPO_DIR/models/shipped|g" \
  "$CONFIG_TEMPLATE" >"$CONFIG_FILE"
log "job config: $CONFIG_FILE"

run_helper CreateTopics --config "$CONFIG_FILE" >&2

log "uploading $JOB_JAR"
upload="$(curl -sS --fail-with-body -X POST -H 'Expect:' -F "jarfile=@$JOB_JAR" "$REST_URL/jars/upload")"
jar_id="$(basename "$(jq -r '.filename // empty' <<<"$upload")")"
[[ -n "$jar_id" ]] || die "upload failed: $upload"

body="{\"entryClass\": \"io.shadowml.jobs.ShadowJob\", \"programArgsList\": [\"--config\", \"$CONFIG_FILE\"], \"parallelism\": $PARALLELISM"
[[ -n "$SAVEPOINT" ]] && body="$body, \"savepointPath\": \"$SAVEPOINT\", \"allowNonRestoredState\": false"
body="$body}"
log "running $jar_id"
answer="$(rest POST "/jars/$jar_id/run" "$body")" || die "run failed: $answer"
job_id="$(jq -r '.jobid // empty' <<<"$answer")"
[[ -n "$job_id" ]] || die "run failed: $answer"
echo "$job_id" >"$WORK_DIR/job.id"
# The uploaded copy is no longer needed once the job is submitted.
rest DELETE "/jars/$jar_id" >/dev/null 2>&1 || true

wait_for 120 "job $job_id to run" job_running "$job_id"
# All tasks deployed (not just the job): the job's vertices report RUNNING.
tasks_running() { rest GET "/jobs/$job_id" | jq -e '[.vertices[].status] | length > 0 and all(. == "RUNNING")' >/dev/null; }
wait_for 120 "the tasks of job $job_id to run" tasks_running
log "job $job_id running: $REST_URL/#/job/running/$job_id/overview"
echo "$job_id"
