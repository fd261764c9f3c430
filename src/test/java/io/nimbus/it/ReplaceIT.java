package io.nimbus.it;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.net.http.HttpClient;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * Auto-replace (TOPOLOGY.md §6): a worker whose data directory was lost comes back under its old name
 * with an empty store (a new host id). It must not answer as the old replica; once the old one has
 * been unreachable for the failure timeout, a live worker removes it, and the new store joins as a new
 * member, streamed its ranges. Every key acknowledged before the loss reads back at QUORUM through
 * every worker and at ONE through the replacement.
 */
class ReplaceIT {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final int KEYS = 200;
    private static final Duration REQUEST_TIMEOUT = Duration.ofSeconds(8);

    private LocalCluster cluster;

    @AfterEach
    void killNodes() {
        if (cluster != null) {
            cluster.close();
        }
    }

    @Test
    void aWipedWorkerReplacesItselfAndGetsItsDataBack() throws Exception {
        cluster = LocalCluster.builder().label("repl").workers(3).replicationFactor(3).fastGossip().start();
        HttpClient http = KvClient.newClient();
        NodeProcess w1 = cluster.process(0);
        String prefix = "repl-" + Long.toString(System.currentTimeMillis(), 36) + "-";
        Map<String, String> acked = new LinkedHashMap<>();
        for (int k = 0; k < KEYS; k++) {
            String key = prefix + k;
            HttpResponse<String> r = KvClient.put(http, w1, key, "v" + k, "QUORUM", REQUEST_TIMEOUT);
            if (r.statusCode() != 204) {
                fail("PUT " + key + ": " + r.statusCode() + " " + r.body());
            }
            acked.put(key, "v" + k);
        }
        String name = cluster.id(2);
        String oldHost = TopologyJson.hostOf(JSON.readTree(w1.fetch("/v1/cluster/topology")), name);

        cluster.process(2).killHard();
        Path dir = cluster.dir(2);
        try (Stream<Path> files = Files.walk(dir)) {
            files.sorted(Comparator.reverseOrder()).filter(p -> !p.equals(dir)).forEach(p -> p.toFile().delete());
        }
        long t0 = System.nanoTime();
        NodeProcess fresh = cluster.startWorker(2, "-wiped");
        String[] last = {"-"};
        Await.until(name + " is a NORMAL member again under a new host id, the old one departed", Duration.ofSeconds(120),
                () -> {
                    for (NodeProcess n : List.of(w1, cluster.process(1), fresh)) {
                        JsonNode t = JSON.readTree(n.fetch("/v1/cluster/topology"));
                        last[0] = n + ": " + t;
                        String host = TopologyJson.hostOf(t, name);
                        JsonNode op = t.get("operation");
                        boolean departed = false;
                        for (JsonNode h : t.path("departedHostIds")) {
                            departed |= h.asText().equals(oldHost);
                        }
                        if (host == null || host.equals(oldHost) || !departed || (op != null && !op.isNull())
                                || t.path("workers").size() != 3 || !TopologyJson.status(t, name).equals("NORMAL")) {
                            return false;
                        }
                    }
                    return NodeProbe.readyStatus(fresh) == 200;
                }, () -> "last: " + last[0] + "\n" + fresh.tail(30));
        long replaceMs = KvClient.ms(System.nanoTime() - t0);
        assertTrue(fresh.output().contains("This worker replaces it"), "it said what it does: " + fresh.logFile());

        List<String> wrong = new ArrayList<>();
        for (NodeProcess n : List.of(fresh, w1, cluster.process(1))) {
            for (String level : n == fresh ? List.of("ONE", "QUORUM") : List.of("QUORUM")) {
                for (Map.Entry<String, String> e : acked.entrySet()) {
                    HttpResponse<String> r = KvClient.get(http, n, e.getKey(), level, REQUEST_TIMEOUT);
                    if (r.statusCode() != 200 || !r.body().equals(e.getValue())) {
                        wrong.add(n + " " + level + " " + e.getKey() + " -> " + r.statusCode() + " " + r.body());
                    }
                }
            }
        }
        System.out.printf("[it] ReplaceIT summary: %s replaced itself in %d ms after its restart with an empty store; "
                + "wrong reads %d of %d%n", name, replaceMs, wrong.size(), acked.size() * 4);
        if (!wrong.isEmpty()) {
            fail(wrong.size() + " wrong reads after the replacement, e.g. " + wrong.subList(0, Math.min(5, wrong.size())));
        }
    }
}
