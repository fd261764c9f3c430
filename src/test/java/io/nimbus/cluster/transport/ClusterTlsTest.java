package io.nimbus.cluster.transport;

import io.nimbus.core.gossip.Endpoint;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Mutual TLS on the cluster port: certificates of the cluster CA in both directions, nothing else. */
class ClusterTlsTest {
    @TempDir
    static Path dir;
    private static ClusterTls a1;
    private static ClusterTls a2;
    private static ClusterTls b1;

    private Vertx vertx;
    private final List<ClusterTransport> transports = new ArrayList<>();
    private final AtomicInteger handled = new AtomicInteger();
    private int port;

    @BeforeAll
    static void pki() throws Exception {
        TestPki cluster = TestPki.create(dir.resolve("a"), "cluster-a");
        a1 = cluster.issue("a1");
        a2 = cluster.issue("a2");
        b1 = TestPki.create(dir.resolve("b"), "other-b").issue("b1");
    }

    @BeforeEach
    void start() {
        vertx = Vertx.vertx();
    }

    @AfterEach
    void stop() throws Exception {
        transports.forEach(ClusterTransport::close);
        vertx.close().toCompletionStage().toCompletableFuture().get(5, TimeUnit.SECONDS);
    }

    private static TransportSettings settings(String secret, ClusterTls tls) {
        TransportSettings s = TransportSettings.of(secret, 1 << 20, 16).withTimeouts(3000, 60_000);
        return tls == null ? s : s.withTls(tls);
    }

    private ClusterTransport server(TransportSettings s) throws Exception {
        ClusterTransport t = new ClusterTransport(vertx, s, req -> {
            handled.incrementAndGet();
            return Future.succeededFuture(new ClusterTransport.Message(7, req.body()));
        });
        transports.add(t);
        port = t.listen("127.0.0.1", 0).toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
        return t;
    }

    private Future<ClusterTransport.Message> ask(TransportSettings s) {
        ClusterTransport t = new ClusterTransport(vertx, s, req -> Future.failedFuture(new IllegalStateException("client")));
        transports.add(t);
        return t.request(new Endpoint("127.0.0.1", port), new ClusterTransport.Message(1, new byte[]{1}), 8000);
    }

    private static <T> T await(Future<T> f) throws Exception {
        return f.toCompletionStage().toCompletableFuture().get(15, TimeUnit.SECONDS);
    }

    @Test
    void peersWithCertificatesOfTheClusterCaTalk() throws Exception {
        server(settings(null, a1));
        assertEquals(7, await(ask(settings(null, a2))).type());
        assertEquals(1, handled.get());
    }

    @Test
    void aPeerWithACertificateOfAnotherCaIsRefused() throws Exception {
        ClusterTransport server = server(settings(null, a1));
        // it trusts the cluster CA (whose certificate is no secret), so only the server's check of its certificate stops it
        ClusterTls intruder = new ClusterTls(b1.certFile(), b1.keyFile(), a1.trustFile());
        ExecutionException e = assertThrows(ExecutionException.class, () -> await(ask(settings(null, intruder))));
        assertEquals(0, handled.get());
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
        while (server.stats().connectionsRejected() == 0 && System.nanoTime() < deadline) {
            Thread.sleep(10);
        }
        assertEquals(1, server.stats().connectionsRejected(), "the server counted the refused TLS handshake");
        System.out.println("[tls] client of another CA: " + e.getCause().getMessage());
    }

    @Test
    void aClientDoesNotTalkToAServerOfAnotherCa() throws Exception {
        server(settings(null, b1));
        ExecutionException e = assertThrows(ExecutionException.class, () -> await(ask(settings(null, a1))));
        assertTrue(e.getCause().getMessage().contains("during the handshake"), e.getCause().getMessage());
        assertEquals(0, handled.get());
    }

    @Test
    void aPlainTcpPeerGetsNothingFromATlsPort() throws Exception {
        ClusterTransport server = server(settings(null, a1));
        assertThrows(ExecutionException.class, () -> await(ask(settings(null, null))));
        assertEquals(0, handled.get());
        RawPeer raw = new RawPeer(port);
        raw.write(io.vertx.core.buffer.Buffer.buffer().appendInt(16 << 20)); // not a TLS record: the TLS handshake fails
        raw.awaitClosed(8000);
        raw.close();
        assertTrue(server.stats().connectionsRejected() + server.stats().handshakeTimeouts() >= 1);
    }

    @Test
    void tlsAndTheSecretTogetherNeedBoth() throws Exception {
        server(settings("s3cret", a1));
        assertEquals(7, await(ask(settings("s3cret", a2))).type());
        assertThrows(ExecutionException.class, () -> await(ask(settings("wrong", a2))));
        assertThrows(ExecutionException.class, () -> await(ask(settings("s3cret", b1))));
        assertEquals(1, handled.get());
    }
}
