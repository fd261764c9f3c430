package io.nimbus.cluster.transport;

import io.nimbus.core.gossip.Endpoint;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.io.OutputStream;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * What an unauthenticated or hostile client of the cluster port can make a node do, on real sockets:
 * frames bounded before authentication, the handshake time-out, the connection limits, per-frame MACs,
 * the protocol version, and idle connections.
 */
class ClusterPortHardeningTest {
    private static final String SECRET = "s3cret";
    private static final int SIXTEEN_MIB = 16 << 20;

    private Vertx vertx;
    private final List<ClusterTransport> transports = new ArrayList<>();
    private final List<AutoCloseable> sockets = new ArrayList<>();
    private final AtomicInteger handled = new AtomicInteger();

    @BeforeEach
    void start() {
        vertx = Vertx.vertx();
    }

    @AfterEach
    void stop() throws Exception {
        for (AutoCloseable s : sockets) {
            s.close();
        }
        transports.forEach(ClusterTransport::close);
        vertx.close().toCompletionStage().toCompletableFuture().get(5, TimeUnit.SECONDS);
    }

    /** A transport that echoes type 7 with the request's body; returns it, listening on 127.0.0.1. */
    private ClusterTransport server(TransportSettings s) throws Exception {
        ClusterTransport t = new ClusterTransport(vertx, s, req -> {
            handled.incrementAndGet();
            return Future.succeededFuture(new ClusterTransport.Message(7, req.body()));
        });
        transports.add(t);
        port = await(t.listen("127.0.0.1", 0));
        return t;
    }

    private int port;

    private Endpoint endpoint() {
        return new Endpoint("127.0.0.1", port);
    }

    private ClusterTransport client(TransportSettings s) {
        ClusterTransport t = new ClusterTransport(vertx, s, req -> Future.failedFuture(new IllegalStateException("client")));
        transports.add(t);
        return t;
    }

    private RawPeer raw() throws IOException {
        RawPeer p = new RawPeer(port);
        sockets.add(p);
        return p;
    }

    private static <T> T await(Future<T> f) throws Exception {
        return f.toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
    }

    private int ask(ClusterTransport client) throws Exception {
        return await(client.request(endpoint(), new ClusterTransport.Message(1, new byte[]{1}), 2000)).type();
    }

    private static void eventually(String what, long timeoutMs, java.util.function.BooleanSupplier condition)
            throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(timeoutMs);
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError(what + " did not happen within " + timeoutMs + " ms");
            }
            Thread.sleep(10);
        }
    }

    @Test
    void aBigLengthPrefixBeforeAuthenticationClosesTheConnectionAfterItsFourBytes() throws Exception {
        ClusterTransport server = server(TransportSettings.of(SECRET, SIXTEEN_MIB, 16));
        RawPeer p = raw();
        assertEquals(Frames.HELLO, p.read().kind());
        p.write(Buffer.buffer().appendInt(SIXTEEN_MIB));
        long ms = p.awaitClosed(2000);
        assertEquals(4, server.stats().bytesReceived(), "the server read exactly the length prefix");
        assertEquals(1, server.stats().malformedFrames());
        // one byte over the handshake bound is refused as well, well below frame-bytes-max
        RawPeer q = raw();
        q.read();
        q.write(Buffer.buffer().appendInt(Frames.HANDSHAKE_BYTES_MAX + 1));
        q.awaitClosed(2000);
        assertEquals(8, server.stats().bytesReceived());
        assertEquals(0, handled.get());
        System.out.printf("[transport] 16 MiB length prefix before authentication: closed after %d ms, %d bytes read%n",
                ms, 4);
    }

    @Test
    void fiftyConnectionsSendingSixteenMebibyteFramesCannotMakeTheServerBufferThem() throws Exception {
        ClusterTransport server = server(TransportSettings.of(SECRET, SIXTEEN_MIB, 16));
        Runtime rt = Runtime.getRuntime();
        System.gc();
        long heapBefore = rt.totalMemory() - rt.freeMemory();
        byte[] attack = Buffer.buffer().appendInt(SIXTEEN_MIB).appendBytes(new byte[1 << 20]).getBytes();
        List<RawPeer> attackers = new ArrayList<>();
        for (int i = 0; i < 50; i++) {
            attackers.add(raw());
        }
        long peakHeap = 0;
        for (RawPeer p : attackers) {
            p.writeIgnoringClose(attack);
            peakHeap = Math.max(peakHeap, rt.totalMemory() - rt.freeMemory());
        }
        for (RawPeer p : attackers) {
            p.awaitClosed(5000);
        }
        long read = server.stats().bytesReceived();
        // each connection may have had one socket read (at most 64 KiB by default) in flight when it was refused
        assertTrue(read <= 50L * 256 * 1024, "read " + read + " bytes from 50 attackers");
        assertEquals(50, server.stats().malformedFrames());
        assertEquals(7, ask(client(TransportSettings.of(SECRET, SIXTEEN_MIB, 16))), "the node goes on serving peers");
        System.out.printf("[transport] 50 connections x (16 MiB prefix + 1 MiB): server read %d bytes in all "
                        + "(%.1f KiB per connection); heap used %d MiB before, at most %d MiB during (whole test JVM)%n",
                read, read / 50.0 / 1024, heapBefore >> 20, peakHeap >> 20);
    }

    @Test
    void aConnectionThatDoesNotAuthenticateIsClosedWithinTheHandshakeTimeout() throws Exception {
        ClusterTransport server = server(TransportSettings.of(SECRET, 1 << 20, 16).withTimeouts(300, 60_000));
        long t0 = System.nanoTime();
        RawPeer silent = raw();
        assertEquals(Frames.HELLO, silent.read().kind());
        silent.awaitClosed(3000);
        long ms = (System.nanoTime() - t0) / 1_000_000;
        t0 = System.nanoTime();
        RawPeer slow = raw(); // starts an AUTH frame and never finishes it
        slow.read();
        slow.write(Buffer.buffer().appendInt(60).appendByte((byte) Frames.AUTH));
        slow.awaitClosed(3000);
        long slowMs = (System.nanoTime() - t0) / 1_000_000;
        assertTrue(ms >= 250 && ms < 2500 && slowMs >= 250 && slowMs < 2500, "closed after " + ms + " / " + slowMs + " ms");
        assertEquals(2, server.stats().handshakeTimeouts());
        System.out.printf("[transport] unauthenticated connections closed %d ms (silent) and %d ms (half a frame) "
                + "after connecting, handshake time-out 300 ms%n", ms, slowMs);
    }

    @Test
    void handshakesAtOnceAreBounded() throws Exception {
        ClusterTransport server = server(TransportSettings.of(null, 1 << 20, 16).withConnectionLimits(2, 64));
        RawPeer a = raw();
        RawPeer b = raw();
        a.read();
        b.read();
        RawPeer third = raw();
        assertThrows(java.io.EOFException.class, third::read, "a third unauthenticated connection gets no HELLO");
        assertEquals(1, server.stats().connectionsRefused());
        a.handshake(null); // one completes its handshake: room for one more
        assertEquals(7, ask(client(TransportSettings.of(null, 1 << 20, 16))));
        assertEquals(1, server.stats().connectionsRefused());
    }

    @Test
    void connectionsPerRemoteAddressAreBounded() throws Exception {
        ClusterTransport server = server(TransportSettings.of(null, 1 << 20, 16).withConnectionLimits(64, 2));
        raw().handshake(null);
        raw().handshake(null);
        RawPeer third = raw();
        assertThrows(java.io.EOFException.class, third::read);
        assertEquals(1, server.stats().connectionsRefused());
        ClusterTransport elsewhere = client(new TransportSettings(Optional.empty(), Optional.empty(), 1 << 20, 16, 5000,
                60_000, 64, 64, Optional.of("127.0.0.2"), TransportSettings.WRITE_BATCH_BYTES_DEFAULT));
        assertEquals(7, ask(elsewhere), "a peer at another address is not affected");
    }

    @Test
    void aFrameReplayedAfterTheHandshakeIsRefusedAndClosesTheConnection() throws Exception {
        ClusterTransport server = server(TransportSettings.of(SECRET, 1 << 20, 16));
        RawPeer p = raw().handshake(SECRET);
        Buffer request = p.request(1, 1, new byte[]{42});
        p.write(request);
        Frames.Frame reply = p.read(); // its MAC checked by RawPeer under the server-to-client key
        assertEquals(Frames.RESPONSE, reply.kind());
        assertArrayEquals(new byte[]{42}, reply.payload());
        p.write(request); // the same bytes again
        p.awaitClosed(2000);
        assertEquals(1, handled.get(), "the replay was not handled");
        assertEquals(1, server.stats().badMacs());
    }

    @Test
    void aTamperedOrUnsignedFrameAfterTheHandshakeIsRefused() throws Exception {
        ClusterTransport server = server(TransportSettings.of(SECRET, 1 << 20, 16));
        RawPeer tampered = raw().handshake(SECRET);
        Buffer request = tampered.request(1, 1, new byte[]{1, 2, 3});
        request.setByte(15, (byte) 99);
        tampered.write(request);
        tampered.awaitClosed(2000);
        RawPeer unsigned = raw().handshake(SECRET);
        unsigned.write(Frames.encode(Frames.REQUEST, 1, 1, new byte[32])); // as long as a MACed one, tag all zero
        unsigned.awaitClosed(2000);
        assertEquals(0, handled.get());
        assertEquals(2, server.stats().badMacs());
        assertEquals(7, ask(client(TransportSettings.of(SECRET, 1 << 20, 16))), "honest peers still get through");
    }

    @Test
    void aResponseWithABadMacFailsTheRequestAtTheConnectingSide() throws Exception {
        try (ServerSocket fake = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            CompletableFuture<Void> served = CompletableFuture.runAsync(() -> {
                try (Socket s = fake.accept()) {
                    java.io.DataInputStream in = new java.io.DataInputStream(s.getInputStream());
                    OutputStream out = s.getOutputStream();
                    PeerAuth auth = new PeerAuth(SECRET, new java.security.SecureRandom());
                    byte[] nonce = auth.nonce();
                    byte[] hello = new byte[1 + nonce.length];
                    hello[0] = Frames.FLAG_SECRET;
                    System.arraycopy(nonce, 0, hello, 1, nonce.length);
                    out.write(Frames.encode(Frames.HELLO, 0, Frames.PROTOCOL_VERSION, hello).getBytes());
                    byte[] authFrame = new byte[in.readInt()];
                    in.readFully(authFrame);
                    byte[] clientNonce = java.util.Arrays.copyOfRange(Frames.decode(Buffer.buffer(authFrame)).payload(), 0,
                            PeerAuth.NONCE_BYTES);
                    out.write(Frames.encode(Frames.AUTH_OK, 0, 0, auth.serverProof(clientNonce)).getBytes());
                    PeerAuth.SessionKeys keys = auth.sessionKeys(nonce, clientNonce);
                    byte[] request = new byte[in.readInt()];
                    in.readFully(request);
                    // the client's own frame reflected back at it (signed with the client-to-server key)
                    out.write(Frames.encode(Frames.RESPONSE, 1, 7, new byte[0], new FrameMac(keys.clientToServer())).getBytes());
                    out.flush();
                    in.read();
                } catch (IOException e) {
                    throw new RuntimeException(e);
                }
            });
            ClusterTransport client = client(TransportSettings.of(SECRET, 1 << 20, 16));
            ExecutionException e = assertThrows(ExecutionException.class, () -> await(client.request(
                    new Endpoint("127.0.0.1", fake.getLocalPort()), new ClusterTransport.Message(1, new byte[0]), 3000)));
            assertEquals(1, client.stats().badMacs(), "failed by the bad MAC, not by a time-out: " + e.getCause());
            served.get(5, TimeUnit.SECONDS);
        }
    }

    @Test
    void aPeerOfAnotherProtocolVersionIsRefusedWithAMessageNamingBoth() throws Exception {
        ClusterTransport server = server(TransportSettings.of(null, 1 << 20, 16));
        RawPeer old = raw();
        old.read();
        old.write(Frames.encode(Frames.AUTH, 0, 1, new byte[PeerAuth.NONCE_BYTES]));
        old.awaitClosed(2000);
        assertEquals(1, server.stats().connectionsRejected());

        try (ServerSocket v1 = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            CompletableFuture<Void> served = CompletableFuture.runAsync(() -> {
                try (Socket s = v1.accept()) {
                    OutputStream out = s.getOutputStream();
                    out.write(Frames.encode(Frames.HELLO, 0, 1, new byte[PeerAuth.NONCE_BYTES]).getBytes());
                    out.flush();
                    s.getInputStream().read();
                } catch (IOException e) {
                    throw new RuntimeException(e);
                }
            });
            ExecutionException e = assertThrows(ExecutionException.class, () -> await(client(TransportSettings.of(null,
                    1 << 20, 16)).request(new Endpoint("127.0.0.1", v1.getLocalPort()),
                    new ClusterTransport.Message(1, new byte[0]), 2000)));
            assertTrue(e.getCause().getMessage().contains("protocol version 1, this node " + Frames.PROTOCOL_VERSION), e.getCause().getMessage());
            served.get(5, TimeUnit.SECONDS);
        }
    }

    @Test
    void idleConnectionsAreClosedAndReopenedOnNextUse() throws Exception {
        TransportSettings s = TransportSettings.of(SECRET, 1 << 20, 16).withTimeouts(5000, 400);
        ClusterTransport server = server(s);
        ClusterTransport client = client(s);
        assertEquals(7, ask(client));
        long start = System.nanoTime();
        eventually("the client closes its idle connection", 3000, () -> client.stats().idleClosed() == 1);
        long clientMs = (System.nanoTime() - start) / 1_000_000;
        assertEquals(7, ask(client), "the next request reopens it");
        assertEquals(7, ask(client));

        RawPeer lingering = raw().handshake(SECRET); // authenticated, then never sends anything
        long serverMs = lingering.awaitClosed(3000);
        assertTrue(serverMs >= 350, "closed after " + serverMs + " ms");
        assertTrue(server.stats().idleClosed() >= 1);
        System.out.printf("[transport] idle time-out 400 ms: own connection closed after %d ms, an accepted one "
                + "after %d ms%n", clientMs, serverMs);
    }

    @Test
    void aPeerThatNeverCompletesTheHandshakeIsGivenUpAndTriedAfresh() throws Exception {
        try (ServerSocket mute = new ServerSocket(0, 8, java.net.InetAddress.getLoopbackAddress())) {
            ClusterTransport client = client(TransportSettings.of(null, 1 << 20, 16).withTimeouts(300, 60_000));
            Endpoint to = new Endpoint("127.0.0.1", mute.getLocalPort());
            assertThrows(ExecutionException.class, () -> await(client.request(to, new ClusterTransport.Message(1, new byte[0]),
                    2000)));
            assertEquals(1, client.stats().handshakeTimeouts(), "the connection was closed after 300 ms");
            mute.accept().close();
        }
    }

    @Test
    void aNodeDoesNotCloseAConnectionWhileARequestIsBeingHandled() throws Exception {
        TransportSettings s = TransportSettings.of(null, 1 << 20, 16).withTimeouts(5000, 200);
        ClusterTransport slow = new ClusterTransport(vertx, s, req -> {
            io.vertx.core.Promise<ClusterTransport.Message> p = io.vertx.core.Promise.promise();
            vertx.setTimer(700, t -> p.complete(new ClusterTransport.Message(8, new byte[0])));
            return p.future();
        });
        transports.add(slow);
        port = await(slow.listen("127.0.0.1", 0));
        ClusterTransport client = client(s);
        assertEquals(8, await(client.request(endpoint(), new ClusterTransport.Message(1, new byte[0]), 3000)).type());
    }
}
