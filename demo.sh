#!/usr/bin/env bash
# Runs the shadow job on its embedded default: a real Kafka broker and a Flink MiniCluster in one
# process, a shipped scenario replayed into Kafka, progress while it runs, a summary table at the end.
# Options: ./demo.sh --help
set -euo pipefail
cd "$(dirname "$0")"
# No ANSI codes from Maven in the demo's output: -Dstyle.color=never, and jansi.noreset as a JVM option
# for the colour resets Debian's Maven 3.8 prints even with -q -B.
export MAVEN_OPTS="${MAVEN_OPTS:-} -Djansi.noreset=true"
mvn -q -B -ntp -Dstyle.color=never -DskipTests install
mvn -q -B -ntp -Dstyle.color=never -pl local dependency:build-classpath -Dmdep.outputFile=target/demo.classpath -Dmdep.includeScope=runtime
exec java -Xmx2g \
  --add-opens=java.base/java.lang=ALL-UNNAMED --add-opens=java.base/java.util=ALL-UNNAMED \
  --add-opens=java.base/java.nio=ALL-UNNAMED --add-opens=java.base/sun.nio.ch=ALL-UNNAMED \
  --add-opens=java.base/java.lang.reflect=ALL-UNNAMED --add-opens=java.base/java.io=ALL-UNNAMED \
  --add-opens=java.base/java.net=ALL-UNNAMED --add-opens=java.base/java.time=ALL-UNNAMED \
  --add-opens=java.base/java.util.concurrent=ALL-UNNAMED \
  -cp "local/target/classes:$(cat local/target/demo.classpath)" io.shadowml.local.LocalDemo "$@"
