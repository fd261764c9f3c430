package io.nimbus.cluster;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.nimbus.config.NimbusConfig;
import io.nimbus.core.gossip.Endpoint;
import io.nimbus.core.gossip.Member;
import io.nimbus.core.gossip.NodeStatus;
import io.nimbus.core.kv.Ballot;
import io.nimbus.core.kv.BallotClock;
import io.nimbus.core.kv.ConsistencyLevel;
import io.nimbus.core.kv.KeyState;
import io.nimbus.core.kv.Mutation;
import io.nimbus.core.kv.Precondition;
import io.nimbus.core.kv.Proposal;
import io.nimbus.core.kv.SingleReplica;
import io.nimbus.core.kv.WriteOutcome;
import io.nimbus.core.paxos.PaxosMessage;
import io.nimbus.core.paxos.Proposer;
import io.nimbus.core.ring.Murmur3;
import io.nimbus.core.ring.TokenRing;
import io.nimbus.node.NotAppliedException;
import io.nimbus.node.NotEnoughReplicasException;
import io.nimbus.node.Storage;
import io.nimbus.node.WriteTimeoutException;
import io.vertx.core.Vertx;
import jakarta.enterprise.context.ApplicationScoped;
import org.jboss.logging.Logger;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Supplier;

/**
 * The coordinator shell (DESIGN §2), on every node: finds a key's replicas on the ring, keeps the
 * reachable ones, and runs the {@link Proposer} core against them over the cluster transport (or
 * straight into the local {@link ReplicaService} for this node's own replica), with a time-out per
 * phase, a deadline per request, randomized backoff and bounded retries. {@code ONE} skips Paxos:
 * a write is committed under a fresh ballot to every reachable replica and acknowledged by the
 * first; a read asks one replica.
 *
 * <p>When a key's only replica is this worker (replication factor 1), a write is one durable step
 * in the local store ({@link SingleReplica}) — Paxos with one acceptor collapses to it.
 */
@ApplicationScoped
public class Coordinator {
    private static final Logger LOG = Logger.getLogger(Coordinator.class);

    private final NimbusConfig config;
    private final ClusterService cluster;
    private final ReplicaService local;
    private final Storage storage;
    private final Vertx vertx;
    private final AtomicInteger inFlight = new AtomicInteger();
    /** Per key, the last Paxos request queued on this node (see {@link #serialized}). */
    private final ConcurrentHashMap<String, CompletableFuture<Void>> keyTails =
            new ConcurrentHashMap<>();
    private final BallotClock clock;
    private final Counter restarts;
    private final Counter outcomeUnknown;
    private final Counter notApplied;

    public Coordinator(NimbusConfig config, ClusterService cluster, ReplicaService local, Storage storage, Vertx vertx,
                       MeterRegistry registry) {
        this.config = config;
        this.cluster = cluster;
        this.local = local;
        this.storage = storage;
        this.vertx = vertx;
        long highWater = storage.isWorker() ? storage.store().ballotHighWaterMark() : 0;
        this.clock = new BallotClock(cluster.selfId(), highWater);
        this.restarts = Counter.builder("nimbus.paxos.restarts")
                .description("Paxos attempts restarted above a rival ballot or after finishing an in-flight proposal")
                .register(registry);
        this.outcomeUnknown = Counter.builder("nimbus.paxos.outcome.unknown")
                .description("writes answered 504 with an unknown outcome").register(registry);
        this.notApplied = Counter.builder("nimbus.paxos.not.applied")
                .description("requests that failed with nothing written (too few replicas answered, retries or time ran out)")
                .register(registry);
        Gauge.builder("nimbus.paxos.in.flight", inFlight, AtomicInteger::get)
                .description("requests this node is coordinating").register(registry);
    }

    public ConsistencyLevel defaultLevel() {
        return config.consistency();
    }

    /** Replicas per key on {@code ring}: the configured factor, capped at the workers on the ring. */
    public int replicationFactor(TokenRing ring) {
        return Math.max(1, Math.min(config.replicationFactor(), ring.nodes().size()));
    }

    /** Where a key lives right now, as this node sees it. */
    public record Placement(int replicationFactor, List<String> replicas, List<String> reachable,
                            Map<String, Endpoint> endpoints) {
    }

    public Placement place(String key) {
        TokenRing ring = cluster.ring();
        if (ring.isEmpty()) {
            return new Placement(1, List.of(), List.of(), Map.of());
        }
        int rf = replicationFactor(ring);
        List<String> replicas = ring.replicas(Murmur3.hash64(key.getBytes(StandardCharsets.UTF_8)), rf);
        Map<String, Member> members = new HashMap<>();
        for (Member m : cluster.members()) {
            members.put(m.id(), m);
        }
        List<String> reachable = new ArrayList<>();
        Map<String, Endpoint> endpoints = new HashMap<>();
        for (String id : replicas) {
            Member m = members.get(id);
            if (id.equals(cluster.selfId()) && storage.isWorker()) {
                reachable.add(id);
            } else if (m != null && m.reachable() && m.info().status() != NodeStatus.LEFT) {
                reachable.add(id);
                endpoints.put(id, m.info().endpoint());
            }
        }
        // ask this node's own replica first: it answers without the network
        reachable.sort((a, b) -> Boolean.compare(!a.equals(cluster.selfId()), !b.equals(cluster.selfId())));
        return new Placement(rf, replicas, List.copyOf(reachable), Map.copyOf(endpoints));
    }

    /** Reads a key at {@code level}: the committed proposal (null if never written; a tombstone if deleted). */
    public CompletionStage<Proposal> read(String key, ConsistencyLevel level) {
        Placement p = placeFor(key, level);
        if (isLocalOnly(p)) {
            return CompletableFuture.completedFuture(SingleReplica.settled(storage.store().read(key)).committed());
        }
        return guarded(() -> {
            if (level == ConsistencyLevel.ONE) {
                return stateOf(key, p, 0, deadline()).thenApply(KeyState::committed);
            }
            long deadline = deadline();
            return serialized(key, () -> new Round(key, new Proposer.Op.Read(), p, level, deadline).begin())
                    .thenApply(o -> ((Proposer.Outcome.Read) o).committed());
        });
    }

    /** Writes or deletes at {@code level}; completes with the outcome or fails with a 503/504 exception. */
    public CompletionStage<WriteOutcome> write(Mutation m, ConsistencyLevel level) {
        Placement p = placeFor(m.key(), level);
        if (isLocalOnly(p)) {
            return local(m);
        }
        return guarded(() -> {
            if (level == ConsistencyLevel.ONE) {
                return writeOne(m, p);
            }
            long deadline = deadline();
            return serialized(m.key(), () -> new Round(m.key(), new Proposer.Op.Write(m.value(), m.precondition()), p, level,
                    deadline).begin()).thenApply(Coordinator::toWriteOutcome);
        });
    }

    private Placement placeFor(String key, ConsistencyLevel level) {
        Placement p = place(key);
        int needed = level.required(p.replicationFactor());
        if (p.replicas().isEmpty()) {
            throw new NotEnoughReplicasException(level, needed, 0, cluster.joined()
                    ? "no worker has joined the ring yet" : "this node has not joined its cluster yet (no seed answered)");
        }
        if (p.reachable().size() < needed) {
            List<String> down = new ArrayList<>(p.replicas());
            down.removeAll(p.reachable());
            throw new NotEnoughReplicasException(level, needed, p.reachable().size(),
                    "the key's replicas are " + p.replicas() + " (replication factor " + p.replicationFactor()
                            + "), unreachable: " + down);
        }
        return p;
    }

    private boolean isLocalOnly(Placement p) {
        return storage.isWorker() && p.replicas().size() == 1 && p.replicas().get(0).equals(cluster.selfId());
    }

    private CompletionStage<WriteOutcome> local(Mutation m) {
        long timeoutMs = config.limits().writeTimeoutMs();
        return storage.store().submit(m).copy().orTimeout(timeoutMs, TimeUnit.MILLISECONDS).exceptionally(e -> {
            Throwable cause = unwrap(e);
            if (cause instanceof TimeoutException) {
                throw new WriteTimeoutException(timeoutMs);
            }
            throw cause instanceof RuntimeException r ? r : new CompletionException(cause);
        });
    }

    private <T> CompletionStage<T> guarded(Supplier<CompletableFuture<T>> run) {
        if (inFlight.incrementAndGet() > config.paxos().inFlightMax()) {
            inFlight.decrementAndGet();
            throw new NotAppliedException(503, "this node is coordinating " + config.paxos().inFlightMax()
                    + " requests already (nimbus.paxos.in-flight-max); nothing was written, retry after a moment");
        }
        CompletableFuture<T> f;
        try {
            f = run.get();
        } catch (RuntimeException e) {
            inFlight.decrementAndGet();
            throw e;
        }
        return f.whenComplete((v, e) -> inFlight.decrementAndGet());
    }

    /**
     * Runs the Paxos rounds this node coordinates on one key one after another: concurrent rounds on
     * the same key from the same coordinator would only pre-empt each other's ballots.
     */
    private <T> CompletableFuture<T> serialized(String key, Supplier<CompletableFuture<T>> run) {
        CompletableFuture<Void> mine = new CompletableFuture<>();
        CompletableFuture<Void> before = keyTails.put(key, mine);
        // (thenCompose also turns an exception thrown by run into a failed result, so the queue never jams)
        CompletableFuture<T> result = (before == null ? CompletableFuture.<Void>completedFuture(null) : before)
                .thenCompose(v -> run.get());
        result.whenComplete((v, e) -> {
            keyTails.remove(key, mine);
            mine.complete(null);
        });
        return result;
    }

    private long deadline() {
        return System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(config.limits().writeTimeoutMs());
    }

    private Ballot nextBallot(Ballot above) {
        synchronized (clock) {
            if (above != null) {
                clock.observe(above);
            }
            return clock.next(TimeUnit.MILLISECONDS.toMicros(System.currentTimeMillis()));
        }
    }

    // ---- ONE: no Paxos -------------------------------------------------------------------------

    /** Asks the reachable replicas one at a time until one answers with its state. */
    private CompletableFuture<KeyState> stateOf(String key, Placement p, int i, long deadlineNanos) {
        String to = p.reachable().get(i);
        return send(new Proposer.Envelope(to, new PaxosMessage.ReadCommitted(key)), p).handle((reply, e) -> {
            if (e == null && reply instanceof PaxosMessage.State s) {
                return CompletableFuture.completedFuture(s.state());
            }
            if (i + 1 < p.reachable().size() && System.nanoTime() < deadlineNanos) {
                return stateOf(key, p, i + 1, deadlineNanos);
            }
            notApplied.increment();
            return CompletableFuture.<KeyState>failedFuture(new NotAppliedException(503, "no replica of the key answered "
                    + "a read at ONE (asked " + p.reachable() + "; last: " + why(e, reply) + ")"));
        }).thenCompose(f -> f);
    }

    /**
     * Last-writer-wins: judged against one replica's state (when the write has a precondition or is a
     * delete), then committed under a fresh ballot to every reachable replica; done when one applied it.
     */
    private CompletableFuture<WriteOutcome> writeOne(Mutation m, Placement p) {
        boolean needsState = m.isDelete() || !m.precondition().equals(Precondition.NONE);
        CompletableFuture<KeyState> state = needsState ? stateOf(m.key(), p, 0, deadline())
                : CompletableFuture.completedFuture(KeyState.EMPTY);
        return state.thenCompose(s -> {
            WriteOutcome refused = m.refusal(new KeyState(null, null, s.committed()));
            if (refused != null) {
                return CompletableFuture.completedFuture(refused);
            }
            Ballot ballot = nextBallot(s.committed() == null ? null : s.committed().ballot());
            Proposal proposal = new Proposal(ballot, m.value());
            CompletableFuture<WriteOutcome> done = new CompletableFuture<>();
            AtomicInteger failures = new AtomicInteger();
            for (String to : p.reachable()) {
                send(new Proposer.Envelope(to, new PaxosMessage.Commit(m.key(), proposal)), p).whenComplete((reply, e) -> {
                    if (e == null && reply instanceof PaxosMessage.Committed) {
                        done.complete(new WriteOutcome.Applied(null, ballot));
                    } else if (failures.incrementAndGet() == p.reachable().size()) {
                        outcomeUnknown.increment();
                        done.completeExceptionally(new WriteTimeoutException("no replica confirmed the write at ONE "
                                + "(asked " + p.reachable() + "; last: " + why(e, reply) + ")"));
                    }
                });
            }
            return done;
        });
    }

    // ---- QUORUM and ALL: Paxos -----------------------------------------------------------------

    /** One request's run of the {@link Proposer}: attempts, timers and replies, under its own lock. */
    private final class Round {
        private final Proposer proposer;
        private final Placement placement;
        private final CompletableFuture<Proposer.Outcome> result = new CompletableFuture<>();
        private final long deadlineTimer;
        private final boolean isWrite;
        private final String key;
        private int attempt;

        Round(String key, Proposer.Op op, Placement placement, ConsistencyLevel level, long deadlineNanos) {
            this.key = key;
            this.placement = placement;
            this.isWrite = op instanceof Proposer.Op.Write;
            this.proposer = new Proposer(key, op, placement.reachable(), level.required(placement.replicationFactor()));
            long ms = config.limits().writeTimeoutMs();
            long leftMs = Math.max(1, TimeUnit.NANOSECONDS.toMillis(deadlineNanos - System.nanoTime()));
            this.deadlineTimer = vertx.setTimer(leftMs, id -> timedOut(ms));
        }

        CompletableFuture<Proposer.Outcome> begin() {
            advance(() -> proposer.start(nextBallot(null)));
            return result;
        }

        /**
         * Runs one transition of the core under this round's lock. A core that throws has met a broken
         * invariant (e.g. a replica's reply that contradicts its request): the request fails with it,
         * loudly, instead of the exception vanishing in a callback and the request hanging.
         */
        private void advance(Supplier<Proposer.Step> transition) {
            synchronized (this) {
                try {
                    Proposer.Step step = transition.get();
                    if (step != null) {
                        handle(step);
                    }
                } catch (RuntimeException e) {
                    LOG.errorf(e, "coordinating a request on key %s failed", key);
                    if (!result.isDone()) {
                        vertx.cancelTimer(deadlineTimer);
                        result.completeExceptionally(e);
                    }
                }
            }
        }

        private void timedOut(long ms) {
            synchronized (this) {
                if (result.isDone()) {
                    return;
                }
                if (isWrite && proposer.mayHaveWritten()) {
                    finish(new WriteTimeoutException("the write was not confirmed by a quorum within " + ms + " ms"), true);
                } else {
                    finish(new NotAppliedException(504, "the request did not reach its consistency level within " + ms
                            + " ms" + (isWrite ? "; nothing was written" : "")), false);
                }
            }
        }

        /** Called with this round's lock held. */
        private void handle(Proposer.Step step) {
            if (result.isDone()) {
                return;
            }
            if (step instanceof Proposer.Step.Send s) {
                s.repairs().forEach(this::repair);
                for (Proposer.Envelope e : s.messages()) {
                    send(e, placement).whenComplete((reply, err) -> {
                        if (err == null && result.isDone()) {
                            synchronized (this) {
                                proposer.lateRepairs(e, reply).forEach(this::repair);
                            }
                            return;
                        }
                        if (err != null) {
                            LOG.debugf("no answer from %s to %s: %s", e.to(), e.request().getClass().getSimpleName(),
                                    err.getMessage());
                        }
                        advance(() -> err == null ? proposer.onReply(e, reply) : proposer.onNoReply(e));
                    });
                }
            } else if (step instanceof Proposer.Step.Done d) {
                d.repairs().forEach(this::repair);
                vertx.cancelTimer(deadlineTimer);
                result.complete(d.outcome());
            } else if (step instanceof Proposer.Step.Restart r) {
                restarts.increment();
                if (++attempt >= config.paxos().attemptsMax()) {
                    finish(new NotAppliedException(504, "gave up after " + attempt + " attempts pre-empted by "
                            + "competing requests on the same key" + (isWrite ? "; nothing was written" : "")), false);
                    return;
                }
                Ballot seen = r.seen();
                long capMs = Math.min(config.paxos().backoffMaxMs(), config.paxos().backoffBaseMs() << Math.min(attempt, 20));
                // also after finishing another's proposal: two coordinators finishing each other's could tie forever
                long delayMs = ThreadLocalRandom.current().nextLong(capMs + 1);
                Runnable again = () -> advance(() -> result.isDone() ? null
                        : proposer.start(nextBallot(maxOf(seen, proposer.ballot()))));
                if (delayMs == 0) {
                    again.run();
                } else {
                    vertx.setTimer(delayMs, id -> again.run());
                }
            } else if (step instanceof Proposer.Step.Failed f) {
                finish(f.outcomeUnknown() ? new WriteTimeoutException(f.why())
                        : new NotAppliedException(503, f.why() + " (replicas asked: " + placement.reachable() + ")"
                                + (isWrite ? "; nothing was written" : "")), f.outcomeUnknown());
            }
        }

        private void finish(RuntimeException e, boolean unknown) {
            vertx.cancelTimer(deadlineTimer);
            (unknown ? outcomeUnknown : notApplied).increment();
            result.completeExceptionally(e);
        }

        private void repair(Proposer.Envelope e) {
            send(e, placement).whenComplete((reply, err) -> {
                if (err != null) {
                    LOG.debugf("repair of %s on %s not confirmed: %s", e.request().key(), e.to(), err.getMessage());
                }
            });
        }
    }

    private static Ballot maxOf(Ballot a, Ballot b) {
        return a == null ? b : b == null || a.compareTo(b) > 0 ? a : b;
    }

    /** One request to one replica: this node's own replica directly, others over the cluster port. */
    private CompletableFuture<PaxosMessage> send(Proposer.Envelope e, Placement p) {
        long timeoutMs = config.paxos().phaseTimeoutMs();
        if (e.to().equals(cluster.selfId()) && storage.isWorker()) {
            return local.handle(e.request()).orTimeout(timeoutMs, TimeUnit.MILLISECONDS);
        }
        Endpoint endpoint = p.endpoints().get(e.to());
        if (endpoint == null) {
            return CompletableFuture.failedFuture(new IllegalStateException("no address known for replica " + e.to()));
        }
        ClusterTransport.Message m = new ClusterTransport.Message(PaxosCodec.type(e.request()), PaxosCodec.encode(e.request()));
        return cluster.transport().request(endpoint, m, timeoutMs).toCompletionStage().toCompletableFuture()
                .thenApply(reply -> PaxosCodec.decode(reply.type(), reply.body()));
    }

    static WriteOutcome toWriteOutcome(Proposer.Outcome o) {
        if (o instanceof Proposer.Outcome.Written w) {
            return new WriteOutcome.Applied(null, w.version());
        }
        if (o instanceof Proposer.Outcome.PreconditionFailed f) {
            return new WriteOutcome.PreconditionFailed(f.current());
        }
        if (o instanceof Proposer.Outcome.NotFound) {
            return new WriteOutcome.NotFound();
        }
        throw new IllegalStateException("a write ended with " + o);
    }

    private static String why(Throwable e, PaxosMessage reply) {
        return e != null ? String.valueOf(unwrap(e).getMessage()) : "unexpected reply " + reply;
    }

    private static Throwable unwrap(Throwable e) {
        return e instanceof CompletionException && e.getCause() != null ? e.getCause() : e;
    }
}
