#!/usr/bin/env bash
# Replays the fraud holdout scenario into the local cluster's input topics on a compressed clock, with
# the tools' replay command (tools/README.md), the one operators run against any cluster:
#   replay.sh [--events 3000] [--duration 20s] [--bad-every 500] [--canary-every 10] [--summary file]
#             [--csv file] [--config file] [--bootstrap host:port]
# It replays the first --events rows of the CSV, plus, after every --bad-every-th row, a line that is
# not a request (forwarded raw with --forward-bad-rows, so the job dead-letters it), and gives one
# label the value 2, which the binary models' job dead-letters. Each request gets a served_by column
# (the arm that served it in production, for the job's canary analysis): canary on every
# --canary-every-th request (the 10th, 20th, ...), prod on the others; 0 = no served_by column (a CSV
# that has one keeps its own). --speed is set so that the whole timeline, requests and their labels,
# takes --duration. --summary: the tool's counts (Java properties), plus bad_labels = the labels set to 2.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"

EVENTS=3000 DURATION=20s BAD_EVERY=500 CANARY_EVERY=10 SUMMARY="" CSV="$REPO_DIR/models/data/fraud/holdout.csv"
CONFIG_FILE="$WORK_DIR/shadow-job.yaml" BOOTSTRAP="$KAFKA_BOOTSTRAP"
while [[ $# -gt 0 ]]; do
  [[ "$1" == -h || "$1" == --help ]] && { sed -n '2,13p' "$0" | sed 's/^# \{0,1\}//'; exit 0; }
  [[ $# -ge 2 ]] || die "option $1 needs a value"
  case "$1" in
    --events) EVENTS="$2" ;;
    --duration) DURATION="$2" ;;
    --bad-every) BAD_EVERY="$2" ;;
    --canary-every) CANARY_EVERY="$2" ;;
    --summary) SUMMARY="$2" ;;
    --csv) CSV="$2" ;;
    --config) CONFIG_FILE="$2" ;;
    --bootstrap) BOOTSTRAP="$2" ;;
    *) die "unknown option $1 (replay.sh --help)" ;;
  esac
  shift 2
done
[[ "$EVENTS" =~ ^[0-9]+$ && "$EVENTS" -gt 0 ]] || die "--events must be a positive number, was '$EVENTS'"
[[ "$BAD_EVERY" =~ ^[0-9]+$ ]] || die "--bad-every must be a number (0 = no bad records), was '$BAD_EVERY'"
[[ "$CANARY_EVERY" =~ ^[0-9]+$ ]] || die "--canary-every must be a number (0 = no served_by column), was '$CANARY_EVERY'"
[[ "$DURATION" =~ ^([0-9]+)(ms|s|m)?$ ]] || die "--duration must be like 20s, 500ms or 2m, was '$DURATION'"
case "${BASH_REMATCH[2]}" in
  ms) DURATION_MS="${BASH_REMATCH[1]}" ;;
  m) DURATION_MS=$(( BASH_REMATCH[1] * 60000 )) ;;
  *) DURATION_MS=$(( BASH_REMATCH[1] * 1000 )) ;;
esac
(( DURATION_MS > 0 )) || die "--duration must be positive, was '$DURATION'"
[[ -f "$CONFIG_FILE" ]] || die "no $CONFIG_FILE: run submit.sh first"
[[ -f "$CSV" ]] || die "no such CSV: $CSV"

# The topics the job reads, from its config's topics: block.
config_topic() { awk -v key="$1" '/^topics:/ { t = 1; next } /^[^ #]/ { t = 0 } t && $1 == key ":" { print $2; exit }' "$CONFIG_FILE"; }
REQUESTS_TOPIC="$(config_topic requests)" LABELS_TOPIC="$(config_topic labels)"
[[ -n "$REQUESTS_TOPIC" && -n "$LABELS_TOPIC" ]] || die "no topics.requests / topics.labels in $CONFIG_FILE"

# The scenario file: the first EVENTS rows, the bad records mixed in, a served_by column added (unless
# the CSV has one or --canary-every is 0); stats = first event time, last record time (event or label
# time) and the number of labels set to 2.
INPUT="$WORK_DIR/replay-input.csv" STATS="$WORK_DIR/replay-input.stats"
awk -v events="$EVENTS" -v bad_every="$BAD_EVERY" -v canary_every="$CANARY_EVERY" -v stats="$STATS" '
  BEGIN { FS = OFS = "," }
  { sub(/\r$/, "") }
  NR == 1 {
    for (i = 1; i <= NF; i++) col[$i] = i
    add_arm = canary_every > 0 && !("served_by" in col)
    print $0 (add_arm ? OFS "served_by" : "")
    next
  }
  n >= events { exit }
  {
    t = $col["event_time"] + 0
    delay = $col["label_delay_ms"]
    if (n == 0) { first = t; last = t }
    if (t > last) last = t
    if (delay != "" && t + delay > last) last = t + delay
    if (bad_every > 0 && !bad_labels && n >= int(bad_every / 2) && delay != "") { $col["label"] = 2; bad_labels = 1 }
    # The arm that served the request: deterministic, every canary_every-th request (n counts requests
    # from 0, not the bad lines), so the canary share is exactly 1/canary_every of the requests.
    print $0 (add_arm ? OFS (n % canary_every == canary_every - 1 ? "canary" : "prod") : "")
    if (bad_every > 0 && n % bad_every == int(bad_every / 2)) print "garbage-" n ",not a request"
    n++
  }
  END { printf "%.0f %.0f %d\n", first, last, bad_labels > stats }' "$CSV" >"$INPUT"
SERVED_BY=()
HEADER="$(head -n 1 "$INPUT")"
[[ ",$HEADER," == *,served_by,* ]] && SERVED_BY=(--served-by-column served_by)
read -r FIRST_MS LAST_MS BAD_LABELS <"$STATS"
SPEED="$(awk -v span="$((LAST_MS - FIRST_MS))" -v wall="$DURATION_MS" 'BEGIN { s = span / wall; printf "%.6f", (s > 0 ? s : 1) }')"
log "replaying $EVENTS requests of $(basename "$CSV") ($(( (LAST_MS - FIRST_MS) / 3600000 )) h of event time) in ${DURATION_MS} ms: --speed $SPEED"

run_tool replay --bootstrap "$BOOTSTRAP" --requests-topic "$REQUESTS_TOPIC" --labels-topic "$LABELS_TOPIC" \
  --input "$INPUT" --id-column request_id --time-column event_time --entity-column entity_id \
  --segment-columns region,channel \
  --feature-columns amount,hour,merchant_risk,txn_count_1h,txn_count_24h,amount_to_avg_ratio,distance_from_home_km,is_foreign,card_age_days \
  --label-column label --label-delay-column label_delay_ms ${SERVED_BY[@]+"${SERVED_BY[@]}"} \
  --speed "$SPEED" --forward-bad-rows ${SUMMARY:+--summary "$SUMMARY"}
if [[ -n "$SUMMARY" ]]; then
  printf '# replay.sh: labels set to 2, which the binary models reject (the job dead-letters them)\nbad_labels=%d\n' \
    "$BAD_LABELS" >>"$SUMMARY"
fi
