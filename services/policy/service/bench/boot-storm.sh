#!/usr/bin/env bash
# A thousand agents starting at once: API server requests and time until every agent has its
# node's pods, one watch through Kafka against a watch per agent (fabric8's mock API server).
# usage: services/policy/service/bench/boot-storm.sh [agents] [pods per node] [concurrency]
set -euo pipefail
cd "$(dirname "$0")/../../../.."
./mvnw -q -B -DskipTests -Dweir.images.skip=true -pl services/policy/service -am install
./mvnw -q -B -pl services/policy/service dependency:build-classpath -Dmdep.includeScope=test \
  -Dmdep.outputFile=target/bench.classpath
cd services/policy/service
exec java -Xmx1g -cp "target/test-classes:target/classes:$(cat target/bench.classpath)" \
  dev.weir.policy.service.bench.BootStormBenchmark "$@"
