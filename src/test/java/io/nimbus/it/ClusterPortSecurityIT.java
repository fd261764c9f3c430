package io.nimbus.it;

import io.nimbus.cluster.transport.ClusterTls;
import io.nimbus.cluster.transport.TestPki;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.net.http.HttpClient;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The cluster port as a deployment sees it: a node refuses to open it beyond loopback without peer
 * authentication, and three workers run over mutual TLS (per-node certificates of a CA made for the
 * test) while a node holding a certificate of another CA is refused.
 */
class ClusterPortSecurityIT {
    private static final Duration BOUND = Duration.ofSeconds(40);

    private final List<NodeProcess> nodes = new ArrayList<>();

    @AfterEach
    void killNodes() {
        NodeProcess.closeAll(nodes);
    }

    private NodeProcess track(NodeProcess n) {
        nodes.add(n);
        return n;
    }

    @Test
    void aRoutableClusterPortWithoutAuthenticationStopsStartUp() throws Exception {
        String[] open = ClusterArgs.node("open", NodeProcess.freePort()).with("nimbus.cluster.bind-host=0.0.0.0").toArray();
        NodeProcess refused = track(NodeProcess.start("port-open", NodeProcess.newDataDir("port-open"), open));
        long t0 = System.nanoTime();
        int exit = refused.runToExit(Duration.ofSeconds(60));
        String out = refused.output();
        assertNotEquals(0, exit, "the node must not run:\n" + out);
        assertTrue(out.contains("not a loopback address") && out.contains("nimbus.cluster.secret")
                && out.contains("nimbus.cluster.tls.cert-file"), "no fix in the message:\n" + refused.tail(40));
        System.out.printf("[it] unauthenticated cluster port on 0.0.0.0: exited %d after %d ms%n", exit,
                (System.nanoTime() - t0) / 1_000_000);

        // the same node with a secret starts: the check refuses the missing authentication, not the address
        String[] withSecret = ClusterArgs.node("open", NodeProcess.freePort()).with("nimbus.cluster.bind-host=0.0.0.0")
                .secret("s3cret").toArray();
        track(NodeProcess.startReady("port-secret", NodeProcess.newDataDir("port-secret"), withSecret));
    }

    @Test
    void threeWorkersOverMutualTlsAndAnIntruderOfAnotherCa() throws Exception {
        Path pki = Files.createTempDirectory(NodeProcess.newDataDir("pki").getParent(), "pki");
        TestPki ca = TestPki.create(pki.resolve("cluster"), "nimbus-it-ca");
        int[] ports = {NodeProcess.freePort(), NodeProcess.freePort(), NodeProcess.freePort()};
        List<NodeProcess> workers = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            String id = "tls-" + (i + 1);
            ClusterArgs args = tls(ClusterArgs.node(id, ports[i]).gossip("200ms", "2s").seedBackoffMax("1s"),
                    ca.issue(id));
            if (i > 0) {
                args.seeds(ports[0]);
            }
            workers.add(track(NodeProcess.start(id, NodeProcess.newDataDir(id), args.toArray())));
        }
        for (NodeProcess w : workers) {
            w.awaitReady(NodeProcess.READY_TIMEOUT);
        }
        Set<String> all = Set.of("tls-1", "tls-2", "tls-3");
        Await.until("the three workers list exactly each other, reachable", BOUND, () -> {
            for (NodeProcess w : workers) {
                if (!ClusterView.of(w).isExactlyReachable(all)) {
                    return false;
                }
            }
            return true;
        }, () -> ClusterView.views(workers));

        HttpClient http = KvClient.newClient();
        long ms = Await.until("a QUORUM write through tls-1 is acknowledged", BOUND, () -> {
            HttpResponse<String> r = KvClient.put(http, workers.get(0), "over-tls", "sealed", "QUORUM", Duration.ofSeconds(5));
            if (r.statusCode() == 503 || r.statusCode() == 504) {
                return false;
            }
            assertEquals(204, r.statusCode(), r.body());
            return true;
        }, () -> ClusterView.views(workers));
        HttpResponse<String> read = KvClient.get(http, workers.get(2), "over-tls", "QUORUM", Duration.ofSeconds(5));
        assertEquals(200, read.statusCode(), read.body());
        assertEquals("sealed", read.body());
        System.out.printf("[it] 3 workers over mutual TLS: QUORUM write through tls-1 acknowledged after %d ms, read "
                + "back through tls-3%n", ms);

        TestPki other = TestPki.create(pki.resolve("other"), "other-ca");
        ClusterTls foreign = other.issue("intruder");
        // it trusts the cluster's CA, so it is its own certificate that gets it refused
        ClusterTls intruderTls = new ClusterTls(foreign.certFile(), foreign.keyFile(), ca.caCert().toString());
        NodeProcess intruder = track(NodeProcess.start("tls-intruder", NodeProcess.newDataDir("tls-intruder"),
                tls(ClusterArgs.node("tls-intruder", NodeProcess.freePort()).gossip("200ms", "2s").seedBackoffMax("1s")
                        .seeds(ports[0]), intruderTls).toArray()));
        Await.until("tls-1 logs the refused TLS handshake", BOUND,
                () -> workers.get(0).output().contains("TLS handshake failed"), () -> workers.get(0).tail(20));
        Await.during("the intruder stays unready and unseen", Duration.ofSeconds(3), () -> {
            boolean ok = NodeProbe.readyStatus(intruder) != 200;
            for (NodeProcess w : workers) {
                ok &= ClusterView.of(w).isExactlyReachable(all);
            }
            return ok;
        }, () -> ClusterView.views(workers) + "\nintruder:\n" + intruder.tail(20));
        double rejected = NodeProbe.metric(workers.get(0), "nimbus_cluster_connections_rejected_total");
        assertTrue(rejected >= 1, "tls-1 counts " + rejected + " rejected connections");
        System.out.printf("[it] intruder with a certificate of another CA refused; tls-1 counts %.0f rejected%n", rejected);
    }

    private static ClusterArgs tls(ClusterArgs args, ClusterTls tls) {
        return args.with("nimbus.cluster.tls.cert-file=" + tls.certFile()).with("nimbus.cluster.tls.key-file=" + tls.keyFile())
                .with("nimbus.cluster.tls.trust-file=" + tls.trustFile());
    }
}
