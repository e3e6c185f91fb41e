#!/usr/bin/env bash
# Runs the shadowml tools (io.shadowml.tools.ShadowmlTool, one command with a subcommand per tool):
#   tools/shadowml-tool.sh --help            (the tools)
#   tools/shadowml-tool.sh replay   --help   (history files -> Kafka request/label topics)
#   tools/shadowml-tool.sh backtest --help   (the shadow job in Flink BATCH mode over history files)
#   tools/shadowml-tool.sh verdict  --help   (the committed verdicts as an exit code: a CI/CD gate)
#   tools/shadowml-tool.sh models   --help   (models add|retire|switch-live: announce to a running job, topics.control)
#   tools/shadowml-tool.sh bench    --help   (the job's end-to-end throughput; bench/README.md)
# Builds the tools module (for bench: the bench module, which adds an in-process Kafka broker the tools
# do not ship) and what it depends on first; set SKIP_BUILD=1 to reuse the last build.
set -euo pipefail
cd "$(dirname "$0")/.."
module=tools main=io.shadowml.tools.ShadowmlTool heap=-Xmx2g
if [[ "${1:-}" == bench ]]; then
  # The broker, the generated topics and a MiniCluster per run share this JVM.
  module=bench main=io.shadowml.bench.BenchCommand heap=-Xmx4g
  shift
fi
# No ANSI codes from Maven: -Dstyle.color=never, and jansi.noreset for the resets Debian's Maven 3.8 prints.
export MAVEN_OPTS="${MAVEN_OPTS:-} -Djansi.noreset=true"
# verdict's exit code 1 means REJECT/ROLLBACK: a failed build must not look like one (4 = could not read verdicts).
build_failed=1
[[ "${1:-}" == verdict ]] && build_failed=4
if [[ "${SKIP_BUILD:-0}" != 1 ]]; then
  mvn -q -B -ntp -Dstyle.color=never -pl "$module" -am install -DskipTests >&2 \
    || { echo "$0: the build of $module failed" >&2; exit "$build_failed"; }
fi
[[ -f $module/target/classpath.txt ]] || { echo "$0: $module/target/classpath.txt missing: build without SKIP_BUILD=1" >&2; exit 2; }
exec java "$heap" \
  --add-opens=java.base/java.lang=ALL-UNNAMED --add-opens=java.base/java.util=ALL-UNNAMED \
  --add-opens=java.base/java.nio=ALL-UNNAMED --add-opens=java.base/sun.nio.ch=ALL-UNNAMED \
  --add-opens=java.base/java.lang.reflect=ALL-UNNAMED --add-opens=java.base/java.io=ALL-UNNAMED \
  --add-opens=java.base/java.net=ALL-UNNAMED --add-opens=java.base/java.time=ALL-UNNAMED \
  --add-opens=java.base/java.util.concurrent=ALL-UNNAMED \
  -cp "$module/target/classes:$(cat "$module/target/classpath.txt")" "$main" "$@"
