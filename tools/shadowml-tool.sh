#!/usr/bin/env bash
# Runs the shadowml tools:
#   tools/shadowml-tool.sh replay   --help   (history files -> Kafka request/label topics)
#   tools/shadowml-tool.sh backtest --help   (the shadow job in Flink BATCH mode over history files)
# Builds the tools module (and what it depends on) first; set SKIP_BUILD=1 to reuse the last build.
set -euo pipefail
cd "$(dirname "$0")/.."
if [[ $# -lt 1 ]]; then
  echo "usage: $0 replay|backtest [options]   (--help for the options)" >&2
  exit 2
fi
case "$1" in
  replay) main=io.shadowml.tools.replay.ReplayCommand ;;
  backtest) main=io.shadowml.tools.backtest.BacktestCommand ;;
  *) echo "$0: unknown tool '$1' (replay or backtest)" >&2; exit 2 ;;
esac
shift
if [[ "${SKIP_BUILD:-0}" != 1 ]]; then
  mvn -q -B -ntp -pl tools -am install -DskipTests >&2
fi
mvn -q -B -ntp -pl tools dependency:build-classpath -Dmdep.outputFile=target/tools.classpath -Dmdep.includeScope=runtime >&2
exec java -Xmx2g \
  --add-opens=java.base/java.lang=ALL-UNNAMED --add-opens=java.base/java.util=ALL-UNNAMED \
  --add-opens=java.base/java.nio=ALL-UNNAMED --add-opens=java.base/sun.nio.ch=ALL-UNNAMED \
  --add-opens=java.base/java.lang.reflect=ALL-UNNAMED --add-opens=java.base/java.io=ALL-UNNAMED \
  --add-opens=java.base/java.net=ALL-UNNAMED --add-opens=java.base/java.time=ALL-UNNAMED \
  --add-opens=java.base/java.util.concurrent=ALL-UNNAMED \
  -cp "tools/target/classes:$(cat tools/target/tools.classpath)" "$main" "$@"
