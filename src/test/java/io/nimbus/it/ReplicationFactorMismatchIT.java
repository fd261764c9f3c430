package io.nimbus.it;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.net.http.HttpClient;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * A worker whose {@code nimbus.replication-factor} differs from its cluster's must not weaken the
 * cluster's durability. Three workers start with the default RF 3 and converge; one is killed and
 * restarted on its data directory and ports with {@code -Dnimbus.replication-factor=1} and waits until
 * everyone sees everyone again. {@value #KEYS} QUORUM writes go through it; then it is killed with
 * {@code kill -9}, and once both survivors mark it unreachable every acknowledged key must read back
 * at QUORUM, with its value and ETag, through each of them.
 *
 * <p>On code where each node takes the replication factor from its own setting, that worker places
 * every key on one replica (its own for about a third of the keys), so those writes are gone with it
 * and the test fails. With the factor taken from the cluster, each acknowledged write is on a quorum
 * of three replicas, and the two survivors are a quorum that intersects it.
 */
class ReplicationFactorMismatchIT {
    private static final int WORKERS = 3;
    private static final int ODD = 2; // the worker restarted with replication factor 1
    private static final int KEYS = 50;
    /** Fewer acknowledged writes than this and the test would check next to nothing. */
    private static final int MIN_ACKED = 40;
    /** 503 answers (nothing written) are retried, key by key, until this long after the first write. */
    private static final Duration WRITING = Duration.ofSeconds(30);
    private static final Duration REQUEST_TIMEOUT = Duration.ofSeconds(8); // above write-timeout-ms (5 s)
    /** Per reader: reads answered 503/504 (no verdict on the key) are retried this long in all; none after READ_TOTAL. */
    private static final Duration READ_RETRYING = Duration.ofSeconds(15);
    private static final Duration READ_TOTAL = Duration.ofSeconds(60);
    private static final Duration START = Duration.ofSeconds(60);
    private static final Duration CONVERGE = Duration.ofSeconds(30);
    private static final Duration DETECTION = Duration.ofSeconds(15);
    private static final ObjectMapper JSON = new ObjectMapper();

    private LocalCluster cluster;

    @AfterEach
    void killNodes() {
        if (cluster != null) {
            cluster.close();
        }
    }

    @Test
    void writesThroughAWorkerConfiguredWithReplicationFactorOneSurviveItsLoss() throws Exception {
        cluster = LocalCluster.builder().label("rfm").workers(WORKERS).seededByAll()
                .property("nimbus.gossip.interval=200ms").property("nimbus.gossip.failure-timeout=1s")
                .property("nimbus.gossip.seed-backoff-max=1s").build();
        cluster.startAll(); // nimbus.replication-factor: the default, 3
        cluster.awaitReady(START);
        long convergeMs = cluster.awaitConverged(CONVERGE);
        for (NodeProcess n : cluster.processes()) {
            assertEquals(3, KvClient.ring(n).get("replicationFactor").asInt(), n + " ring: RF");
        }
        long writableMs = cluster.awaitWritable("rfm-ready-", CONVERGE);
        System.out.printf("[it] %d workers (RF 3) converged in %d ms; each acknowledged a QUORUM write after %d ms "
                + "more%n", WORKERS, convergeMs, writableMs);

        // Restart one worker with nimbus.replication-factor=1 and wait until all see all again.
        long oldGeneration = cluster.generationOf(ODD, 0);
        cluster.process(ODD).killHard();
        NodeProcess odd = cluster.startWorker(ODD, "-rf1", "nimbus.replication-factor=1");
        odd.awaitReady(START);
        long[] above = {-1, -1, -1};
        above[ODD] = oldGeneration;
        long rejoinMs = cluster.awaitConverged(CONVERGE, above);
        HttpClient http = KvClient.newClient();
        // the cluster's factor wins, and the node says so once
        var topology = JSON.readTree(odd.fetch("/v1/cluster/topology"));
        assertEquals(3, topology.get("replicationFactor").asInt(), "the cluster's RF: " + topology);
        assertEquals(1, topology.get("configuredReplicationFactor").asInt(), "this node's own setting: " + topology);
        assertTrue(odd.output().contains("nimbus.replication-factor is 1 here, but cluster"), "the node logs the "
                + "difference; log " + odd.logFile());
        System.out.printf("[it] %s restarted with nimbus.replication-factor=1 and rejoined (%d ms); its ring says "
                + "replicationFactor %s; placements it reports for the test keys: %s%n", cluster.id(ODD), rejoinMs,
                bestEffortRf(odd), placements(odd));

        // QUORUM writes through it.
        Map<String, String[]> acked = new LinkedHashMap<>(); // key -> {value, ETag}
        Map<String, Integer> refused = new TreeMap<>();
        int indeterminate = 0;
        List<String> violations = new ArrayList<>();
        long writeDeadline = System.nanoTime() + WRITING.toNanos();
        for (int k = 0; k < KEYS; k++) {
            String key = key(k);
            String value = "rfm-value-" + k + "-" + Long.toHexString(System.nanoTime());
            while (true) {
                HttpResponse<String> r;
                try {
                    r = KvClient.put(http, odd, key, value, "QUORUM", REQUEST_TIMEOUT);
                } catch (IOException e) {
                    indeterminate++;
                    break;
                }
                String etag = r.headers().firstValue("ETag").orElse(null);
                if (r.statusCode() == 204 && etag != null) {
                    acked.put(key, new String[] {value, etag});
                } else if (r.statusCode() == 503) {
                    refused.merge(KvClient.problemType(r), 1, Integer::sum);
                    if (System.nanoTime() < writeDeadline) {
                        Thread.sleep(50);
                        continue; // nothing was written: try the key again
                    }
                } else if (r.statusCode() == 504) {
                    indeterminate++;
                } else {
                    indeterminate++;
                    violations.add("PUT " + key + " -> " + r.statusCode() + " ETag " + etag + " " + r.body());
                }
                break;
            }
        }
        System.out.printf("[it] %d keys written at QUORUM through %s: acknowledged %d, refused (503, retried) %s, "
                + "indeterminate %d%n",
                KEYS, cluster.id(ODD), acked.size(), refused, indeterminate);
        assertTrue(violations.isEmpty(), "writes answered outside the contract: " + violations);
        assertTrue(acked.size() >= MIN_ACKED, "only " + acked.size() + " of " + KEYS + " QUORUM writes through "
                + cluster.id(ODD) + " were acknowledged (need " + MIN_ACKED + "); refused " + refused
                + ", indeterminate " + indeterminate + "\n" + cluster.describeState());

        // Lose that worker; read everything back through the two survivors.
        odd.killHard();
        long detectMs = cluster.awaitUnreachable(ODD, DETECTION);
        System.out.printf("[it] kill -9 of %s; both survivors mark it unreachable after %d ms%n", cluster.id(ODD),
                detectMs);
        Map<String, List<String>> missing = new TreeMap<>();
        java.util.Set<String> missingKeys = new java.util.TreeSet<>();
        for (int j = 0; j < WORKERS; j++) {
            if (j == ODD) {
                continue;
            }
            List<String> wrong = new ArrayList<>();
            KvClient.ReadBudget budget = new KvClient.ReadBudget(READ_RETRYING, READ_TOTAL);
            for (Map.Entry<String, String[]> e : acked.entrySet()) {
                String outcome = KvClient.readBack(http, cluster.process(j), e.getKey(), e.getValue()[0],
                        e.getValue()[1], REQUEST_TIMEOUT, budget);
                if (outcome != null) {
                    missingKeys.add(e.getKey());
                    wrong.add(e.getKey() + ": " + outcome + (wrong.size() < 10 ? " [survivors' own copies: "
                            + cluster.localCopies(http, e.getKey()) + "]" : ""));
                }
            }
            if (!wrong.isEmpty()) {
                missing.put(cluster.id(j), wrong);
            }
        }
        System.out.printf("[it] ReplicationFactorMismatchIT: %d acknowledged writes through %s (RF 1 configured); "
                + "after its kill -9, %d keys not read back at QUORUM through the survivors (%s)%n", acked.size(),
                cluster.id(ODD), missingKeys.size(), counts(missing));
        if (!missing.isEmpty()) {
            StringBuilder b = new StringBuilder();
            missing.forEach((reader, items) -> b.append("\n  through ").append(reader).append(": ").append(items.size())
                    .append(" of ").append(acked.size()).append(":\n    ")
                    .append(String.join("\n    ", items.subList(0, Math.min(15, items.size()))))
                    .append(items.size() > 15 ? "\n    ... and " + (items.size() - 15) + " more" : ""));
            fail(missingKeys.size() + " of " + acked.size() + " QUORUM writes acknowledged by " + cluster.id(ODD)
                    + " (started with nimbus.replication-factor=1 in an RF-3 cluster) were lost with it:" + b);
        }
    }

    private static String key(int k) {
        return String.format("rfm-k%03d", k);
    }

    /** The replication factor in {@code /v1/cluster/ring} of {@code n}, for the log only. */
    private static String bestEffortRf(NodeProcess n) {
        try {
            return KvClient.ring(n).path("replicationFactor").asText("?");
        } catch (Exception e) {
            return "? (" + e + ")";
        }
    }

    /** How {@code n} places the test keys ({@code /v1/cluster/locate}), for the log only. */
    private String placements(NodeProcess n) {
        try {
            Map<String, Integer> shapes = new TreeMap<>();
            for (int k = 0; k < KEYS; k++) {
                JsonNode where = JSON.readTree(n.fetch("/v1/cluster/locate/" + key(k)));
                JsonNode replicas = where.path("replicas");
                String shape = replicas.size() + " replica(s)" + (replicas.size() == 1 ? " on "
                        + (replicas.get(0).asText().equals(cluster.id(ODD)) ? "itself" : "another worker") : "");
                shapes.merge(shape, 1, Integer::sum);
            }
            return shapes.toString();
        } catch (Exception e) {
            return "? (" + e + ")";
        }
    }

    private static String counts(Map<String, List<String>> missing) {
        StringBuilder b = new StringBuilder();
        missing.forEach((reader, items) -> b.append(b.length() == 0 ? "" : ", ").append("through ").append(reader)
                .append(": ").append(items.size()));
        return b.length() == 0 ? "none" : b.toString();
    }
}
