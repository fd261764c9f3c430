package io.nimbus.it;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.net.DatagramSocket;
import java.net.SocketException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;

import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Three nodes with no seeds find each other by multicast discovery on the loopback interface (a
 * random group port, so parallel runs do not mix) and converge to three reachable members.
 */
class MulticastJoinIT {
    private static final int NODES = 3;
    private static final Duration CONVERGE = Duration.ofSeconds(30);

    private final List<NodeProcess> nodes = new ArrayList<>();

    @AfterEach
    void killNodes() {
        NodeProcess.closeAll(nodes);
    }

    @Test
    void threeNodesWithoutSeedsFindEachOtherByMulticastOnLoopback() throws Exception {
        int groupPort = freeUdpPort();
        Set<String> everyone = new TreeSet<>();
        for (int i = 1; i <= NODES; i++) {
            String id = "m" + i;
            everyone.add(id);
            String[] props = ClusterArgs.node(id, NodeProcess.freePort()).multicastOnLoopback(groupPort)
                    .gossip("200ms", "2s").toArray();
            // No seeds: each node is ready on its own as soon as its store is open.
            nodes.add(NodeProcess.startReady("multicast-" + id, NodeProcess.newDataDir("multicast-" + id), props));
        }
        for (NodeProcess n : nodes) {
            assertTrue(n.output().contains("multicast discovery on 239.192.77.77:" + groupPort + " via lo"),
                    n + " did not start multicast discovery on lo:\n" + n.tail(20));
        }
        long ms = Await.until("all " + NODES + " nodes list " + everyone + " all reachable", CONVERGE, () -> {
            for (NodeProcess n : nodes) {
                if (!n.isAlive()) {
                    throw new AssertionError(n + " died:\n" + n.tail(40));
                }
                if (!ClusterView.of(n).isExactlyReachable(everyone)) {
                    return false;
                }
            }
            return true;
        }, this::views);
        System.out.printf("[it] %d nodes found each other by multicast (group port %d) and converged %d ms after the "
                + "last one was ready%n", NODES, groupPort, ms);
        for (NodeProcess n : nodes) {
            assertTrue(ClusterView.of(n).joined(), n + " converged but does not say it joined");
            assertTrue(NodeProbe.readyStatus(n) == 200, n + " converged but is not ready");
        }
    }

    /** A UDP port free right now on every interface (the discovery socket binds the wildcard address). */
    private static int freeUdpPort() throws SocketException {
        try (DatagramSocket s = new DatagramSocket(0)) {
            return s.getLocalPort();
        }
    }

    private String views() {
        return ClusterView.views(nodes);
    }
}
