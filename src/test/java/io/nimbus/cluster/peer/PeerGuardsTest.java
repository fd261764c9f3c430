package io.nimbus.cluster.peer;

import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.nimbus.cluster.transport.ClusterTransport;
import io.nimbus.cluster.transport.PeerFailedRequestException;
import io.nimbus.core.gossip.Endpoint;
import io.quarkus.test.junit.QuarkusTest;
import io.smallrye.faulttolerance.api.CircuitBreakerState;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import jakarta.inject.Inject;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.net.ConnectException;
import java.net.ServerSocket;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * The per-peer guards over a real {@link ClusterTransport} to real (test) peers on loopback. Needs the CDI
 * container only because SmallRye Fault Tolerance's programmatic API takes its timer from it; the guards
 * under test are this test's own {@link PeerGuards}, not the node's.
 */
@QuarkusTest
class PeerGuardsTest {
    private static final ClusterTransport.Message PING = new ClusterTransport.Message(7, new byte[]{1});

    @Inject
    Vertx vertx;

    private final List<AutoCloseable> open = new ArrayList<>();
    private final MeterRegistry registry = new SimpleMeterRegistry();
    /** Requests that reached the transport (so: the network). */
    private final AtomicInteger sent = new AtomicInteger();

    @AfterEach
    void closeAll() throws Exception {
        for (int i = open.size() - 1; i >= 0; i--) {
            open.get(i).close();
        }
    }

    private PeerGuards guards(int requestVolume, long delayMs, int callsMax, int queueMax) {
        ClusterTransport client = new ClusterTransport(vertx, null, 1 << 20, 1024,
                r -> Future.failedFuture(new IllegalStateException("client only")));
        open.add(client);
        PeerGuards g = new PeerGuards((to, m, t) -> {
            sent.incrementAndGet();
            return client.request(to, m, t);
        }, new PeerGuards.Settings(30_000, 0.5, requestVolume, delayMs, callsMax, queueMax, 4, 1000), registry);
        open.add(g);
        return g;
    }

    /** A peer on {@code port} (0: any) whose handler does what {@code handler} says; returns its endpoint. */
    private Endpoint peer(int port, ClusterTransport.Handler handler) throws Exception {
        ClusterTransport server = new ClusterTransport(vertx, null, 1 << 20, 1024, handler);
        open.add(server);
        int bound = server.listen("127.0.0.1", port).toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
        return new Endpoint("127.0.0.1", bound);
    }

    private static Throwable failure(CompletableFuture<?> f) throws Exception {
        try {
            f.get(10, TimeUnit.SECONDS);
        } catch (ExecutionException e) {
            return e.getCause();
        }
        return fail("expected the call to fail");
    }

    private double gauge(Endpoint peer) {
        return registry.get("nimbus.peer.breaker.state").tag("peer", peer.toString()).gauge().value();
    }

    private double inFlight(Endpoint peer) {
        return registry.get("nimbus.peer.calls.in.flight").tag("peer", peer.toString()).gauge().value();
    }

    private static void await(String what, java.util.function.BooleanSupplier cond) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (!cond.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                fail("timed out waiting until " + what);
            }
            Thread.sleep(10);
        }
    }

    @Test
    void theCeilingCapsACallsOwnTimeOut() throws Exception {
        Endpoint silent = peer(0, r -> Promise.<ClusterTransport.Message>promise().future());
        ClusterTransport client = new ClusterTransport(vertx, null, 1 << 20, 1024,
                r -> Future.failedFuture(new IllegalStateException("client only")));
        open.add(client);
        PeerGuards g = new PeerGuards(client::request,
                new PeerGuards.Settings(200, 0.5, 100, 1000, 64, 4, 4, 150), registry);
        open.add(g);
        for (PeerGuards.Kind kind : List.of(PeerGuards.Kind.PAXOS, PeerGuards.Kind.GOSSIP)) {
            long start = System.nanoTime();
            Throwable t = failure(g.request(kind, silent, PING, 5_000));
            long ms = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
            assertInstanceOf(TimeoutException.class, t, kind + ": " + t);
            assertTrue(ms < 2_000, kind + ": a call asking for 5 s is cut at the ceiling (200 / 150 ms), took " + ms + " ms");
        }
    }

    @Test
    void aSilentPeerOpensItsBreakerThenCallsFailAtOnceWithoutTouchingTheNetworkAndItClosesWhenThePeerAnswersAgain()
            throws Exception {
        AtomicBoolean answering = new AtomicBoolean(false);
        // a peer that accepts connections but does not answer (a paused process, a black hole) until told to
        Endpoint slow = peer(0, r -> answering.get() ? Future.succeededFuture(r) : Promise.<ClusterTransport.Message>promise().future());
        PeerGuards g = guards(4, 600, 64, 4);
        long callTimeoutMs = 300;
        for (int i = 0; i < 4; i++) {
            long start = System.nanoTime();
            Throwable t = failure(g.request(PeerGuards.Kind.PAXOS, slow, PING, callTimeoutMs));
            long ms = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
            assertInstanceOf(TimeoutException.class, t, "call " + i + " waits for its own time-out: " + t);
            assertTrue(ms >= callTimeoutMs - 20, "call " + i + " took " + ms + " ms");
        }
        assertEquals(CircuitBreakerState.OPEN, g.breakerStates().get(slow), "4 of 4 calls failed: the breaker opened");
        assertEquals(2.0, gauge(slow));
        assertEquals(4, sent.get());

        long start = System.nanoTime();
        Throwable t = failure(g.request(PeerGuards.Kind.PAXOS, slow, PING, callTimeoutMs));
        long ms = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
        PeerRefusedException refused = assertInstanceOf(PeerRefusedException.class, t);
        assertEquals(PeerRefusedException.Reason.BREAKER_OPEN, refused.reason());
        assertEquals(slow, refused.peer());
        assertTrue(ms < callTimeoutMs / 3, "an open breaker fails the call at once, took " + ms + " ms");
        assertEquals(4, sent.get(), "and sends nothing");
        assertEquals(1.0, registry.get("nimbus.peer.calls.refused").tags("peer", slow.toString(), "reason", "breaker-open")
                .counter().count());
        assertEquals(4.0, registry.get("nimbus.peer.calls.timeouts").tag("peer", slow.toString()).counter().count());

        // gossip has no breaker: its probes still reach the peer (this is how the node learns it is back)
        assertInstanceOf(TimeoutException.class, failure(g.request(PeerGuards.Kind.GOSSIP, slow, PING, callTimeoutMs)));
        assertEquals(5, sent.get(), "the gossip probe was sent");

        answering.set(true); // the peer is back
        await("the breaker lets a trial call through", () -> g.breakerStates().get(slow) == CircuitBreakerState.HALF_OPEN);
        assertEquals(1.0, gauge(slow));
        ClusterTransport.Message echo = g.request(PeerGuards.Kind.PAXOS, slow, PING, callTimeoutMs).get(10, TimeUnit.SECONDS);
        assertEquals(PING.type(), echo.type());
        assertEquals(CircuitBreakerState.CLOSED, g.breakerStates().get(slow), "the trial call succeeded: closed");
        assertEquals(0.0, gauge(slow));
        assertEquals(6, sent.get());
        assertTrue(registry.get("nimbus.peer.call").tags("peer", slow.toString(), "kind", "paxos").timer().count() >= 5,
                "every sent call is timed");
    }

    @Test
    void aDeadPeerRefusingConnectionsOpensTheBreakerAndARestartedOneClosesIt() throws Exception {
        int port;
        try (ServerSocket s = new ServerSocket(0)) {
            port = s.getLocalPort(); // nobody listens here once it is closed
        }
        Endpoint dead = new Endpoint("127.0.0.1", port);
        PeerGuards g = guards(3, 400, 64, 4);
        for (int i = 0; i < 3; i++) {
            Throwable t = failure(g.request(PeerGuards.Kind.STREAM, dead, PING, 1000));
            assertInstanceOf(io.nimbus.cluster.transport.RequestNotSentException.class, t, "call " + i + ": " + t);
            assertInstanceOf(ConnectException.class, t.getCause(), "call " + i + ": " + t);
        }
        assertEquals(CircuitBreakerState.OPEN, g.breakerStates().get(dead));
        assertInstanceOf(PeerRefusedException.class, failure(g.request(PeerGuards.Kind.TOPOLOGY, dead, PING, 1000)),
                "one breaker per peer, whatever the kind of call");
        assertEquals(3, sent.get());

        peer(port, Future::succeededFuture); // the worker restarts on its port
        await("half-open", () -> g.breakerStates().get(dead) == CircuitBreakerState.HALF_OPEN);
        g.request(PeerGuards.Kind.PAXOS, dead, PING, 1000).get(10, TimeUnit.SECONDS);
        assertEquals(CircuitBreakerState.CLOSED, g.breakerStates().get(dead));
    }

    @Test
    void aPeersAnswerIsNeverAFailureEvenAFailureFrame() throws Exception {
        Endpoint failing = peer(0, r -> Future.failedFuture(new IllegalStateException("store full")));
        PeerGuards g = guards(3, 60_000, 64, 4);
        for (int i = 0; i < 10; i++) {
            assertInstanceOf(PeerFailedRequestException.class, failure(g.request(PeerGuards.Kind.PAXOS, failing, PING, 1000)));
        }
        assertEquals(CircuitBreakerState.CLOSED, g.breakerStates().get(failing),
                "the peer answered every call: it is up, its breaker stays closed");
    }

    @Test
    void aFullBulkheadRefusesAtOnceSendsNothingAndDoesNotOpenTheBreaker() throws Exception {
        List<Promise<ClusterTransport.Message>> held = new java.util.concurrent.CopyOnWriteArrayList<>();
        Endpoint slow = peer(0, r -> {
            Promise<ClusterTransport.Message> p = Promise.promise();
            held.add(p);
            return p.future();
        });
        PeerGuards g = guards(3, 60_000, 2, 1);
        List<CompletableFuture<ClusterTransport.Message>> admitted = new ArrayList<>();
        for (int i = 0; i < 3; i++) { // 2 in flight, 1 waiting
            admitted.add(g.request(PeerGuards.Kind.PAXOS, slow, PING, 5000));
        }
        await("both calls in flight reached the peer", () -> held.size() == 2);
        for (int i = 0; i < 10; i++) {
            long start = System.nanoTime();
            Throwable t = failure(g.request(PeerGuards.Kind.PAXOS, slow, PING, 5000));
            long ms = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
            PeerRefusedException refused = assertInstanceOf(PeerRefusedException.class, t);
            assertEquals(PeerRefusedException.Reason.BULKHEAD_FULL, refused.reason());
            assertTrue(refused.getMessage().contains("nimbus.peer.bulkhead.calls-max"), refused.getMessage());
            assertTrue(ms < 500, "refused at once, took " + ms + " ms");
        }
        assertEquals(2, sent.get(), "only the calls in flight were sent");
        assertEquals(2.0, inFlight(slow), "the gauge counts the calls sent and not answered, not the waiting one");
        assertEquals(CircuitBreakerState.CLOSED, g.breakerStates().get(slow), "a refusal for load is not a peer failure");
        assertEquals(10.0, registry.get("nimbus.peer.calls.refused").tags("peer", slow.toString(), "reason", "bulkhead-full")
                .counter().count());

        held.forEach(p -> p.complete(PING)); // the peer answers: the waiting call goes out and is answered too
        await("the waiting call reached the peer", () -> held.size() == 3);
        held.get(2).complete(PING);
        for (CompletableFuture<ClusterTransport.Message> f : admitted) {
            assertEquals(PING.type(), f.get(10, TimeUnit.SECONDS).type());
        }
        assertEquals(3, sent.get());
        await("every answered call has left the in-flight gauge", () -> inFlight(slow) == 0.0);
    }

    @Test
    void aPeerThatLeftLosesItsGuardsAndMeters() throws Exception {
        Endpoint p = peer(0, Future::succeededFuture);
        PeerGuards g = guards(3, 1000, 8, 1);
        g.request(PeerGuards.Kind.PAXOS, p, PING, 1000).get(10, TimeUnit.SECONDS);
        assertEquals(Set.of(p), g.breakerStates().keySet());
        g.retain(Set.of());
        assertTrue(g.breakerStates().isEmpty());
        assertNull(registry.find("nimbus.peer.breaker.state").tag("peer", p.toString()).gauge());
        assertNull(registry.find("nimbus.peer.calls.in.flight").tag("peer", p.toString()).gauge());
        assertNull(registry.find("nimbus.peer.call").tag("peer", p.toString()).timer());
    }
}
