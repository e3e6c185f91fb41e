#!/usr/bin/env bash
# Replays the fraud holdout scenario into the local cluster's input topics on a compressed clock.
#   replay.sh [--events 3000] [--duration 20s] [--bad-every 500] [--summary file] [--csv file]
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"
[[ -f "$WORK_DIR/shadow-job.yaml" ]] || die "no $WORK_DIR/shadow-job.yaml: run submit.sh first"
run_helper ScenarioReplay --config "$WORK_DIR/shadow-job.yaml" --bootstrap "$KAFKA_BOOTSTRAP" "$@"
