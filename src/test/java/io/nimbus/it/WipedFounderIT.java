package io.nimbus.it;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Comparator;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The worker allowed to found the cluster loses its data directory and comes back (a Kubernetes pod 0
 * whose volume is gone). It must not found a second cluster next to the running one: it listens for its
 * peers first, learns their topology, and — since its name now belongs to another store in that topology
 * and replacing a worker is not built yet — stays out, not ready, saying why.
 */
class WipedFounderIT {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Duration START = Duration.ofSeconds(60);
    private LocalCluster cluster;

    @AfterEach
    void killNodes() {
        if (cluster != null) {
            cluster.close();
        }
    }

    static JsonNode topology(NodeProcess n) throws Exception {
        return JSON.readTree(n.fetch("/v1/cluster/topology"));
    }

    @Test
    void aWipedFounderJoinsNoSecondClusterAndSaysWhy() throws Exception {
        cluster = LocalCluster.builder().label("wiped").workers(2).seededByAll()
                .property("nimbus.gossip.interval=200ms").property("nimbus.gossip.failure-timeout=1s")
                .property("nimbus.gossip.seed-backoff-max=1s").build();
        cluster.startAll(); // worker 0 may found (nimbus.cluster.bootstrap=true), worker 1 may not
        cluster.awaitReady(START);
        cluster.awaitConverged(Duration.ofSeconds(30));
        JsonNode before = topology(cluster.process(1));
        String clusterId = before.get("clusterId").asText();
        String founderHost = topology(cluster.process(0)).get("workers").get(0).get("hostId").asText();

        cluster.process(0).killHard();
        try (Stream<Path> files = Files.walk(cluster.dir(0))) {
            files.sorted(Comparator.reverseOrder()).filter(p -> !p.equals(cluster.dir(0))).forEach(p -> p.toFile().delete());
        }
        NodeProcess wiped = cluster.startWorker(0, "-wiped");
        Await.until("the wiped founder holds a topology", Duration.ofSeconds(30), () -> topology(wiped).has("clusterId"),
                () -> wiped.tail(20));
        assertEquals(clusterId, topology(wiped).get("clusterId").asText(),
                "it learned the running cluster's topology instead of founding another");
        assertEquals(clusterId, topology(cluster.process(1)).get("clusterId").asText());
        assertTrue(wiped.output().contains("listening"), "it listened for peers before founding anything");
        Await.until("the wiped founder explains why it cannot rejoin", Duration.ofSeconds(30),
                () -> wiped.output().contains("the topology holds a worker named " + cluster.id(0) + " with host id "
                        + founderHost), () -> wiped.tail(20));
        assertTrue(!wiped.output().contains("founded cluster"), "no second cluster: " + wiped.logFile());
        String ready = wiped.fetch("/q/health/ready");
        assertTrue(ready.contains("\"DOWN\"") && ready.contains("not yet a member"), ready);
        System.out.printf("[it] WipedFounderIT: the wiped founder learned cluster %s and stays out (ready: DOWN)%n",
                clusterId);
    }
}
