#!/usr/bin/env bash
# p99 of QUORUM PUTs at 16 connections, direct to a worker vs through a proxy (README "Benchmarks").
# 3 workers (any-role build, RF 3) and 1 proxy (proxy build) on loopback; stops only the processes it started.
#   ./mvnw -B -q package -DskipTests && bash docs/bench/proxy-latency.sh [seconds per run, default 20]
set -euo pipefail
cd "$(dirname "$0")/../.."
S=${1:-20}
D=$(mktemp -d /tmp/nimbus-bench.XXXXXX)
PIDS=()
trap 'for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done' EXIT
B="-Dnimbus.cluster.bootstrap=b1 -Dnimbus.cluster.seeds=127.0.0.1:19181,127.0.0.1:19182,127.0.0.1:19183"
for i in 1 2 3; do
  java -Xmx512m -Dquarkus.http.port=1808$i -Dnimbus.cluster.port=1918$i -Dnimbus.node.id=b$i \
    -Dnimbus.data-dir="$D/b$i" $B -jar target/quarkus-app/quarkus-run.jar > "$D/b$i.log" 2>&1 &
  PIDS+=($!)
done
java -Xmx512m -Dquarkus.http.port=18090 -Dnimbus.cluster.port=19190 -Dnimbus.node.id=bp -Dnimbus.role=proxy \
  -Dnimbus.data-dir="$D/bp" $B -jar target/proxy/quarkus-app/quarkus-run.jar > "$D/bp.log" 2>&1 &
PIDS+=($!)
for port in 18081 18082 18083 18090; do
  for _ in $(seq 1 120); do curl -sf "localhost:$port/q/health/ready" >/dev/null && break; sleep 1; done
done
for _ in $(seq 1 60); do
  curl -s -o /dev/null -w '%{http_code}' -X PUT --data-binary x localhost:18090/v1/kv/bench-ready | grep -q 204 && break
  sleep 1
done
LOAD="java -jar target/quarkus-app/quarkus-run.jar load --connections 16 --duration-s $S --warmup-s 5 --mix put:1 --consistency QUORUM --keys 10000"
echo "== direct to worker b1"; $LOAD --url http://127.0.0.1:18081 --prefix direct-
echo "== through proxy bp";    $LOAD --url http://127.0.0.1:18090 --prefix proxied-
echo "logs in $D"
