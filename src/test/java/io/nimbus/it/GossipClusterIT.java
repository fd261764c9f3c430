package io.nimbus.it;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Five node JVMs join through one seed (the others list only it) and converge; a non-seed node is killed with {@code kill -9}
 * and every other node marks it unreachable; restarted on the same data directory (and cluster
 * port) it is seen reachable again by all, with a higher generation. In steady state the gossip
 * bytes each node sends and receives per second are measured from {@code /q/metrics}.
 *
 * <p>The gossip interval and failure time-out default to 200ms / 2s (quick); override with
 * {@code -Dnimbus.it.gossip.interval=1s -Dnimbus.it.gossip.failure-timeout=5s} to measure the defaults
 * ({@code -Dnimbus.it.gossip.bytes-window-seconds=20} for a steadier byte rate at 1 s rounds).
 */
class GossipClusterIT {
    private static final String INTERVAL = System.getProperty("nimbus.it.gossip.interval", "200ms");
    private static final String FAILURE_TIMEOUT = System.getProperty("nimbus.it.gossip.failure-timeout", "2s");
    private static final int NODES = 5;
    private static final int VICTIM = 2; // index of the non-seed node that is killed (g3)
    /** Bound for a JVM start plus convergence. */
    private static final Duration CONVERGE = Duration.ofSeconds(60);
    private static final Duration BYTES_WINDOW = Duration.parse("PT"
            + System.getProperty("nimbus.it.gossip.bytes-window-seconds", "5") + "S");

    private final List<NodeProcess> all = new ArrayList<>(); // every process started, for clean-up
    private final NodeProcess[] nodes = new NodeProcess[NODES];
    private final String[] ids = new String[NODES];
    private final Path[] dirs = new Path[NODES];
    private final int[] clusterPorts = new int[NODES];

    @AfterEach
    void killNodes() {
        NodeProcess.closeAll(all);
    }

    @Test
    void fiveNodesConvergeDetectAKillAndSeeTheRestartWithAHigherGeneration() throws Exception {
        for (int i = 0; i < NODES; i++) {
            ids[i] = "g" + (i + 1);
            dirs[i] = NodeProcess.newDataDir("gossip-" + ids[i]);
            clusterPorts[i] = NodeProcess.freePort();
        }
        Set<String> everyone = new TreeSet<>(List.of(ids));
        System.out.printf("[it] gossip interval %s, failure time-out %s%n", INTERVAL, FAILURE_TIMEOUT);

        // 1. The seed, then the others one after another (JVMs booting together on a small machine take
        // several times longer each), each listing only the seed; the last one is timed to convergence.
        for (int i = 0; i < NODES - 1; i++) {
            nodes[i] = track(NodeProcess.startReady("gossip-" + ids[i], dirs[i], args(i).toArray()));
        }
        long lastStarted = System.nanoTime();
        NodeProcess last = track(NodeProcess.start("gossip-" + ids[NODES - 1], dirs[NODES - 1],
                args(NODES - 1).toArray()));
        nodes[NODES - 1] = last;
        long[] lastReadyAt = {0};
        long convergeMs = Await.until("all " + NODES + " nodes list " + everyone + " all reachable", CONVERGE, () -> {
            assertAlive(last);
            if (lastReadyAt[0] == 0) {
                if (NodeProbe.readyStatus(last) != 200) {
                    return false;
                }
                lastReadyAt[0] = System.nanoTime();
            }
            for (NodeProcess n : nodes) {
                if (!ClusterView.of(n).isExactlyReachable(everyone)) {
                    return false;
                }
            }
            return true;
        }, this::views);
        long converged = System.nanoTime();
        System.out.printf("[it] %d nodes converged %d ms after the last node was started (%d ms after it was ready)%n",
                NODES, convergeMs, TimeUnit.NANOSECONDS.toMillis(converged - lastReadyAt[0]));

        // 1b. Every worker chose its tokens at join; all nodes build the same, balanced ring from gossip.
        com.fasterxml.jackson.databind.ObjectMapper json = new com.fasterxml.jackson.databind.ObjectMapper();
        Await.until("all nodes agree on a ring of " + NODES + " workers", CONVERGE, () -> {
            String first = null;
            for (NodeProcess n : nodes) {
                com.fasterxml.jackson.databind.JsonNode ring = json.readTree(n.fetch("/v1/cluster/ring"));
                if (ring.get("workers").size() != NODES) {
                    return false;
                }
                String ranges = ring.get("ranges").toString();
                if (first != null && !first.equals(ranges)) {
                    return false;
                }
                first = ranges;
            }
            return true;
        }, this::views);
        com.fasterxml.jackson.databind.JsonNode ring = json.readTree(nodes[0].fetch("/v1/cluster/ring"));
        double max = 0;
        double min = 1;
        for (com.fasterxml.jackson.databind.JsonNode w : ring.get("workers")) {
            assertTrue(w.get("tokens").asInt() == 16, "16 tokens per worker: " + ring);
            max = Math.max(max, w.get("share").asDouble());
            min = Math.min(min, w.get("share").asDouble());
        }
        System.out.printf("[it] ring of %d workers: ownership max/min %.3f%n", NODES, max / min);
        assertTrue(max / min < 1.5, "ownership is balanced: " + ring.get("workers"));

        // 2. Steady state: gossip bytes per node per second.
        double[] rates = gossipBytesPerSecond();
        for (int i = 0; i < NODES; i++) {
            assertTrue(ClusterView.of(nodes[i]).isExactlyReachable(everyone),
                    "steady state did not hold through the byte measurement:\n" + views());
        }

        int falseSuspicions = 0;
        for (NodeProcess n : nodes) {
            falseSuspicions += NodeProbe.countInLog(n, "is unreachable");
        }
        System.out.printf("[it] 'peer ... is unreachable' lines logged before the kill (false suspicions): %d%n",
                falseSuspicions);

        // 3. kill -9 a non-seed node: every other node marks it unreachable.
        String victim = ids[VICTIM];
        long oldGeneration = agreedGeneration(victim);
        nodes[VICTIM].killHard();
        long killed = System.nanoTime();
        long[] markedAt = new long[NODES];
        long unreachableMs = Await.until("every other node marks " + victim + " unreachable",
                Duration.ofSeconds(30), () -> {
                    boolean all = true;
                    for (int i = 0; i < NODES; i++) {
                        if (i == VICTIM || markedAt[i] != 0) {
                            continue;
                        }
                        ClusterView v = ClusterView.of(nodes[i]);
                        if (v.member(victim).map(m -> !m.reachable()).orElse(false)) {
                            markedAt[i] = System.nanoTime();
                        } else {
                            all = false;
                        }
                    }
                    return all;
                }, this::views);
        Map<String, Long> perNode = new LinkedHashMap<>();
        for (int i = 0; i < NODES; i++) {
            if (i != VICTIM) {
                perNode.put(ids[i], TimeUnit.NANOSECONDS.toMillis(markedAt[i] - killed));
            }
        }
        System.out.printf("[it] after kill -9 of %s every other node marked it unreachable within %d ms (per node %s)%n",
                victim, unreachableMs, perNode);
        for (int i = 0; i < NODES; i++) {
            if (i != VICTIM) {
                ClusterView v = ClusterView.of(nodes[i]);
                assertEquals(everyone, v.ids(), ids[i] + " forgot a member:\n" + v);
                assertEquals(NODES - 1, v.reachable(), ids[i] + " should see the " + (NODES - 1) + " live nodes:\n" + v);
            }
        }

        // 4. Restart it on the same data directory and cluster port: reachable again, higher generation.
        nodes[VICTIM] = track(NodeProcess.start("gossip-" + victim + "-restarted", dirs[VICTIM], args(VICTIM).toArray()));
        long rejoinMs = Await.until("all nodes see " + victim + " reachable with a generation above " + oldGeneration,
                CONVERGE, () -> {
                    boolean ok = true;
                    for (int i = 0; i < NODES; i++) {
                        assertAlive(nodes[i]);
                        ClusterView v = ClusterView.of(nodes[i]);
                        ok &= v.isExactlyReachable(everyone)
                                && v.member(victim).map(m -> m.generation() > oldGeneration).orElse(false);
                    }
                    return ok;
                }, this::views);
        long newGeneration = agreedGeneration(victim);
        assertTrue(newGeneration > oldGeneration);
        System.out.printf("[it] restarted %s: all %d nodes saw it reachable again %d ms after the restart, generation "
                + "%d -> %d%n", victim, NODES, rejoinMs, oldGeneration, newGeneration);

        System.out.printf("[it] GossipClusterIT summary (interval %s, failure time-out %s): converged %d ms after last "
                        + "start; kill -9 detected by all in %d ms; restart seen by all in %d ms; gossip bytes/node/s "
                        + "sent %.0f received %.0f%n", INTERVAL, FAILURE_TIMEOUT, convergeMs, unreachableMs, rejoinMs,
                rates[0], rates[1]);
    }

    private ClusterArgs args(int i) {
        ClusterArgs a = ClusterArgs.node(ids[i], clusterPorts[i]).gossip(INTERVAL, FAILURE_TIMEOUT);
        return i == 0 ? a : a.seeds(clusterPorts[0]);
    }

    /** Samples the gossip byte counters of every node twice, {@link #BYTES_WINDOW} apart; returns mean {sent, received}/s. */
    private double[] gossipBytesPerSecond() throws Exception {
        double[][] before = new double[NODES][];
        long[] t0 = new long[NODES];
        for (int i = 0; i < NODES; i++) {
            t0[i] = System.nanoTime();
            before[i] = gossipBytes(nodes[i]);
        }
        Thread.sleep(BYTES_WINDOW.toMillis());
        double sentSum = 0, receivedSum = 0;
        StringBuilder lines = new StringBuilder();
        for (int i = 0; i < NODES; i++) {
            double[] after = gossipBytes(nodes[i]);
            double seconds = (System.nanoTime() - t0[i]) / 1e9;
            double sent = (after[0] - before[i][0]) / seconds;
            double received = (after[1] - before[i][1]) / seconds;
            assertTrue(sent > 0 && received > 0, ids[i] + " sent/received no gossip bytes in steady state");
            sentSum += sent;
            receivedSum += received;
            lines.append(String.format("%n[it]   %s: sent %.0f B/s, received %.0f B/s", ids[i], sent, received));
        }
        System.out.printf("[it] gossip bytes over %d s of steady state (interval %s, %d nodes): mean per node sent %.0f "
                        + "B/s, received %.0f B/s%s%n", BYTES_WINDOW.toSeconds(), INTERVAL, NODES, sentSum / NODES,
                receivedSum / NODES, lines);
        return new double[] {sentSum / NODES, receivedSum / NODES};
    }

    private static double[] gossipBytes(NodeProcess node) throws Exception {
        return new double[] {NodeProbe.metric(node, "nimbus_gossip_bytes_sent_total"),
                NodeProbe.metric(node, "nimbus_gossip_bytes_received_total")};
    }

    /** The generation of {@code id} as every live node reports it; fails if they disagree. */
    private long agreedGeneration(String id) throws Exception {
        Set<Long> seen = new TreeSet<>();
        for (NodeProcess n : nodes) {
            if (n.isAlive()) {
                seen.add(ClusterView.of(n).member(id).orElseThrow().generation());
            }
        }
        assertEquals(1, seen.size(), "nodes disagree on the generation of " + id + ": " + seen + "\n" + views());
        return seen.iterator().next();
    }

    private static void assertAlive(NodeProcess n) {
        if (!n.isAlive()) {
            throw new AssertionError(n + " died; log " + n.logFile() + ":\n" + n.tail(40));
        }
    }

    private NodeProcess track(NodeProcess n) {
        all.add(n);
        return n;
    }

    private String views() {
        return ClusterView.views(java.util.Arrays.asList(nodes));
    }
}
