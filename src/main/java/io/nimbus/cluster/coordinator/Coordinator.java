package io.nimbus.cluster.coordinator;

import io.nimbus.cluster.peer.PeerGuards;
import io.nimbus.cluster.peer.PeerRefusedException;
import io.nimbus.cluster.transport.ClusterTransport;
import io.nimbus.cluster.transport.MalformedMessageException;
import io.nimbus.cluster.transport.RequestNotSentException;
import io.nimbus.cluster.membership.ClusterService;
import io.nimbus.cluster.topology.TopologyService;
import io.nimbus.cluster.topology.ClusterView;
import io.nimbus.cluster.replica.ReplicaService;
import io.nimbus.cluster.replica.PaxosCodec;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Timer;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.nimbus.config.NimbusConfig;
import io.nimbus.core.coordinator.Affinity;
import io.nimbus.core.coordinator.Coordination;
import io.nimbus.core.coordinator.KeyQueue;
import io.nimbus.core.coordinator.Result;
import io.nimbus.core.coordinator.RetryPolicy;
import io.nimbus.core.coordinator.Routing;
import io.nimbus.core.coordinator.Terms;
import io.nimbus.core.gossip.Endpoint;
import io.nimbus.core.kv.Ballot;
import io.nimbus.core.kv.BallotClock;
import io.nimbus.core.kv.ConsistencyLevel;
import io.nimbus.core.kv.Mutation;
import io.nimbus.core.kv.Precondition;
import io.nimbus.core.kv.Proposal;
import io.nimbus.core.kv.SingleReplica;
import io.nimbus.core.kv.WriteOutcome;
import io.nimbus.core.paxos.Acceptor;
import io.nimbus.core.paxos.BallotHorizon;
import io.nimbus.core.paxos.PaxosMessage;
import io.nimbus.core.paxos.Proposer;
import io.nimbus.core.ring.Murmur3;
import io.nimbus.core.topology.Replica;
import io.nimbus.core.topology.Topology;
import io.nimbus.core.topology.Worker;
import io.nimbus.node.RequestFailedException;
import io.nimbus.node.Storage;
import io.nimbus.storage.MapDbStore;
import io.nimbus.storage.StoreFailedException;
import io.vertx.core.Vertx;
import jakarta.enterprise.context.ApplicationScoped;
import org.jboss.logging.Logger;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Map;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;
import java.util.function.Supplier;

/**
 * The coordinator shell (DESIGN §2), on every node. The policy — routing from the topology, quorum
 * choice, retries, backoff, the deadline, relocation after a fence, the ONE protocol — is the pure
 * {@link Coordination} and {@link Routing}; this class only carries out their effects: it sends
 * requests (over the cluster port, or straight into the local {@link ReplicaService} for this node's
 * own replica) under the route's epoch and the replica's host id, feeds replies and silences back,
 * keeps the timers, and learns newer topologies on request.
 *
 * <p>When a key's only replica is this worker, a write is one durable step in the local store
 * ({@link SingleReplica}), re-checked on the store's writer thread against the topology in force there.
 * Requests coordinated on one key by this node run one after another (they would only pre-empt each
 * other), in {@link KeyQueue}'s order. Every ending is a {@link Result}; failures complete the future with a {@link RequestFailedException}.
 */
@ApplicationScoped
public class Coordinator {
    private static final Logger LOG = Logger.getLogger(Coordinator.class);
    /**
     * Most owed commits in one frame: each becomes an update in the receiver's store queue, and a frame's
     * worth must stay far below its {@code write-queue-max} (a replica also sheds them while that is half full).
     */
    static final int COMMITS_PER_FRAME_MAX = 256;
    /**
     * Least wait before owed commits a peer's full bulkhead refused are tried again on their own (they also ride
     * with the next request to it that the bulkhead admits): its calls in flight take a round trip at least.
     */
    static final long REFUSED_FLUSH_RETRY_MS = 10;

    private final NimbusConfig config;
    private final ClusterService cluster;
    private final TopologyService topology;
    private final ReplicaService local;
    private final Storage storage;
    private final Vertx vertx;
    private final RetryPolicy retry;
    private final AtomicInteger inFlight = new AtomicInteger();
    /** The requests this node coordinates per key, one running at a time (see {@link #serialized}); guarded by itself. */
    private final KeyQueue<Queued<?>> keyQueue;
    private final BallotClock clock;
    /** Replies carrying a ballot further ahead of this node's clock are no answer (and never reach {@link #clock}). */
    private final BallotHorizon horizon;
    private final Counter restarts;
    private final Counter outcomeUnknown;
    private final Counter notApplied;
    private final Counter fenceRetries;
    /** Per Paxos request type: [unanswered, answered] latency timers. */
    private final Map<Class<?>, Timer[]> phaseTimers;
    /** Commits owed to peers, sent with the next request to each or after {@code commit-linger-ms}. */
    private final PendingCommits owed;
    /** Owed commits dropped unsent: the peer's breaker was open, or too many bytes were owed to it. */
    private final Counter commitsDropped;
    /** The terms this coordinator holds (docs/PAXOS.md "One round trip"), shared by its coordinations. */
    private final Terms terms;
    private final Counter termWrites;
    /** Bytes of owed commits one frame may carry (half a cluster frame, like a stream chunk). */
    private final long bundleBytesMax;
    private final Counter commitsWithRequest;
    private final Counter commitsAlone;
    private final Counter commitFrames;
    /** Writes this node forwarded to their key's coordinator, by what came of the call. */
    private final Counter forwardsAnswered;
    private final Counter forwardsNotSent;
    private final Counter forwardsUnanswered;
    /** Writes other nodes forwarded here to coordinate. */
    private final Counter forwardedHere;

    public Coordinator(NimbusConfig config, ClusterService cluster, TopologyService topology, ReplicaService local,
                       Storage storage, Vertx vertx, MeterRegistry registry) {
        this.config = config;
        this.cluster = cluster;
        this.topology = topology;
        this.local = local;
        this.storage = storage;
        this.vertx = vertx;
        this.phaseTimers = phaseTimers(registry);
        this.retry = new RetryPolicy(config.paxos().attemptsMax(), config.paxos().backoffBaseMs(),
                config.paxos().backoffMaxMs());
        long highWater = storage.isWorker() ? storage.store().ballotHighWaterMark() : 0;
        this.clock = new BallotClock(cluster.selfId(), highWater);
        this.horizon = BallotHorizon.ofMillis(config.paxos().ballotAheadMaxMs());
        this.keyQueue = new KeyQueue<>(config.paxos().comparesFirst());
        this.terms = new Terms(config.paxos().termsMax(), storage.isWorker() ? cluster.selfId() : null, this::localPromise);
        Gauge.builder("nimbus.paxos.terms.held", terms, Terms::size)
                .description("keys on which this coordinator holds a term: its next write to them skips the prepare")
                .register(registry);
        this.termWrites = Counter.builder("nimbus.paxos.term.writes")
                .description("writes proposed in this coordinator's term, without a prepare (refused ones included: see restarts)")
                .register(registry);
        this.restarts = Counter.builder("nimbus.paxos.restarts")
                .description("Paxos attempts restarted above a rival ballot or after finishing an in-flight proposal")
                .register(registry);
        this.outcomeUnknown = Counter.builder("nimbus.paxos.outcome.unknown")
                .description("writes answered 504 with an unknown outcome").register(registry);
        this.notApplied = Counter.builder("nimbus.paxos.not.applied")
                .description("requests that failed with nothing written (too few replicas answered, retries or time ran out)")
                .register(registry);
        this.fenceRetries = Counter.builder("nimbus.paxos.fence.retries")
                .description("requests routed again under a newer topology after a replica's fence refused them")
                .register(registry);
        Gauge.builder("nimbus.paxos.in.flight", inFlight, AtomicInteger::get)
                .description("requests this node is coordinating").register(registry);
        this.bundleBytesMax = Math.max(1, config.cluster().frameBytesMax() / 2);
        String sent = "commits sent to peers without waiting for them (a write's, a read's repairs), by whether "
                + "they rode in another request's frame or in a frame of owed commits";
        this.commitsWithRequest = Counter.builder("nimbus.paxos.commits.sent").tag("carried", "with-request")
                .description(sent).register(registry);
        this.commitsAlone = Counter.builder("nimbus.paxos.commits.sent").tag("carried", "own-frame")
                .description(sent).register(registry);
        this.owed = new PendingCommits(config.paxos().commitsOwedBytesMax());
        this.commitsDropped = Counter.builder("nimbus.paxos.commits.dropped")
                .description("commits owed to a peer and dropped unsent: its guard refused them and its breaker was "
                        + "open, or more than nimbus.paxos.commits-owed-bytes-max were owed to it (the next prepare "
                        + "of the key finishes the value)").register(registry);
        String forwards = "QUORUM/ALL writes this node forwarded to the node that coordinates their key "
                + "(nimbus.paxos.forward-writes), by outcome: answered (whatever the answer), not-sent (refused by the "
                + "peer's guard or no connection: coordinated here instead), unanswered (sent, no answer: outcome unknown)";
        this.forwardsAnswered = Counter.builder("nimbus.paxos.forwards").tag("outcome", "answered")
                .description(forwards).register(registry);
        this.forwardsNotSent = Counter.builder("nimbus.paxos.forwards").tag("outcome", "not-sent")
                .description(forwards).register(registry);
        this.forwardsUnanswered = Counter.builder("nimbus.paxos.forwards").tag("outcome", "unanswered")
                .description(forwards).register(registry);
        this.forwardedHere = Counter.builder("nimbus.paxos.forwarded")
                .description("writes other nodes forwarded to this node, as their key's coordinator").register(registry);
        this.commitFrames = Counter.builder("nimbus.paxos.commit.frames")
                .description("frames that carried only owed commits (no request rode with them within "
                        + "nimbus.paxos.commit-linger-ms)").register(registry);
    }

    public ConsistencyLevel defaultLevel() {
        return config.consistency();
    }

    private static long nowMs() {
        return TimeUnit.NANOSECONDS.toMillis(System.nanoTime());
    }

    private Replica selfReplica(ClusterView v) {
        return v.selfHost() == null ? null : new Replica(v.self(), v.selfHost());
    }

    /** A key's route under the topology this node holds now. */
    private Routing.Routed route(String key, ConsistencyLevel level) {
        return route(key, level, topology.view());
    }

    private Routing.Routed route(String key, ConsistencyLevel level, ClusterView v) {
        return Routing.key(v.topology(), selfReplica(v), v.down(), Murmur3.hash64(key.getBytes(StandardCharsets.UTF_8)),
                level, v.notReadyWhy());
    }

    private Routing.Routed registerRoute() {
        ClusterView v = topology.view();
        if (!v.ready()) {
            return new Routing.Refused(new Result.NotReady(v.notReadyWhy()));
        }
        return Routing.register(v.topology(), selfReplica(v), v.down());
    }

    private static Routing.Route routeOrFail(Routing.Routed r) {
        if (r instanceof Routing.Refused refused) {
            throw new RequestFailedException(refused.result());
        }
        return (Routing.Route) r;
    }

    /** Reads a key at {@code level}: the committed proposal (null if never written; a tombstone if deleted). */
    public CompletionStage<Proposal> read(String key, ConsistencyLevel level) {
        Routing.Route r = routeOrFail(route(key, level));
        if (r.localOnly()) {
            return CompletableFuture.completedFuture(SingleReplica.settled(storage.store().read(key)).committed());
        }
        return run(key, new Coordination.Request.Read(), level, r, () -> route(key, level))
                .thenApply(res -> ((Result.Read) res).committed());
    }

    /**
     * Writes or deletes at {@code level}; completes with the outcome or fails with a {@link RequestFailedException}.
     * A write at QUORUM or ALL goes to the node that coordinates its key ({@link Affinity}) unless that is this
     * node or {@code nimbus.paxos.forward-writes} is off.
     */
    public CompletionStage<WriteOutcome> write(Mutation m, ConsistencyLevel level) {
        ClusterView v = topology.view();
        Routing.Route r = routeOrFail(route(m.key(), level, v));
        Replica coordinator = config.paxos().forwardWrites() ? Affinity.coordinator(r, selfReplica(v), v.down(), level)
                : null;
        Endpoint to = coordinator == null || isOwnReplica(coordinator, v) || !ForwardCodec.forwardable(m) ? null
                : endpointOf(coordinator, v);
        if (to != null) {
            // not sent after all: routed again, the wait for a connection may have taken a while
            return forward(to, coordinator, m, level, () -> writeHere(m, level, routeOrFail(route(m.key(), level))));
        }
        return writeHere(m, level, r);
    }

    /** A write coordinated by this node. */
    private CompletableFuture<WriteOutcome> writeHere(Mutation m, ConsistencyLevel level, Routing.Route r) {
        if (r.localOnly()) {
            return local(m).thenCompose(o -> o != null ? CompletableFuture.completedFuture(o)
                    : writeHere(m, level, routeOrFail(route(m.key(), level))));
        }
        return run(m.key(), new Coordination.Request.Write(m), level, r, () -> route(m.key(), level))
                .thenApply(Coordinator::toWriteOutcome);
    }

    /**
     * Sends a write to {@code target}, its key's coordinator, and completes with what came of it there. A call
     * that never left this node (the peer's guard refused it, or no connection could be made) is coordinated
     * here instead ({@code here}). A call that was sent and got no answer has an unknown outcome: the write may
     * have been applied there, and running it again here could apply it twice.
     */
    private CompletableFuture<WriteOutcome> forward(Endpoint to, Replica target, Mutation m, ConsistencyLevel level,
                                                    Supplier<CompletableFuture<WriteOutcome>> here) {
        long timeoutMs = forwardTimeoutMs(config);
        byte[] body = ForwardCodec.encode(new ForwardCodec.Forward(m, level));
        return cluster.peers().request(PeerGuards.Kind.PAXOS, to, new ClusterTransport.Message(ForwardCodec.FORWARD, body),
                timeoutMs).handle((reply, err) -> {
            if (err == null) {
                Result res;
                try {
                    if (reply.type() != ForwardCodec.FORWARDED) {
                        throw new MalformedMessageException("message type " + reply.type());
                    }
                    res = ForwardCodec.decodeResult(reply.body());
                } catch (MalformedMessageException bad) {
                    outcomeUnknown.increment();
                    throw new RequestFailedException(new Result.OutcomeUnknown("this write was forwarded to "
                            + target.name() + ", which coordinates its key, and its answer does not decode ("
                            + bad.getMessage() + "): it may have been applied"));
                }
                forwardsAnswered.increment();
                if (res instanceof Result.Written || res instanceof Result.PreconditionFailed
                        || res instanceof Result.NotFound) {
                    return CompletableFuture.completedFuture(toWriteOutcome(res));
                }
                throw new RequestFailedException(res); // counted where it was coordinated
            }
            Throwable cause = unwrap(err);
            if (cause instanceof PeerRefusedException || cause instanceof RequestNotSentException) {
                forwardsNotSent.increment();
                LOG.debugf("a write of %s not forwarded to %s, coordinated here: %s", m.key(), target.name(),
                        cause.getMessage());
                return here.get();
            }
            forwardsUnanswered.increment();
            outcomeUnknown.increment();
            throw new RequestFailedException(new Result.OutcomeUnknown("this write was forwarded to " + target.name()
                    + ", which coordinates its key, and no answer came (" + cause.getMessage() + "): it may have "
                    + "been applied"));
        }).thenCompose(f -> f);
    }

    /**
     * How long a forwarded write waits for its answer: the coordinating node's write time-out, which starts when
     * the write reaches it, and two phases more (its last phase may end after its deadline; the trip back). The
     * peer guard's ceiling, {@code nimbus.peer.timeout-ms}, is checked against it at start-up.
     */
    public static long forwardTimeoutMs(NimbusConfig config) {
        return config.limits().writeTimeoutMs() + 2 * config.paxos().phaseTimeoutMs();
    }

    /** Whether a cluster-port message is a forwarded write, for {@link #forwarded}. */
    public static boolean isForwarded(int type) {
        return type == ForwardCodec.FORWARD;
    }

    /**
     * A write another node forwarded here because this node coordinates its key: coordinated here whatever this
     * node's own view says (it is never forwarded again), and answered with what came of it, failures included.
     */
    public CompletionStage<ClusterTransport.Message> forwarded(ClusterTransport.Message request) {
        ForwardCodec.Forward f = ForwardCodec.decodeForward(request.body());
        forwardedHere.increment();
        CompletableFuture<WriteOutcome> w;
        try {
            w = writeHere(f.mutation(), f.level(), routeOrFail(route(f.mutation().key(), f.level())));
        } catch (RequestFailedException e) {
            w = CompletableFuture.failedFuture(e);
        }
        return w.handle((o, err) -> {
            Result res;
            if (err == null) {
                res = toResult(o);
            } else if (unwrap(err) instanceof RequestFailedException failed) {
                res = failed.result();
            } else {
                throw err instanceof CompletionException c ? c : new CompletionException(err);
            }
            return new ClusterTransport.Message(ForwardCodec.FORWARDED, ForwardCodec.encode(res));
        });
    }

    /** A linearizable read of the topology register through its electorate. */
    public CompletableFuture<Proposal> registerRead() {
        return CompletableFuture.completedFuture(null).thenCompose(x -> run(ReplicaService.REGISTER_KEY, new Coordination.Request.Read(), ConsistencyLevel.QUORUM,
                routeOrFail(registerRoute()), this::registerRoute)).thenApply(res -> ((Result.Read) res).committed());
    }

    /** A conditional write of the topology register (compare-and-set on {@code pre}). */
    public CompletableFuture<WriteOutcome> registerWrite(byte[] value, Precondition pre) {
        Mutation m = new Mutation(ReplicaService.REGISTER_KEY, value, pre);
        return CompletableFuture.completedFuture(null).thenCompose(x -> run(m.key(), new Coordination.Request.Write(m),
                ConsistencyLevel.QUORUM, routeOrFail(registerRoute()), this::registerRoute))
                .thenApply(Coordinator::toWriteOutcome);
    }

    /**
     * The one-step write of a key whose only replica is this worker; completes with null (nothing written)
     * if, when the writer decides it, the store's topology no longer makes this worker the key's only
     * replica (a worker joined meanwhile): the caller routes it again.
     */
    private CompletableFuture<WriteOutcome> local(Mutation m) {
        long timeoutMs = config.limits().writeTimeoutMs();
        MapDbStore store = storage.store();
        long token = Murmur3.hash64(m.key().getBytes(StandardCharsets.UTF_8));
        // the store's clock can be exhausted (a ballot at the largest counter in it): refuse this write, nothing
        // changed, rather than throw on the writer thread, which would fail the whole store
        BallotClock.ExhaustedException[] exhausted = new BallotClock.ExhaustedException[1];
        return store.<WriteOutcome>update(m.key(), (current, fresh) -> {
            Topology t = store.topology();
            io.nimbus.core.topology.Placement p = t == null ? null : t.placement(token);
            List<Replica> natural = p == null ? List.of() : p.natural();
            // a lone replica decides alone only while no operation adds a pending replica to the key
            if (natural.size() != 1 || p.moving() || !natural.get(0).host().equals(store.hostId())) {
                return new Acceptor.Transition<>(current, null);
            }
            Ballot b;
            try {
                b = fresh.get();
            } catch (BallotClock.ExhaustedException e) {
                exhausted[0] = e;
                return new Acceptor.Transition<>(current, null);
            }
            WriteOutcome o = SingleReplica.apply(current, m, b);
            return new Acceptor.Transition<>(o instanceof WriteOutcome.Applied a ? a.next() : current, o);
        }).thenApply(o -> {
            if (exhausted[0] != null) {
                notApplied.increment();
                throw new RequestFailedException(new Result.Unavailable("this node cannot write: "
                        + exhausted[0].getMessage() + "; nothing was written"));
            }
            return o;
        }).orTimeout(timeoutMs, TimeUnit.MILLISECONDS).exceptionally(e -> {
            Throwable cause = unwrap(e);
            if (cause instanceof TimeoutException) {
                outcomeUnknown.increment();
                throw new RequestFailedException(new Result.OutcomeUnknown("the write was not confirmed durable within "
                        + timeoutMs + " ms"));
            }
            throw cause instanceof RuntimeException r ? r : new CompletionException(cause);
        });
    }

    /** Runs one request through a {@link Coordination}, bounded in number and serialized per key. */
    private CompletableFuture<Result> run(String key, Coordination.Request request, ConsistencyLevel level,
                                         Routing.Route route, Supplier<Routing.Routed> reroute) {
        if (inFlight.incrementAndGet() > config.paxos().inFlightMax()) {
            inFlight.decrementAndGet();
            throw new RequestFailedException(new Result.Unavailable("this node is coordinating "
                    + config.paxos().inFlightMax() + " requests already (nimbus.paxos.in-flight-max); nothing was "
                    + "written, retry after a moment"));
        }
        long deadline = nowMs() + config.limits().writeTimeoutMs();
        Function<Routing.Route, CompletableFuture<Result>> go = r -> new Flight(new Coordination(key, request, level, r,
                // its own generator: a request's backoffs are drawn on whichever thread its replies arrive on
                retry, this::nextBallot, new SplittableRandom(ThreadLocalRandom.current().nextLong()), deadline, terms),
                reroute).begin();
        CompletableFuture<Result> f = level == ConsistencyLevel.ONE ? go.apply(route)
                : serialized(key, KeyQueue.kindOf(request), () -> go.apply(route));
        return f.whenComplete((v, e) -> inFlight.decrementAndGet()).thenApply(res -> {
            if (res instanceof Result.Read || res instanceof Result.Written || res instanceof Result.PreconditionFailed
                    || res instanceof Result.NotFound) {
                return res;
            }
            (res.outcomeUnknown() ? outcomeUnknown : notApplied).increment();
            throw new RequestFailedException(res);
        });
    }

    /**
     * Runs the requests this node coordinates on one key one after another, in {@link KeyQueue}'s order
     * (a waiting compare-and-set goes ahead of waiting blind writes): concurrent rounds on the same key
     * from the same coordinator would only pre-empt each other's ballots.
     */
    private <T> CompletableFuture<T> serialized(String key, KeyQueue.Kind kind, Supplier<CompletableFuture<T>> run) {
        Queued<T> mine = new Queued<>(run);
        boolean now;
        synchronized (keyQueue) {
            now = keyQueue.arrive(key, mine, kind);
        }
        mine.result.whenComplete((v, e) -> {
            Queued<?> next;
            synchronized (keyQueue) {
                next = keyQueue.leave(key, mine);
            }
            if (next != null) {
                next.start();
            }
        });
        if (now) {
            mine.start();
        }
        return mine.result;
    }

    /** A request waiting for its turn on its key. */
    private static final class Queued<T> {
        final Supplier<CompletableFuture<T>> run;
        final CompletableFuture<T> result = new CompletableFuture<>();

        Queued(Supplier<CompletableFuture<T>> run) {
            this.run = run;
        }

        /** Runs it; an exception thrown by {@code run} fails its result (so the line never jams). */
        void start() {
            CompletableFuture<T> f;
            try {
                f = run.get();
            } catch (RuntimeException e) {
                result.completeExceptionally(e);
                return;
            }
            f.whenComplete((v, e) -> {
                if (e != null) {
                    result.completeExceptionally(e);
                } else {
                    result.complete(v);
                }
            });
        }
    }

    /** The wall clock ballots are made of (and checked against), in microseconds since the epoch. */
    private static long nowMicros() {
        return TimeUnit.MILLISECONDS.toMicros(System.currentTimeMillis());
    }

    private Ballot nextBallot(Ballot above) {
        synchronized (clock) {
            if (above != null) {
                clock.observe(above);
            }
            return clock.next(nowMicros());
        }
    }

    /** One request's run of its {@link Coordination}: the effects carried out, replies fed back, under its own lock. */
    private final class Flight {
        private final Coordination c;
        private final Supplier<Routing.Routed> reroute;
        private final CompletableFuture<Result> result = new CompletableFuture<>();
        private long deadlineTimer = -1;

        Flight(Coordination c, Supplier<Routing.Routed> reroute) {
            this.c = c;
            this.reroute = reroute;
        }

        CompletableFuture<Result> begin() {
            long leftMs = Math.max(1, c.deadlineMs() - nowMs());
            deadlineTimer = vertx.setTimer(leftMs, id -> advance(() -> c.onDeadline(nowMs())));
            advance(() -> c.start(nowMs()));
            if (c.proposer() != null && c.proposer().startedIn() != null) {
                termWrites.increment();
            }
            return result;
        }

        /**
         * Runs one transition of the core under this flight's lock and carries out its effects. A core
         * that throws has met a broken invariant (e.g. a reply that contradicts its request): the request
         * fails with it, loudly, instead of the exception vanishing in a callback and the request hanging.
         */
        private void advance(Supplier<List<Coordination.Effect>> transition) {
            synchronized (this) {
                try {
                    for (Coordination.Effect e : transition.get()) {
                        carryOut(e);
                    }
                } catch (RuntimeException e) {
                    LOG.errorf(e, "coordinating a request on key %s failed", c.key());
                    if (!result.isDone()) {
                        vertx.cancelTimer(deadlineTimer);
                        result.completeExceptionally(e);
                    }
                }
            }
        }

        private void carryOut(Coordination.Effect effect) {
            if (effect instanceof Coordination.Effect.Send s) {
                if (s.repair() && owe(s.envelope(), c.route(), s.epoch())) {
                    return; // goes with the next request to that peer, or on its own after the linger time
                }
                CompletableFuture<PaxosMessage> reply = send(s.envelope(), c.route(), s.epoch());
                if (s.repair()) {
                    reply.whenComplete((r, err) -> {
                        if (err != null) {
                            LOG.debugf("repair of %s on %s not confirmed: %s", c.key(), s.envelope().to(), err.getMessage());
                        }
                    });
                } else {
                    reply.whenComplete((r, err) -> {
                        if (err != null) {
                            LOG.debugf("no answer from %s to %s: %s", s.envelope().to(),
                                    s.envelope().request().getClass().getSimpleName(), err.getMessage());
                        }
                        advance(() -> err == null ? c.onReply(s.envelope(), r, nowMs())
                                : c.onNoReply(s.envelope(), nowMs(), noReply(err)));
                    });
                }
            } else if (effect instanceof Coordination.Effect.Wake w) {
                restarts.increment();
                long delay = w.atMs() - nowMs();
                if (delay <= 0) {
                    vertx.runOnContext(x -> advance(() -> c.onWake(nowMs())));
                } else {
                    vertx.setTimer(delay, id -> advance(() -> c.onWake(nowMs())));
                }
            } else if (effect instanceof Coordination.Effect.Refresh r) {
                fenceRetries.increment();
                topology.refresh(r.epoch()).whenComplete((t, err) -> {
                    if (err != null) {
                        LOG.debugf("could not learn topology epoch %d: %s", r.epoch(), err.getMessage());
                    }
                    advance(() -> c.onRoute(reroute.get(), nowMs()));
                });
            } else if (effect instanceof Coordination.Effect.Done d) {
                vertx.cancelTimer(deadlineTimer);
                result.complete(d.result());
            }
        }
    }

    /**
     * One request to one replica under {@code epoch}, naming the replica's host id: this node's own
     * replica directly, others over the cluster port. A reply from another host id than the one asked
     * is no answer (unless it is the fence saying so); a reply carrying a newer epoch makes this node
     * learn that topology.
     */
    private CompletableFuture<PaxosMessage> send(Proposer.Envelope e, Routing.Route route, long epoch) {
        long timeoutMs = config.paxos().phaseTimeoutMs();
        Replica target = route.replica(e.to());
        ClusterView v = topology.view();
        PaxosCodec.Addressed a = new PaxosCodec.Addressed(epoch, target.host(), e.request());
        CompletableFuture<PaxosCodec.Answer> answer;
        Endpoint endpoint = null;
        if (isOwnReplica(target, v)) {
            // Only this node's own replica needs a time-out here: a peer call has the transport's (PeerGuards),
            // and a second one per message cost a task in the JDK's shared delay queue for every message
            // (cancelled tasks stay queued until they would have fired: ~50,000 of them under a write load).
            answer = local.handle(a).orTimeout(timeoutMs, TimeUnit.MILLISECONDS);
        } else {
            endpoint = endpointOf(target, v);
            if (endpoint == null) {
                return CompletableFuture.failedFuture(new IllegalStateException("no address known for " + target.name()));
            }
            answer = requestWithOwedCommits(endpoint, PaxosCodec.type(e.request()), PaxosCodec.encode(a), timeoutMs)
                    .thenApply(reply -> PaxosCodec.decodeReply(reply.type(), reply.body(), horizon, nowMicros()));
        }
        Endpoint from = endpoint;
        long started = System.nanoTime();
        return answer.whenComplete((ans, err) ->
                phaseTimer(e.request(), err == null).record(System.nanoTime() - started, TimeUnit.NANOSECONDS)
        ).thenApply(ans -> {
            if (ans.epoch() > epoch && from != null) {
                topology.learnFrom(ans.epoch(), from);
            }
            if (!(ans.reply() instanceof PaxosMessage.Fenced) && !target.host().equals(ans.from())) {
                throw new IllegalStateException("replica " + target.name() + " answered as host " + ans.from()
                        + ", not " + target.host());
            }
            return ans.reply();
        });
    }

    /**
     * What this worker's own replica of {@code key} promised (null on a proxy, or if it promised nothing): a hint that
     * a term is stale ({@link Terms}). A failed store gives no hint; the write's own request to it reports the failure.
     */
    private io.nimbus.core.kv.Ballot localPromise(String key) {
        if (!storage.isWorker()) {
            return null;
        }
        try {
            return storage.store().read(key).promised();
        } catch (StoreFailedException e) {
            return null;
        }
    }

    /** Is {@code target} this worker's own replica (reached in-process, not over the cluster port)? */
    private boolean isOwnReplica(Replica target, ClusterView v) {
        return storage.isWorker() && target.name().equals(v.self()) && target.host().equals(v.selfHost());
    }

    private static Endpoint endpointOf(Replica target, ClusterView v) {
        Endpoint endpoint = v.addresses().get(target.name());
        if (endpoint == null && v.topology() != null) {
            endpoint = v.topology().worker(target.name()).map(Worker::endpoint).orElse(null);
        }
        return endpoint;
    }

    /**
     * Owes a fire-and-forget commit to a peer instead of sending it now; false if it is not one to owe (not a
     * commit, this node's own replica, or a peer with no known address: those are sent as before).
     */
    private boolean owe(Proposer.Envelope e, Routing.Route route, long epoch) {
        if (!(e.request() instanceof PaxosMessage.Commit)) {
            return false;
        }
        Replica target = route.replica(e.to());
        ClusterView v = topology.view();
        if (isOwnReplica(target, v)) {
            return false;
        }
        Endpoint endpoint = endpointOf(target, v);
        if (endpoint == null) {
            return false;
        }
        if (owed.add(endpoint, PaxosCodec.encode(new PaxosCodec.Addressed(epoch, target.host(), e.request())))) {
            scheduleFlush(endpoint);
        }
        return true;
    }

    /** Sends what is owed to {@code to} after the linger time, unless a request to it takes it along first. */
    private void scheduleFlush(Endpoint to) {
        scheduleFlush(to, config.paxos().commitLingerMs());
    }

    private void scheduleFlush(Endpoint to, long delayMs) {
        try {
            if (delayMs <= 0) {
                vertx.runOnContext(x -> flushOwed(to));
            } else {
                vertx.setTimer(delayMs, id -> flushOwed(to));
            }
        } catch (RuntimeException e) {
            // Vert.x is closing: the commits wait for a request to that peer, or are lost with this node (a
            // lost commit is a lost message); the request that owed them must still get its answer
            LOG.debugf("commits owed to %s wait for the next request to it: no flush could be scheduled (%s)", to,
                    e.getMessage());
        }
    }

    /**
     * A request to {@code to} with the commits owed to it ahead of it, at most {@value #COMMITS_PER_FRAME_MAX}
     * and half a frame; none if nothing is owed. The commits it took go back if the guard refuses the call.
     */
    private CompletableFuture<ClusterTransport.Message> requestWithOwedCommits(Endpoint to, int type, byte[] request,
                                                                          long timeoutMs) {
        List<byte[]> commits = owed.take(to, bundleBytesMax - request.length, false, COMMITS_PER_FRAME_MAX);
        if (commits.isEmpty()) {
            return cluster.peers().request(PeerGuards.Kind.PAXOS, to, new ClusterTransport.Message(type, request),
                    timeoutMs);
        }
        commitsWithRequest.increment(commits.size());
        return cluster.peers().request(PeerGuards.Kind.PAXOS, to, new ClusterTransport.Message(PaxosCodec.BUNDLE,
                PaxosCodec.encodeBundle(commits, type, request)), timeoutMs).whenComplete((reply, err) -> {
            if (err != null && unwrap(err) instanceof PeerRefusedException refused) {
                refused(to, commits, refused);
            }
        });
    }

    /**
     * Commits {@code to}'s guard refused (nothing was sent). Its bulkhead was full: they are owed again, ahead
     * of those owed since, for the next request to it or a flush after {@value #REFUSED_FLUSH_RETRY_MS} ms at
     * least (at most {@code nimbus.paxos.commits-owed-bytes-max} owed; beyond it they are dropped). Its breaker
     * was open: dropped, as the peer is taken for down and holding them for the whole open period would only
     * grow the queue. A dropped commit is a lost message: the next prepare of its key finishes the value.
     */
    private void refused(Endpoint to, List<byte[]> commits, PeerRefusedException why) {
        PendingCommits.Returned r = owed.refused(to, commits, why.reason());
        if (r.dropped() > 0) {
            commitsDropped.increment(r.dropped());
            LOG.debugf("%d commits to %s dropped (breaker open, or more than nimbus.paxos.commits-owed-bytes-max "
                    + "owed to it): %s", r.dropped(), to, why.getMessage());
        }
        if (r.flushNeeded()) {
            scheduleFlush(to, Math.max(config.paxos().commitLingerMs(), REFUSED_FLUSH_RETRY_MS));
        }
    }

    /** Sends what is still owed to {@code to} (no request took it along meanwhile) in frames of their own. */
    private void flushOwed(Endpoint to) {
        // every frame is taken before any is sent: a refusal may come back at once and owe its commits again
        List<List<byte[]>> frames = new ArrayList<>();
        List<byte[]> taken;
        while (!(taken = owed.take(to, bundleBytesMax, true, COMMITS_PER_FRAME_MAX)).isEmpty()) {
            frames.add(taken);
        }
        for (List<byte[]> commits : frames) {
            int n = commits.size();
            List<byte[]> frame = commits;
            cluster.peers().request(PeerGuards.Kind.PAXOS, to, new ClusterTransport.Message(PaxosCodec.BUNDLE,
                            PaxosCodec.encodeBundle(commits, 0, null)), config.paxos().phaseTimeoutMs())
                    .whenComplete((reply, err) -> {
                        if (err != null && unwrap(err) instanceof PeerRefusedException refused) {
                            refused(to, frame, refused); // not sent: counted when it is
                            return;
                        }
                        commitsAlone.increment(n);
                        commitFrames.increment();
                        if (err != null) {
                            LOG.debugf("%d commits to %s not confirmed: %s", n, to, err.getMessage());
                            return;
                        }
                        PaxosCodec.Answer a;
                        try {
                            a = PaxosCodec.decodeReply(reply.type(), reply.body(), horizon, nowMicros());
                        } catch (RuntimeException bad) {
                            LOG.debugf("%d commits to %s: the answer is no answer: %s", n, to, bad.getMessage());
                            return;
                        }
                        if (a.epoch() > topology.view().epoch()) {
                            topology.learnFrom(a.epoch(), to);
                        }
                    });
        }
    }

    /**
     * The latency of one Paxos message to one replica (this node's own included), by phase and by whether it
     * was answered; a histogram, so that a phase's p99 can be computed (LatencyHistograms).
     */
    private Timer phaseTimer(PaxosMessage.Request request, boolean answered) {
        return phaseTimers.get(request.getClass())[answered ? 1 : 0];
    }

    private static Map<Class<?>, Timer[]> phaseTimers(MeterRegistry registry) {
        Map<Class<?>, Timer[]> timers = new HashMap<>();
        Map<Class<?>, String> phases = Map.of(PaxosMessage.Prepare.class, "prepare", PaxosMessage.Propose.class,
                "propose", PaxosMessage.Commit.class, "commit", PaxosMessage.ReadCommitted.class, "read");
        phases.forEach((type, phase) -> {
            Timer[] pair = new Timer[2];
            for (int answered = 0; answered < 2; answered++) {
                pair[answered] = Timer.builder("nimbus.paxos.phase.duration")
                        .description("one Paxos message to one replica until its answer (or none: time-out, error)")
                        .tag("phase", phase).tag("answered", Boolean.toString(answered == 1)).register(registry);
            }
            timers.put(type, pair);
        });
        return Map.copyOf(timers);
    }

    /** Why a replica gave no reply, to the core: its guard refused the call (nothing sent), or silence. */
    static Coordination.NoReply noReply(Throwable err) {
        if (unwrap(err) instanceof PeerRefusedException p) {
            return p.reason() == PeerRefusedException.Reason.BULKHEAD_FULL ? Coordination.NoReply.OVERLOADED
                    : Coordination.NoReply.FAILING;
        }
        return Coordination.NoReply.SILENT;
    }

    static Result toResult(WriteOutcome o) {
        if (o instanceof WriteOutcome.Applied a) {
            return new Result.Written(a.version());
        }
        if (o instanceof WriteOutcome.PreconditionFailed f) {
            return new Result.PreconditionFailed(f.current());
        }
        return new Result.NotFound();
    }

    static WriteOutcome toWriteOutcome(Result r) {
        if (r instanceof Result.Written w) {
            return new WriteOutcome.Applied(null, w.version());
        }
        if (r instanceof Result.PreconditionFailed f) {
            return new WriteOutcome.PreconditionFailed(f.current());
        }
        if (r instanceof Result.NotFound) {
            return new WriteOutcome.NotFound();
        }
        throw new IllegalStateException("a write ended with " + r);
    }

    private static Throwable unwrap(Throwable e) {
        return e instanceof CompletionException && e.getCause() != null ? e.getCause() : e;
    }
}
