package io.nimbus.it;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ThreadLocalRandom;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The {@link LocalCluster} harness and its faults really happen: a partition cuts TCP between two
 * processes in both directions while both keep running, and heals; the rules are gone afterwards, also
 * when the test fails in the middle; SIGSTOP makes a node unreachable until SIGCONT; a node killed with
 * -9 comes back on the same address.
 */
class LocalClusterIT {

    @BeforeAll
    static void needsNft() {
        assertTrue(LoopbackPartitions.nftAvailable(),
                "partitions need the nft tool and root: apt-get install -y nftables (.ci/run does)");
    }

    /** Plain sockets, no Nimbus: what {@link LoopbackPartitions#cut} does to TCP between two addresses. */
    @Test
    void aCutStopsTcpBetweenTwoAddressesBothWaysAndItsRulesAreGoneEvenAfterAFailure() throws Exception {
        int c = ThreadLocalRandom.current().nextInt(1, 255);
        String a = "127.78." + c + ".1";
        String b = "127.78." + c + ".2";
        String other = "127.78." + c + ".3";
        String table;
        try (ServerSocket atA = listen(a); ServerSocket atB = listen(b)) {
            LoopbackPartitions p = LoopbackPartitions.create();
            table = p.table();
            try {
                assertTrue(LoopbackPartitions.tables().contains(table));
                assertTrue(connects(a, atB), "a -> b before any cut");
                assertTrue(connects(b, atA), "b -> a before any cut");
                try (Socket established = connect(a, atB); Socket accepted = acceptFrom(atB, established)) {
                    p.cut(List.of(Set.of(a), Set.of(b)));
                    assertFalse(connects(a, atB), "a -> b must time out while cut");
                    assertFalse(connects(b, atA), "b -> a must time out while cut");
                    assertTrue(connects(other, atA), "an address in no group still reaches a");
                    assertTrue(connects(other, atB), "... and b");
                    // an established connection stalls: what a writes does not arrive
                    established.getOutputStream().write(42);
                    established.getOutputStream().flush();
                    accepted.setSoTimeout(1500);
                    assertThrows(java.net.SocketTimeoutException.class, () -> accepted.getInputStream().read());
                    p.heal();
                    accepted.setSoTimeout(10_000);
                    assertEquals(42, accepted.getInputStream().read(), "after heal TCP retransmits the byte");
                }
                assertTrue(connects(a, atB), "a -> b after heal");
                assertTrue(connects(b, atA), "b -> a after heal");
                p.cut(List.of(Set.of(a), Set.of(b)));
                throw new IllegalStateException("a test failing while cut");
            } catch (IllegalStateException expected) {
                assertEquals("a test failing while cut", expected.getMessage());
            } finally {
                p.close();
            }
            assertFalse(LoopbackPartitions.tables().contains(table), "the table is deleted by close()");
            assertTrue(connects(a, atB), "nothing is cut once the table is gone");
        }
    }

    @Test
    void partitionPauseAndKillOfRealNodes() throws Exception {
        String table;
        List<Long> pids;
        try (LocalCluster cluster = LocalCluster.builder().label("lc").workers(3).partitionable()
                .property("nimbus.gossip.interval=200ms").property("nimbus.gossip.failure-timeout=2s").start()) {
            table = cluster.nftTable();
            LocalCluster.Node w1 = cluster.workers().get(0);
            LocalCluster.Node w2 = cluster.workers().get(1);
            LocalCluster.Node w3 = cluster.workers().get(2);

            // isolate w1: it and the others stop seeing each other; w2 and w3 still see each other
            cluster.partition(List.of(w1), List.of(w2, w3));
            Await.until("w1 and {w2,w3} see each other unreachable", Duration.ofSeconds(30), () ->
                    !reachable(w1, w2) && !reachable(w1, w3) && !reachable(w2, w1) && !reachable(w3, w1)
                            && reachable(w2, w3) && reachable(w3, w2), cluster::describeState);
            assertTrue(w1.isUp() && w2.isUp() && w3.isUp(), "all three processes keep running");
            int isolated = put(w1, "lc-key", "from the minority");
            assertTrue(isolated == 503 || isolated == 504, "a QUORUM write on the isolated node fails: " + isolated);
            assertEquals(204, put(w2, "lc-key", "from the majority"));
            cluster.heal();
            cluster.awaitConverged(Duration.ofSeconds(30));
            assertEquals(204, put(w1, "lc-key", "after heal"));

            // SIGSTOP: the others see w3 unreachable until SIGCONT
            cluster.pause(w3);
            Await.until("w1 and w2 see the paused w3 unreachable", Duration.ofSeconds(30),
                    () -> !reachable(w1, w3) && !reachable(w2, w3), cluster::describeState);
            assertTrue(w3.process().isAlive());
            cluster.resume(w3);
            cluster.awaitConverged(Duration.ofSeconds(30));

            // kill -9 and restart: same ports, same data, rejoins
            long before = w2.process().pid();
            cluster.kill9(w2);
            assertFalse(w2.isUp());
            cluster.restart(w2);
            assertNotEquals(before, w2.process().pid());
            cluster.awaitConverged(Duration.ofSeconds(60));
            HttpResponse<String> read = w2.process().http().send(HttpRequest.newBuilder(w2.process().kvUri("lc-key"))
                    .timeout(Duration.ofSeconds(10)).GET().build(), HttpResponse.BodyHandlers.ofString());
            assertEquals("after heal", read.body());
            pids = cluster.nodes().stream().map(n -> n.process().pid()).toList();
        }
        assertFalse(LoopbackPartitions.tables().contains(table), "close() deleted the table " + table);
        for (long pid : pids) {
            assertFalse(ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false), "pid " + pid + " is gone");
        }
    }

    private static boolean reachable(LocalCluster.Node viewer, LocalCluster.Node of) throws Exception {
        return ClusterView.of(viewer.process()).member(of.name).map(ClusterView.Member::reachable).orElse(false);
    }

    private static int put(LocalCluster.Node n, String key, String value) throws Exception {
        return n.process().http().send(HttpRequest.newBuilder(n.process().kvUri(key))
                .timeout(Duration.ofSeconds(15)).PUT(HttpRequest.BodyPublishers.ofString(value)).build(),
                HttpResponse.BodyHandlers.ofString()).statusCode();
    }

    private static ServerSocket listen(String address) throws IOException {
        return new ServerSocket(0, 50, InetAddress.getByName(address));
    }

    private static Socket connect(String from, ServerSocket to) throws IOException {
        Socket s = new Socket();
        s.bind(new InetSocketAddress(InetAddress.getByName(from), 0));
        s.connect(new InetSocketAddress(to.getInetAddress(), to.getLocalPort()), 1000);
        return s;
    }

    /** Accepts connections (earlier test connections may be queued first) until the one from {@code client}. */
    private static Socket acceptFrom(ServerSocket server, Socket client) throws IOException {
        server.setSoTimeout(5000);
        for (int i = 0; i < 100; i++) {
            Socket s = server.accept();
            if (s.getPort() == client.getLocalPort()) {
                return s;
            }
            s.close();
        }
        throw new IOException("no accepted connection from " + client);
    }

    /** Whether a TCP connection from {@code from} to the server is established within 1 s. */
    private static boolean connects(String from, ServerSocket to) {
        try (Socket s = connect(from, to)) {
            return s.isConnected();
        } catch (IOException e) {
            return false;
        }
    }
}
