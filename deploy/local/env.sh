# Shared settings of deploy/local/*.sh (sourced, not executed). Every value can be overridden from
# the environment, e.g. WORK_DIR=/tmp/shadowml REST_PORT=28081 deploy/local/start.sh
LOCAL_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
DEPLOY_DIR="$(dirname "$LOCAL_DIR")"
REPO_DIR="$(dirname "$DEPLOY_DIR")"

WORK_DIR="${WORK_DIR:-$LOCAL_DIR/work}"
mkdir -p "$WORK_DIR"
WORK_DIR="$(cd "$WORK_DIR" && pwd)"
FLINK_HOME="${FLINK_HOME:-$WORK_DIR/flink}"
LOG_DIR="$WORK_DIR/logs"
PID_DIR="$WORK_DIR/pids"

KAFKA_PORT="${KAFKA_PORT:-19092}"
KAFKA_CONTROLLER_PORT="${KAFKA_CONTROLLER_PORT:-19093}"
KAFKA_BOOTSTRAP="127.0.0.1:$KAFKA_PORT"
REST_PORT="${REST_PORT:-18081}"
REST_URL="http://127.0.0.1:$REST_PORT"
JM_RPC_PORT="${JM_RPC_PORT:-16123}"
# The JobManager starts first and takes the first free port of the range (9249), the TaskManager the next.
PROM_PORTS="${PROM_PORTS:-9249-9259}"
JM_PROCESS_MEMORY="${JM_PROCESS_MEMORY:-1024m}"
TM_PROCESS_MEMORY="${TM_PROCESS_MEMORY:-1536m}"
TM_SLOTS="${TM_SLOTS:-2}"
# How soon the JobManager gives up on a silent TaskManager (Flink's defaults; the fault-injection test
# shortens them so that a killed TaskManager is noticed in seconds).
HEARTBEAT_INTERVAL_MS="${HEARTBEAT_INTERVAL_MS:-10000}"
HEARTBEAT_TIMEOUT_MS="${HEARTBEAT_TIMEOUT_MS:-50000}"
JAVA="${JAVA:-java}"
# Extra JVM options of the JobManager and the TaskManager, e.g. for diagnostics
# (-XX:NativeMemoryTracking=summary); LocalClusterIT's resubmission test sets some.
FLINK_EXTRA_JVM_OPTS="${FLINK_EXTRA_JVM_OPTS:-}"

# What Flink's own launcher scripts add on Java 17 (conf/config.yaml env.java.opts.all of the distribution).
FLINK_JVM_OPENS="--add-exports=java.base/sun.net.util=ALL-UNNAMED --add-exports=java.rmi/sun.rmi.registry=ALL-UNNAMED --add-exports=java.security.jgss/sun.security.krb5=ALL-UNNAMED --add-opens=java.base/java.lang=ALL-UNNAMED --add-opens=java.base/java.net=ALL-UNNAMED --add-opens=java.base/java.io=ALL-UNNAMED --add-opens=java.base/java.nio=ALL-UNNAMED --add-opens=java.base/sun.nio.ch=ALL-UNNAMED --add-opens=java.base/java.lang.reflect=ALL-UNNAMED --add-opens=java.base/java.text=ALL-UNNAMED --add-opens=java.base/java.time=ALL-UNNAMED --add-opens=java.base/java.util=ALL-UNNAMED --add-opens=java.base/java.util.concurrent=ALL-UNNAMED --add-opens=java.base/java.util.concurrent.atomic=ALL-UNNAMED --add-opens=java.base/java.util.concurrent.locks=ALL-UNNAMED"

log() { echo "[$(date +%H:%M:%S)] $*" >&2; }
die() { log "ERROR: $*"; exit 1; }

# The class path of the helper mains (io.shadowml.deploy.*), written by the deploy module's build.
helper_classpath() {
  local cp="$DEPLOY_DIR/target/classpath.txt"
  [[ -f "$cp" && -d "$DEPLOY_DIR/target/classes/io/shadowml/deploy" ]] \
    || die "deploy module not built: run  mvn -DskipTests -pl deploy -am package  at the repository root"
  echo "$DEPLOY_DIR/target/classes:$(cat "$cp")"
}

run_helper() { # run_helper <main class simple name> args...
  local main="$1"; shift
  "$JAVA" -Xmx512m -Dlog4j2.configurationFile=classpath:log4j2.properties -cp "$(helper_classpath)" "io.shadowml.deploy.$main" "$@"
}

run_tool() { # run_tool <command> args...  (io.shadowml.tools.ShadowmlTool: the tools operators run, e.g. replay)
  local cp="$REPO_DIR/tools/target/classpath.txt"
  [[ -f "$cp" && -d "$REPO_DIR/tools/target/classes/io/shadowml/tools" ]] \
    || die "tools module not built: run  mvn -DskipTests -pl tools -am package  at the repository root"
  "$JAVA" -Xmx512m -cp "$REPO_DIR/tools/target/classes:$(cat "$cp")" io.shadowml.tools.ShadowmlTool "$@"
}

pid_alive() { # pid_alive <name>
  local f="$PID_DIR/$1.pid"
  [[ -f "$f" ]] && kill -0 "$(cat "$f")" 2>/dev/null
}

wait_for() { # wait_for <seconds> <description> <command...>
  local timeout="$1" what="$2"; shift 2
  local deadline=$((SECONDS + timeout))
  until "$@" >/dev/null 2>&1; do
    ((SECONDS < deadline)) || die "timed out after ${timeout}s waiting for $what"
    sleep 0.5
  done
}

rest() { # rest <method> <path> [json body]
  if [[ $# -ge 3 ]]; then
    curl -sS --fail-with-body -X "$1" -H 'Content-Type: application/json' -d "$3" "$REST_URL$2"
  else
    curl -sS --fail-with-body -X "$1" "$REST_URL$2"
  fi
}

# Flink's REST answers are read with jq (Debian package jq).
require_jq() { command -v jq >/dev/null 2>&1 || die "jq is needed to read Flink's REST answers: apt-get install jq"; }

job_jar() { # the shaded job jar: $JOB_JAR, else the one jobs/target/shadowml-jobs-<version>-job.jar
  if [[ -n "${JOB_JAR:-}" ]]; then
    [[ -f "$JOB_JAR" ]] || die "JOB_JAR=$JOB_JAR does not exist"
    echo "$JOB_JAR"
    return
  fi
  local jars
  mapfile -t jars < <(compgen -G "$REPO_DIR/jobs/target/shadowml-jobs-*-job.jar" || true)
  case ${#jars[@]} in
    1) echo "${jars[0]}" ;;
    0) die "no job jar jobs/target/shadowml-jobs-*-job.jar: run  mvn -DskipTests package  at the repository root" ;;
    *) die "several job jars in jobs/target (${jars[*]##*/}): run  mvn clean package  there, or set JOB_JAR" ;;
  esac
}
