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
            // No seeds, the same settings everywhere: m1 is named as the one that may found the cluster; the
            // others join it once discovery finds it
            String[] props = ClusterArgs.node(id, NodeProcess.freePort()).multicastOnLoopback(groupPort)
                    .gossip("200ms", "2s").bootstrapNode("m1").toArray();
            nodes.add(NodeProcess.start("multicast-" + id, NodeProcess.newDataDir("multicast-" + id), props));
        }
        for (NodeProcess n : nodes) {
            n.awaitReady(NodeProcess.READY_TIMEOUT);
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
        java.util.Set<String> clusterIds = new TreeSet<>();
        for (NodeProcess n : nodes) {
            assertTrue(ClusterView.of(n).joined(), n + " converged but does not say it joined");
            assertTrue(NodeProbe.readyStatus(n) == 200, n + " converged but is not ready");
            clusterIds.add(new com.fasterxml.jackson.databind.ObjectMapper().readTree(n.fetch("/v1/cluster/topology"))
                    .get("clusterId").asText());
        }
        org.junit.jupiter.api.Assertions.assertEquals(1, clusterIds.size(), "one cluster, not one per node: " + clusterIds);
        // and it is one store: a QUORUM write through one node reads back through another
        var put = nodes.get(1).put("multicast-key", "found".getBytes());
        org.junit.jupiter.api.Assertions.assertEquals(204, put.statusCode(), put.body());
        var get = nodes.get(2).get("multicast-key");
        org.junit.jupiter.api.Assertions.assertEquals(200, get.statusCode());
        org.junit.jupiter.api.Assertions.assertArrayEquals("found".getBytes(), get.body());
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
