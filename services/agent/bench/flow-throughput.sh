#!/usr/bin/env bash
# Flows/s from the ring buffer through the agent to Kafka vs Kafka's ProducerPerformance (root).
# usage: services/agent/bench/flow-throughput.sh [seconds] [flows/s, 0 = as fast as it goes] [daemonset|roomy]
set -euo pipefail
cd "$(dirname "$0")/../../.."
./mvnw -q -B -DskipTests -pl services/agent -am install
./mvnw -q -B -pl services/agent dependency:build-classpath -Dmdep.includeScope=test -Dmdep.outputFile=target/bench.classpath
cd services/agent
exec java -Xmx1g -cp "target/test-classes:target/classes:$(cat target/bench.classpath)" \
  dev.weir.agent.bench.FlowThroughputBenchmark "$@"
