package io.nimbus.it;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Nodes that cannot prove {@code nimbus.cluster.secret} are refused: a node with the wrong secret, or
 * with none, never joins, never becomes ready, and never appears in the view of the nodes it tried.
 */
class ClusterSecretIT {
    private static final String SECRET = "s3cret";
    private static final String REFUSED = "refused cluster connection";
    private static final String WAITING = "no seed has answered";
    /** How long a refused node is watched: many seed attempts at a 200 ms interval and a 1 s back-off cap. */
    private static final Duration WATCH = Duration.ofSeconds(4);
    private static final Duration BOUND = Duration.ofSeconds(30);

    private final List<NodeProcess> nodes = new ArrayList<>();

    @AfterEach
    void killNodes() {
        NodeProcess.closeAll(nodes);
    }

    @Test
    void nodeWithTheWrongSecretIsRefusedAndNeverJoins() throws Exception {
        int seedPort = NodeProcess.freePort();
        NodeProcess seed = startReady("s1", args("s1", seedPort).secret(SECRET));
        NodeProcess peer = startReady("s2", args("s2", NodeProcess.freePort()).secret(SECRET).seeds(seedPort));
        Set<String> pair = Set.of("s1", "s2");
        long ms = Await.until("s1 and s2 list exactly each other, reachable", BOUND,
                () -> ClusterView.of(seed).isExactlyReachable(pair) && ClusterView.of(peer).isExactlyReachable(pair),
                () -> views(seed, peer));
        System.out.printf("[it] s1 and s2 (same secret) converged %d ms after s2 was ready%n", ms);
        assertFalse(peer.output().contains(WAITING),
                "s2's seed answered at once, yet s2 warned that it was waiting for one:\n" + peer.tail(20));

        NodeProcess wrong = start("s-wrong", args("s-wrong", NodeProcess.freePort()).secret("wrong").seeds(seedPort));
        assertRefusedAndAlone("s-wrong", wrong, seed, List.of(seed, peer), pair);
    }

    @Test
    void nodeWithoutASecretIsRefusedByANodeWithOne() throws Exception {
        int seedPort = NodeProcess.freePort();
        NodeProcess seed = startReady("s1", args("s1", seedPort).secret(SECRET));
        NodeProcess open = start("s-none", args("s-none", NodeProcess.freePort()).seeds(seedPort));
        assertRefusedAndAlone("s-none", open, seed, List.of(seed), Set.of("s1"));
    }

    /**
     * {@code outsider} (id {@code self}) tries {@code seed}: the seed logs a refusal; for {@link #WATCH} the outsider stays
     * 503 and sees only itself, and every member of the cluster still lists exactly {@code members}.
     */
    private void assertRefusedAndAlone(String self, NodeProcess outsider, NodeProcess seed, List<NodeProcess> cluster,
                                       Set<String> members) throws Exception {
        Await.until(outsider + " answers HTTP", NodeProcess.READY_TIMEOUT, () -> {
            if (!outsider.isAlive()) {
                throw new AssertionError(outsider + " died:\n" + outsider.tail(40));
            }
            return NodeProbe.readyStatus(outsider) != -1;
        }, () -> outsider.tail(20));
        long ms = Await.until("the seed logs '" + REFUSED + "'", BOUND,
                () -> seed.output().contains(REFUSED), () -> seed.tail(20));
        System.out.printf("[it] %s logged '%s' %d ms after %s answered HTTP%n", seed, REFUSED, ms, outsider);

        Await.during(outsider + " stays 503, alone and unjoined; the cluster stays " + members, WATCH, () -> {
            ClusterView v = ClusterView.of(outsider);
            boolean ok = NodeProbe.readyStatus(outsider) == 503 && !v.joined() && v.ids().equals(Set.of(self));
            for (NodeProcess n : cluster) {
                ok &= ClusterView.of(n).isExactlyReachable(members);
            }
            return ok;
        }, () -> views(cluster.toArray(NodeProcess[]::new)) + "\n  outsider " + describe(outsider)
                + "\noutsider log:\n" + outsider.tail(20));

        int refusals = NodeProbe.countInLog(seed, REFUSED);
        double rejected = NodeProbe.metric(seed, "nimbus_cluster_connections_rejected_total");
        assertTrue(rejected >= 1, "the seed logged refusals but counts " + rejected + " rejected connections");
        assertTrue(outsider.output().contains(WAITING),
                "the refused node does not say it is waiting for a seed:\n" + outsider.tail(20));
        System.out.printf("[it] %s stayed 503 with only itself in view for %d s; seed logged %d refusals, "
                + "nimbus_cluster_connections_rejected_total %.0f%n", outsider, WATCH.toSeconds(), refusals, rejected);
    }

    private static ClusterArgs args(String id, int clusterPort) {
        // A 1 s cap on the seed back-off makes a refused node retry often while it is watched.
        return ClusterArgs.node(id, clusterPort).gossip("200ms", "2s").seedBackoffMax("1s");
    }

    private NodeProcess startReady(String id, ClusterArgs args) throws Exception {
        NodeProcess n = NodeProcess.startReady("secret-" + id, NodeProcess.newDataDir("secret-" + id), args.toArray());
        nodes.add(n);
        return n;
    }

    private NodeProcess start(String id, ClusterArgs args) throws Exception {
        NodeProcess n = NodeProcess.start("secret-" + id, NodeProcess.newDataDir("secret-" + id), args.toArray());
        nodes.add(n);
        return n;
    }

    private static String describe(NodeProcess n) {
        try {
            return n + ": ready " + NodeProbe.readyStatus(n) + ", " + ClusterView.of(n);
        } catch (Exception e) {
            return n + ": no view: " + e;
        }
    }

    private static String views(NodeProcess... cluster) {
        StringBuilder b = new StringBuilder("views:");
        for (NodeProcess n : cluster) {
            b.append("\n  ").append(describe(n));
        }
        return b.toString();
    }
}
