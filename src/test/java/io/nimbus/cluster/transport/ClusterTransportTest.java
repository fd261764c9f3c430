package io.nimbus.cluster.transport;

import io.nimbus.core.gossip.Endpoint;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.net.NetSocket;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The internal transport on real loopback sockets. */
class ClusterTransportTest {
    private Vertx vertx;
    private final List<ClusterTransport> transports = new ArrayList<>();
    private final AtomicInteger handled = new AtomicInteger();

    @BeforeEach
    void start() {
        vertx = Vertx.vertx();
    }

    @AfterEach
    void stop() throws Exception {
        transports.forEach(ClusterTransport::close);
        vertx.close().toCompletionStage().toCompletableFuture().get(5, TimeUnit.SECONDS);
    }

    /** A server that answers type 7 with the request body reversed, after a random delay up to 20 ms. */
    private Endpoint server(String secret) throws Exception {
        ClusterTransport t = new ClusterTransport(vertx, secret, 1 << 20, 1024, req -> {
            handled.incrementAndGet();
            Promise<ClusterTransport.Message> p = Promise.promise();
            byte[] b = req.body();
            byte[] reversed = new byte[b.length];
            for (int i = 0; i < b.length; i++) {
                reversed[i] = b[b.length - 1 - i];
            }
            vertx.setTimer(1 + (b.length == 0 ? 0 : (b[0] & 0xff) % 20), x -> p.complete(new ClusterTransport.Message(7, reversed)));
            return p.future();
        });
        transports.add(t);
        int port = t.listen("127.0.0.1", 0).toCompletionStage().toCompletableFuture().get(5, TimeUnit.SECONDS);
        return new Endpoint("127.0.0.1", port);
    }

    private ClusterTransport client(String secret) {
        ClusterTransport t = new ClusterTransport(vertx, secret, 1 << 20, 1024,
                req -> Future.failedFuture(new IllegalStateException("client only")));
        transports.add(t);
        return t;
    }

    private static <T> T await(Future<T> f) throws Exception {
        return f.toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
    }

    @Test
    void concurrentRequestsOnOneConnectionNeverCross() throws Exception {
        Endpoint server = server(null);
        ClusterTransport client = client(null);
        List<CompletableFuture<ClusterTransport.Message>> replies = new ArrayList<>();
        for (int i = 0; i < 500; i++) {
            byte[] body = ByteBuffer.allocate(8).putInt(i * 7919).putInt(i).array();
            replies.add(client.request(server, new ClusterTransport.Message(1, body), 5000).toCompletionStage().toCompletableFuture());
        }
        for (int i = 0; i < 500; i++) {
            byte[] expected = ByteBuffer.allocate(8).putInt(i * 7919).putInt(i).array();
            byte[] reversed = new byte[8];
            for (int k = 0; k < 8; k++) {
                reversed[k] = expected[7 - k];
            }
            ClusterTransport.Message m = replies.get(i).get(10, TimeUnit.SECONDS);
            assertEquals(7, m.type());
            assertArrayEquals(reversed, m.body(), "reply " + i);
        }
        assertEquals(500, handled.get());
    }

    @Test
    void repliesCompletedOnOtherThreadsAreSignedInOrderWithASecret() throws Exception {
        // Replicas answer from the store's writer thread, gossip from the event loop: with a per-frame MAC,
        // both kinds of reply on one connection must still be signed one at a time, in counter order.
        java.util.concurrent.ExecutorService writers = java.util.concurrent.Executors.newFixedThreadPool(4);
        try {
            ClusterTransport t = new ClusterTransport(vertx, "s3cret", 1 << 20, 4096, req -> {
                Promise<ClusterTransport.Message> p = Promise.promise();
                if (req.type() % 2 == 0) {
                    writers.execute(() -> p.complete(new ClusterTransport.Message(8, req.body())));
                } else {
                    p.complete(new ClusterTransport.Message(9, req.body()));
                }
                return p.future();
            });
            transports.add(t);
            Endpoint server = new Endpoint("127.0.0.1", await(t.listen("127.0.0.1", 0)));
            ClusterTransport client = client("s3cret");
            List<CompletableFuture<ClusterTransport.Message>> replies = new ArrayList<>();
            for (int i = 0; i < 1000; i++) { // the client's pending-per-peer limit is 1024
                replies.add(client.request(server, new ClusterTransport.Message(i % 2, ByteBuffer.allocate(4).putInt(i).array()),
                        10_000).toCompletionStage().toCompletableFuture());
            }
            for (int i = 0; i < replies.size(); i++) {
                ClusterTransport.Message m = replies.get(i).get(20, TimeUnit.SECONDS);
                assertEquals(i % 2 == 0 ? 8 : 9, m.type());
                assertEquals(i, ByteBuffer.wrap(m.body()).getInt());
            }
            assertEquals(0, client.stats().badMacs() + t.stats().badMacs(), "frames failed their MAC");
        } finally {
            writers.shutdownNow();
        }
    }

    @Test
    void framesQueuedTogetherGoOutInOneWriteAndOneAtATimeWithBatchingOff() throws Exception {
        // write-batch-bytes-max: the default, 0 (off), and 1 (every frame is over it: written at once)
        for (int batchMax : new int[]{TransportSettings.WRITE_BATCH_BYTES_DEFAULT, 0, 1}) {
            List<Promise<ClusterTransport.Message>> held = java.util.Collections.synchronizedList(new ArrayList<>());
            TransportSettings settings = TransportSettings.of("s3cret", 1 << 20, 1024).withWriteBatchBytesMax(batchMax);
            ClusterTransport server = new ClusterTransport(vertx, settings, req -> {
                Promise<ClusterTransport.Message> p = Promise.promise();
                held.add(p);
                return p.future();
            });
            transports.add(server);
            Endpoint at = new Endpoint("127.0.0.1", await(server.listen("127.0.0.1", 0)));
            ClusterTransport client = new ClusterTransport(vertx, settings,
                    req -> Future.failedFuture(new IllegalStateException("client only")));
            transports.add(client);
            CompletableFuture<ClusterTransport.Message> first = client.request(at,
                    new ClusterTransport.Message(1, new byte[]{1}), 5000).toCompletionStage().toCompletableFuture();
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
            while (held.isEmpty() && System.nanoTime() < deadline) {
                Thread.sleep(5);
            }
            assertEquals(1, held.size(), "a first request reached the server");
            // the connection is up (handshake done): 200 requests queued to the client's context in one task ...
            long framesBefore = client.stats().framesSent();
            long writesBefore = client.stats().socketWrites();
            List<CompletableFuture<ClusterTransport.Message>> replies = java.util.Collections.synchronizedList(new ArrayList<>());
            CompletableFuture<Void> queued = new CompletableFuture<>();
            client.context().runOnContext(v -> {
                for (int i = 0; i < 200; i++) {
                    replies.add(client.request(at, new ClusterTransport.Message(2, ByteBuffer.allocate(4).putInt(i).array()),
                            5000).toCompletionStage().toCompletableFuture());
                }
                queued.complete(null);
            });
            queued.get(5, TimeUnit.SECONDS);
            deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
            while (held.size() < 201 && System.nanoTime() < deadline) {
                Thread.sleep(5);
            }
            assertEquals(201, held.size(), "the server got every request");
            long requestFrames = client.stats().framesSent() - framesBefore;
            long requestWrites = client.stats().socketWrites() - writesBefore;
            // ... and their 201 answers completed in one task on the server's context
            long serverFramesBefore = server.stats().framesSent();
            long serverWritesBefore = server.stats().socketWrites();
            CompletableFuture<Void> answered = new CompletableFuture<>();
            server.context().runOnContext(v -> {
                for (Promise<ClusterTransport.Message> p : held) {
                    p.complete(new ClusterTransport.Message(9, new byte[]{9}));
                }
                answered.complete(null);
            });
            answered.get(5, TimeUnit.SECONDS);
            assertEquals(9, first.get(10, TimeUnit.SECONDS).type());
            for (int i = 0; i < 200; i++) {
                ClusterTransport.Message m = replies.get(i).get(10, TimeUnit.SECONDS);
                assertEquals(9, m.type(), "answer " + i);
            }
            long answerFrames = server.stats().framesSent() - serverFramesBefore;
            long answerWrites = server.stats().socketWrites() - serverWritesBefore;
            assertEquals(200, requestFrames);
            assertEquals(201, answerFrames);
            if (batchMax == TransportSettings.WRITE_BATCH_BYTES_DEFAULT) {
                // the first goes at once, the rest together once the tasks queued before them have run
                assertEquals(2, requestWrites, "200 requests of ~60 bytes queued together: two writes");
                assertEquals(2, answerWrites, "201 answers completed together: two writes");
            } else {
                assertEquals(requestFrames, requestWrites, "write-batch-bytes-max " + batchMax + ": a write per frame");
                assertEquals(answerFrames, answerWrites, "write-batch-bytes-max " + batchMax + ": a write per frame");
            }
            assertEquals(0, client.stats().badMacs() + server.stats().badMacs(), "frames failed their MAC");
            held.clear();
        }
    }

    @Test
    void aRequestWithoutAnswerTimesOut() throws Exception {
        ClusterTransport silent = new ClusterTransport(vertx, null, 1 << 20, 16, req -> Promise.<ClusterTransport.Message>promise().future());
        transports.add(silent);
        int port = await(silent.listen("127.0.0.1", 0));
        ExecutionException e = assertThrows(ExecutionException.class, () -> client(null)
                .request(new Endpoint("127.0.0.1", port), new ClusterTransport.Message(1, new byte[0]), 200)
                .toCompletionStage().toCompletableFuture().get(5, TimeUnit.SECONDS));
        assertInstanceOf(TimeoutException.class, e.getCause(), "it was written: the peer may have acted on it");
    }

    @Test
    void aRequestToAPortNobodyListensOnIsKnownNotSent() throws Exception {
        int port;
        try (java.net.ServerSocket s = new java.net.ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            port = s.getLocalPort();
        }
        ExecutionException e = assertThrows(ExecutionException.class, () -> client(null)
                .request(new Endpoint("127.0.0.1", port), new ClusterTransport.Message(1, new byte[0]), 2000)
                .toCompletionStage().toCompletableFuture().get(5, TimeUnit.SECONDS));
        assertInstanceOf(RequestNotSentException.class, e.getCause(), e.getCause().toString());
    }

    @Test
    void aRequestRefusedDuringTheHandshakeIsKnownNotSent() throws Exception {
        Endpoint server = server("s3cret");
        ExecutionException e = assertThrows(ExecutionException.class, () -> await(client("wrong").request(server,
                new ClusterTransport.Message(1, new byte[]{1}), 2000)));
        assertInstanceOf(RequestNotSentException.class, e.getCause(), e.getCause().toString());
        assertEquals(0, handled.get());
    }

    @Test
    void aPeerWithTheWrongSecretIsRefusedBeforeAnyMessageIsHandled() throws Exception {
        Endpoint server = server("s3cret");
        assertThrows(ExecutionException.class, () -> await(client("wrong").request(server,
                new ClusterTransport.Message(1, new byte[]{1}), 2000)));
        assertThrows(ExecutionException.class, () -> await(client(null).request(server,
                new ClusterTransport.Message(1, new byte[]{1}), 2000)));
        assertEquals(0, handled.get(), "no request was handled");
        assertEquals(2, transports.get(0).stats().connectionsRejected());
        assertEquals(7, await(client("s3cret").request(server, new ClusterTransport.Message(1, new byte[]{1}), 2000)).type());
    }

    @Test
    void aClientWithASecretDoesNotTrustAServerWithout() throws Exception {
        Endpoint open = server(null);
        assertThrows(ExecutionException.class, () -> await(client("s3cret").request(open,
                new ClusterTransport.Message(1, new byte[]{1}), 2000)));
    }

    @Test
    void malformedFramesCloseTheirConnectionAndTheNodeGoesOn() throws Exception {
        Endpoint server = server(null);
        // a length prefix far over the limit, a length too short to hold a header, and a truncated frame
        for (Buffer junk : List.of(Buffer.buffer().appendInt(Integer.MAX_VALUE), Buffer.buffer().appendInt(3).appendInt(0),
                Buffer.buffer().appendInt(100).appendBytes(new byte[10]), Buffer.buffer("GET / HTTP/1.1\r\n\r\n"))) {
            NetSocket raw = await(vertx.createNetClient().connect(server.port(), server.host()));
            CompletableFuture<Void> closed = new CompletableFuture<>();
            raw.closeHandler(v -> closed.complete(null));
            raw.write(junk);
            if (junk.length() == 14) {
                raw.close(); // the truncated frame: the client gives up mid-frame
            }
            closed.get(5, TimeUnit.SECONDS);
        }
        assertTrue(transports.get(0).stats().malformedFrames() >= 3, "malformed: " + transports.get(0).stats().malformedFrames());
        assertEquals(0, handled.get());
        assertEquals(7, await(client(null).request(server, new ClusterTransport.Message(1, new byte[]{5}), 2000)).type());
    }

    @Test
    void garbageAfterAValidHandshakeClosesOnlyThatConnection() throws Exception {
        Endpoint server = server(null);
        ClusterTransport good = client(null);
        assertEquals(7, await(good.request(server, new ClusterTransport.Message(1, new byte[]{1}), 2000)).type());
        NetSocket raw = await(vertx.createNetClient().connect(server.port(), server.host()));
        CompletableFuture<Void> closed = new CompletableFuture<>();
        raw.closeHandler(v -> closed.complete(null));
        // handshake with an empty proof (no secret), then a frame of an unknown kind
        raw.write(Frames.encode(Frames.AUTH, 0, Frames.PROTOCOL_VERSION, new byte[PeerAuth.NONCE_BYTES]));
        raw.write(Frames.encode(42, 1, 1, new byte[0]));
        closed.get(5, TimeUnit.SECONDS);
        assertEquals(7, await(good.request(server, new ClusterTransport.Message(1, new byte[]{2}), 2000)).type());
    }

    @Test
    void answersBatchedBeforeAMalformedFrameStillGoOutBeforeTheConnectionCloses() throws Exception {
        // answered at once, in the read: the first answer is written, the second batched when the bad frame comes
        ClusterTransport t = new ClusterTransport(vertx, null, 1 << 20, 1024,
                req -> Future.succeededFuture(new ClusterTransport.Message(7, req.body())));
        transports.add(t);
        int port = await(t.listen("127.0.0.1", 0));
        try (RawPeer raw = new RawPeer(port).handshake(null)) {
            raw.write(Buffer.buffer().appendBuffer(raw.request(1, 1, new byte[]{1}))
                    .appendBuffer(raw.request(2, 1, new byte[]{2})).appendBuffer(Frames.encode(42, 3, 1, new byte[0])));
            assertEquals(1, raw.read().id());
            assertEquals(2, raw.read().id(), "the batched answer went out before the close");
            raw.awaitClosed(5000);
        }
        assertEquals(1, t.stats().malformedFrames());
    }

    @Test
    void aPeerThatGoesAwayFailsItsPendingRequestsAndReconnectsLater() throws Exception {
        Endpoint server = server(null);
        ClusterTransport client = client(null);
        assertEquals(7, await(client.request(server, new ClusterTransport.Message(1, new byte[]{1}), 2000)).type());
        transports.get(0).close();
        assertThrows(ExecutionException.class, () -> await(client.request(server, new ClusterTransport.Message(1, new byte[]{1}), 1000)));
        ClusterTransport again = new ClusterTransport(vertx, null, 1 << 20, 16,
                req -> Future.succeededFuture(new ClusterTransport.Message(9, new byte[0])));
        transports.add(again);
        await(again.listen("127.0.0.1", server.port()));
        assertEquals(9, await(client.request(server, new ClusterTransport.Message(1, new byte[]{1}), 2000)).type());
    }

    @Test
    void closingATransportWithOpenConnectionsFinishesAndFailsNothingLater() throws Exception {
        Endpoint server = server(null);
        ClusterTransport client = client(null);
        assertEquals(7, await(client.request(server, new ClusterTransport.Message(1, new byte[]{1}), 2000)).type());
        long start = System.nanoTime();
        client.close(); // waits at most 5 s for the close to complete, and logs if it did not
        long ms = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
        assertTrue(ms < 4000, "close completed instead of timing out (took " + ms + " ms)");
    }
}
