package io.nimbus.it;

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

import static org.junit.jupiter.api.Assertions.fail;

/**
 * Range sync (TOPOLOGY.md §8): a worker that was down while keys were written catches up after its
 * restart without any read of those keys. Three workers, RF 3; the third is killed; 200 keys are
 * written at QUORUM (they land on the other two); the third restarts; once it reports a complete sync,
 * a read at ONE through it — which asks its own replica first — finds every key.
 */
class RangeSyncIT {
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
    void aWorkerThatMissedWritesWhileDownHasThemAfterItsSync() throws Exception {
        cluster = LocalCluster.builder().label("sync").workers(3).replicationFactor(3).fastGossip()
                .property("nimbus.stream.sync-after-start-ms=1000").start();
        HttpClient http = KvClient.newClient();
        LocalCluster.Node w3 = cluster.node(cluster.id(2));
        cluster.kill9(w3);
        cluster.awaitUnreachable(2, Duration.ofSeconds(30));
        NodeProcess w1 = cluster.process(0);
        String prefix = "sync-" + Long.toString(System.currentTimeMillis(), 36) + "-";
        Map<String, String> acked = new LinkedHashMap<>();
        for (int k = 0; k < KEYS; k++) {
            String key = prefix + k;
            String value = "v" + k;
            long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
            while (true) {
                HttpResponse<String> r = KvClient.put(http, w1, key, value, "QUORUM", REQUEST_TIMEOUT);
                if (r.statusCode() == 204) {
                    acked.put(key, value);
                    break;
                }
                if (System.nanoTime() > deadline) {
                    fail("PUT " + key + ": " + r.statusCode() + " " + r.body());
                }
                Thread.sleep(100);
            }
        }
        cluster.restart(w3);
        NodeProcess n3 = cluster.process(2);
        long syncMs = Await.until(cluster.id(2) + " completes a range sync after its restart", Duration.ofSeconds(60),
                () -> metric(n3, "nimbus_sync_complete_total") >= 1, () -> n3.tail(30));
        List<String> wrong = new ArrayList<>();
        for (Map.Entry<String, String> e : acked.entrySet()) {
            HttpResponse<String> r = KvClient.get(http, n3, e.getKey(), "ONE", REQUEST_TIMEOUT);
            if (r.statusCode() != 200 || !r.body().equals(e.getValue())) {
                wrong.add(e.getKey() + " -> " + r.statusCode() + " " + r.body());
            }
        }
        System.out.printf("[it] RangeSyncIT summary: %d keys written while %s was down; its sync completed %d ms after "
                + "the restart; ONE reads through it wrong %d/%d%n", acked.size(), cluster.id(2), syncMs, wrong.size(),
                acked.size());
        if (!wrong.isEmpty()) {
            fail(wrong.size() + " of " + acked.size() + " keys missing at ONE on the restarted worker after its sync, e.g. "
                    + wrong.subList(0, Math.min(5, wrong.size())) + "; log " + n3.logFile());
        }
    }

    private static double metric(NodeProcess n, String sample) throws InterruptedException {
        try {
            return NodeProbe.metric(n, sample);
        } catch (IOException | AssertionError e) {
            return -1;
        }
    }
}
