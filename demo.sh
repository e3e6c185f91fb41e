#!/usr/bin/env bash
# Runs the shadow job on its embedded default: a real Kafka broker and a Flink MiniCluster in one
# process, a shipped scenario replayed into Kafka, progress while it runs, a summary table at the end.
# Options: ./demo.sh --help
set -euo pipefail
cd "$(dirname "$0")"
mvn -q -B -ntp -DskipTests install
mvn -q -B -ntp -pl local dependency:build-classpath -Dmdep.outputFile=target/demo.classpath -Dmdep.includeScope=runtime
exec java -Xmx2g \
  --add-opens=java.base/java.lang=ALL-UNNAMED --add-opens=java.base/java.util=ALL-UNNAMED \
  --add-opens=java.base/java.nio=ALL-UNNAMED --add-opens=java.base/sun.nio.ch=ALL-UNNAMED \
  --add-opens=java.base/java.lang.reflect=ALL-UNNAMED --add-opens=java.base/java.io=ALL-UNNAMED \
  --add-opens=java.base/java.net=ALL-UNNAMED --add-opens=java.base/java.time=ALL-UNNAMED \
  --add-opens=java.base/java.util.concurrent=ALL-UNNAMED \
  -cp "local/target/classes:$(cat local/target/demo.classpath)" io.shadowml.local.LocalDemo "$@"
