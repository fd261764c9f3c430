package io.nimbus.cluster.peer;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import io.nimbus.cluster.transport.ClusterTransport;
import io.nimbus.cluster.transport.PeerFailedRequestException;
import io.nimbus.core.gossip.Endpoint;
import io.smallrye.faulttolerance.api.CircuitBreakerState;
import io.smallrye.faulttolerance.api.TypedGuard;
import io.vertx.core.Future;
import jakarta.enterprise.util.TypeLiteral;
import org.eclipse.microprofile.faulttolerance.exceptions.BulkheadException;
import org.eclipse.microprofile.faulttolerance.exceptions.CircuitBreakerOpenException;
import org.jboss.logging.Logger;

import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * One node's SmallRye Fault Tolerance guards on its calls to peers, one set per peer endpoint, created on
 * first use and dropped when the peer leaves ({@link #retain}). Held by the node's object graph, never
 * static: several nodes in one JVM each have their own.
 *
 * <ul>
 *   <li>Paxos, topology and stream calls share one guard per peer: a <b>circuit breaker</b> (opens when
 *       {@code failure-ratio} of the last {@code request-volume} calls failed; while open every call fails at
 *       once with {@link PeerRefusedException} and nothing is sent; after {@code delay-ms} one trial call goes
 *       through and closes it again if it succeeds) and a <b>bulkhead</b>
 *       ({@code calls-max} in flight, {@code queue-max} waiting; beyond that refused at once).</li>
 *   <li>Gossip has its own guard per peer: a bulkhead, <b>no breaker</b>; its calls' time-outs are capped by
 *       gossip's time-out. Gossip is the
 *       failure detector; its probes are how this node learns that a dead peer is back, so they must reach it
 *       whatever the breaker thinks.</li>
 * </ul>
 *
 * A failure, for the breaker, is a call the peer did not answer: no answer in time, a refused or dropped
 * connection, a failed handshake. A peer's answer is never one, whatever it says (a fence, a rejected ballot,
 * a failure frame from its handler: the peer is up); nor is a bulkhead refusal (the peer was never asked).
 */
public final class PeerGuards implements AutoCloseable {
    private static final Logger LOG = Logger.getLogger(PeerGuards.class);

    /** What a call is for: a tag on its latency, and which guard it takes. */
    public enum Kind {
        GOSSIP, PAXOS, TOPOLOGY, STREAM;

        String tag() {
            return name().toLowerCase();
        }
    }

    /** The one way a message leaves this node: {@link ClusterTransport#request}, or a test's stand-in. */
    @FunctionalInterface
    public interface Transport {
        Future<ClusterTransport.Message> request(Endpoint to, ClusterTransport.Message message, long timeoutMs);
    }

    /** The settings of every peer's guards ({@code nimbus.peer.*}). */
    public record Settings(long timeoutMs, double failureRatio, int requestVolume, long delayMs, int callsMax,
                           int queueMax, int gossipCallsMax, long gossipTimeoutMs) {
        public Settings {
            require(timeoutMs > 0, "nimbus.peer.timeout-ms must be positive, got " + timeoutMs);
            require(failureRatio > 0 && failureRatio <= 1,
                    "nimbus.peer.breaker.failure-ratio must be in (0, 1], got " + failureRatio);
            require(requestVolume >= 1, "nimbus.peer.breaker.request-volume must be at least 1, got " + requestVolume);
            require(delayMs >= 0, "nimbus.peer.breaker.delay-ms must not be negative, got " + delayMs);
            require(callsMax >= 1, "nimbus.peer.bulkhead.calls-max must be at least 1, got " + callsMax);
            require(queueMax >= 1, "nimbus.peer.bulkhead.queue-max must be at least 1 (SmallRye's bulkhead "
                    + "queue cannot be empty), got " + queueMax);
            require(gossipCallsMax >= 1, "nimbus.peer.gossip.calls-max must be at least 1, got " + gossipCallsMax);
            require(gossipTimeoutMs > 0, "the gossip time-out must be positive, got " + gossipTimeoutMs);
        }

        private static void require(boolean ok, String why) {
            if (!ok) {
                throw new IllegalArgumentException(why);
            }
        }
    }

    private final Transport transport;
    private final Settings settings;
    private final MeterRegistry registry;
    private final Map<Endpoint, Peer> peers = new ConcurrentHashMap<>();

    public PeerGuards(Transport transport, Settings settings, MeterRegistry registry) {
        this.transport = transport;
        this.settings = settings;
        this.registry = registry;
    }

    public Settings settings() {
        return settings;
    }

    /**
     * Sends {@code message} to {@code to} through that peer's guard for {@code kind}. {@code timeoutMs} is
     * the call's own time-out (the transport's); a call the guard refuses fails at once with
     * {@link PeerRefusedException}, having sent nothing.
     */
    public CompletableFuture<ClusterTransport.Message> request(Kind kind, Endpoint to, ClusterTransport.Message message,
                                                              long timeoutMs) {
        return peer(to).call(kind, message, timeoutMs);
    }

    /** Each known peer's breaker state, by endpoint (gossip's guard has none). */
    public Map<Endpoint, CircuitBreakerState> breakerStates() {
        Map<Endpoint, CircuitBreakerState> out = new TreeMap<>((a, b) -> a.toString().compareTo(b.toString()));
        peers.forEach((e, p) -> out.put(e, p.state));
        return out;
    }

    /** Drops the guards (and meters) of every peer not in {@code keep}: it left, or is no longer known. */
    public void retain(Set<Endpoint> keep) {
        for (Endpoint e : new ArrayList<>(peers.keySet())) {
            if (!keep.contains(e)) {
                Peer p = peers.remove(e);
                if (p != null) {
                    p.removeMeters();
                    LOG.debugf("dropped the guards of peer %s (it left or is no longer known)", e);
                }
            }
        }
    }

    @Override
    public void close() {
        retain(Set.of());
    }

    private Peer peer(Endpoint to) {
        Peer p = peers.get(to);
        return p != null ? p : peers.computeIfAbsent(to, Peer::new);
    }

    /** Is {@code t} (unwrapped) a sign that the peer is not answering, as the breaker counts it? */
    static boolean peerFailed(Throwable t) {
        Throwable c = unwrap(t);
        return !(c instanceof BulkheadException) && !(c instanceof PeerFailedRequestException);
    }

    private static Throwable unwrap(Throwable t) {
        while (t instanceof CompletionException && t.getCause() != null) {
            t = t.getCause();
        }
        return t;
    }

    private static final class MessageStage extends TypeLiteral<CompletionStage<ClusterTransport.Message>> {
    }

    /** One peer's guards and meters. */
    private final class Peer {
        private final Endpoint endpoint;
        private final TypedGuard<CompletionStage<ClusterTransport.Message>> guard;
        private final TypedGuard<CompletionStage<ClusterTransport.Message>> gossipGuard;
        private volatile CircuitBreakerState state = CircuitBreakerState.CLOSED;
        private final EnumMap<Kind, Timer> latency = new EnumMap<>(Kind.class);
        private final Counter breakerOpenRefusals;
        private final Counter bulkheadRefusals;
        private final Counter timeouts;
        /** Calls through {@link #guard} sent and not answered yet: what its bulkhead holds against calls-max. */
        private final AtomicInteger inFlight = new AtomicInteger();
        private final List<Meter> meters = new ArrayList<>();

        Peer(Endpoint endpoint) {
            this.endpoint = endpoint;
            String tag = endpoint.toString();
            this.guard = TypedGuard.create(new MessageStage())
                    .withCircuitBreaker()
                    .requestVolumeThreshold(settings.requestVolume())
                    .failureRatio(settings.failureRatio())
                    .delay(settings.delayMs(), ChronoUnit.MILLIS)
                    .successThreshold(1)
                    .when(PeerGuards::peerFailed)
                    .onStateChange(this::onStateChange)
                    .done()
                    .withBulkhead().limit(settings.callsMax()).queueSize(settings.queueMax()).done()
                    .withThreadOffload(false)
                    .build();
            this.gossipGuard = TypedGuard.create(new MessageStage())
                    .withBulkhead().limit(settings.gossipCallsMax()).queueSize(1).done()
                    .withThreadOffload(false)
                    .build();
            for (Kind k : Kind.values()) {
                latency.put(k, keep(Timer.builder("nimbus.peer.call")
                        .description("calls to a peer that were sent (not refused by its guard), until answered or failed")
                        .tags("peer", tag, "kind", k.tag())
                        .register(registry))); // a histogram: LatencyHistograms
            }
            this.breakerOpenRefusals = keep(Counter.builder("nimbus.peer.calls.refused").tags("peer", tag, "reason",
                    "breaker-open").description("calls to a peer refused at once by its guard, nothing sent").register(registry));
            this.bulkheadRefusals = keep(Counter.builder("nimbus.peer.calls.refused").tags("peer", tag, "reason",
                    "bulkhead-full").description("calls to a peer refused at once by its guard, nothing sent").register(registry));
            this.timeouts = keep(Counter.builder("nimbus.peer.calls.timeouts").tags("peer", tag)
                    .description("calls to a peer that got no answer within their time-out").register(registry));
            keep(Gauge.builder("nimbus.peer.calls.in.flight", inFlight, AtomicInteger::get).tags("peer", tag)
                    .description("Paxos, topology and stream calls to a peer that were sent and are not answered yet "
                            + "(at most nimbus.peer.bulkhead.calls-max; gossip not counted)").register(registry));
            keep(Gauge.builder("nimbus.peer.breaker.state", this, p -> switch (p.state) {
                        case CLOSED -> 0;
                        case HALF_OPEN -> 1;
                        case OPEN -> 2;
                    }).tags("peer", tag)
                    .description("the peer's circuit breaker: 0 closed, 1 half-open (a trial call may pass), 2 open "
                            + "(calls refused at once)").register(registry));
        }

        private <M extends Meter> M keep(M meter) {
            meters.add(meter);
            return meter;
        }

        void removeMeters() {
            meters.forEach(registry::remove);
        }

        private void onStateChange(CircuitBreakerState s) {
            CircuitBreakerState was = state;
            state = s;
            if (s == CircuitBreakerState.OPEN) {
                LOG.warnf("circuit breaker for peer %s opened: calls to it fail at once for %d ms, then one trial call "
                        + "goes through", endpoint, settings.delayMs());
            } else if (s == CircuitBreakerState.CLOSED && was != CircuitBreakerState.CLOSED) {
                LOG.infof("circuit breaker for peer %s closed: a trial call succeeded", endpoint);
            } else {
                LOG.debugf("circuit breaker for peer %s: %s", endpoint, s);
            }
        }

        CompletableFuture<ClusterTransport.Message> call(Kind kind, ClusterTransport.Message message, long timeoutMs) {
            Timer timer = latency.get(kind);
            TypedGuard<CompletionStage<ClusterTransport.Message>> g = kind == Kind.GOSSIP ? gossipGuard : guard;
            // The ceiling is applied to the transport's own time-out of the call, not by a time-out stage in the
            // guard: that one scheduled (and cancelled) a task on SmallRye's timer thread for every call, ~8% of a
            // core under a write load, for a limit the call's own time-out, always shorter, already enforces.
            long limitMs = Math.min(timeoutMs, kind == Kind.GOSSIP ? settings.gossipTimeoutMs() : settings.timeoutMs());
            CompletionStage<ClusterTransport.Message> guarded;
            try {
                AtomicInteger counted = kind == Kind.GOSSIP ? null : inFlight;
                guarded = g.get(() -> {
                    long start = System.nanoTime();
                    if (counted != null) {
                        counted.incrementAndGet();
                    }
                    Future<ClusterTransport.Message> sent;
                    try {
                        sent = transport.request(endpoint, message, limitMs);
                    } catch (RuntimeException e) {
                        if (counted != null) {
                            counted.decrementAndGet();
                        }
                        throw e;
                    }
                    return sent.onComplete(ar -> {
                        if (counted != null) {
                            counted.decrementAndGet();
                        }
                        timer.record(System.nanoTime() - start, TimeUnit.NANOSECONDS);
                    }).toCompletionStage();
                });
            } catch (RuntimeException e) {
                guarded = CompletableFuture.failedFuture(e);
            }
            CompletableFuture<ClusterTransport.Message> out = new CompletableFuture<>();
            guarded.whenComplete((m, err) -> {
                if (err == null) {
                    out.complete(m);
                } else {
                    out.completeExceptionally(translate(kind, unwrap(err)));
                }
            });
            return out;
        }

        private Throwable translate(Kind kind, Throwable c) {
            if (c instanceof CircuitBreakerOpenException) {
                breakerOpenRefusals.increment();
                return new PeerRefusedException(endpoint, PeerRefusedException.Reason.BREAKER_OPEN, "peer " + endpoint
                        + " was not asked: its circuit breaker is open after recent calls to it failed (tried again "
                        + "after nimbus.peer.breaker.delay-ms = " + settings.delayMs() + " ms)");
            }
            if (c instanceof BulkheadException) {
                bulkheadRefusals.increment();
                return new PeerRefusedException(endpoint, PeerRefusedException.Reason.BULKHEAD_FULL, "peer " + endpoint
                        + " was not asked: this node already has " + (kind == Kind.GOSSIP
                        ? settings.gossipCallsMax() + " gossip messages in flight to it (nimbus.peer.gossip.calls-max)"
                        : settings.callsMax() + " calls in flight and " + settings.queueMax() + " waiting to it "
                        + "(nimbus.peer.bulkhead.calls-max, nimbus.peer.bulkhead.queue-max)"));
            }
            if (c instanceof TimeoutException || c.getCause() instanceof TimeoutException) {
                timeouts.increment(); // (a request not sent within its time-out, no connection made, is one too)
            }
            return c;
        }
    }
}
