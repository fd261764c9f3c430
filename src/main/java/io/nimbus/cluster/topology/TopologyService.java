package io.nimbus.cluster.topology;

import io.nimbus.cluster.peer.PeerGuards;
import io.nimbus.cluster.transport.ClusterTransport;
import io.nimbus.cluster.transport.MalformedMessageException;
import io.nimbus.cluster.membership.ClusterService;
import io.nimbus.cluster.replica.ReplicaService;
import io.nimbus.cluster.coordinator.Coordinator;

import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.nimbus.config.NimbusConfig;
import io.nimbus.core.gossip.Endpoint;
import io.nimbus.core.gossip.Member;
import io.nimbus.core.kv.Mutation;
import io.nimbus.core.kv.Precondition;
import io.nimbus.core.kv.Proposal;
import io.nimbus.core.kv.SingleReplica;
import io.nimbus.core.kv.WriteOutcome;
import io.nimbus.core.ring.Murmur3;
import io.nimbus.core.ring.TokenAllocator;
import io.nimbus.core.ring.TokenRing;
import io.nimbus.core.topology.Barrier;
import io.nimbus.cluster.stream.StreamService;
import io.nimbus.core.topology.HostId;
import io.nimbus.core.topology.Operation;
import io.nimbus.core.topology.StreamPlan;
import io.nimbus.core.topology.Reachability;
import io.nimbus.core.topology.Replica;
import io.nimbus.core.topology.Topology;
import io.nimbus.core.topology.TopologyChangeRefused;
import io.nimbus.core.topology.Worker;
import io.nimbus.node.NodeIdentity;
import io.nimbus.node.Storage;
import io.nimbus.core.paxos.Acceptor;
import io.nimbus.storage.KeyStateCodec;
import io.nimbus.storage.MapDbStore;
import io.nimbus.storage.TopologyCodec;
import io.quarkus.runtime.StartupEvent;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import jakarta.annotation.Priority;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import jakarta.inject.Provider;
import org.eclipse.microprofile.config.inject.ConfigProperty;
import org.jboss.logging.Logger;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Function;

/**
 * The topology shell (TOPOLOGY.md §3): holds the topology this node acts on and publishes the
 * {@link ClusterView} the request path reads; founds a cluster (bootstrap), joins one, grows the
 * register's electorate; learns newer topologies (gossip carries epochs; fetch from the announcer;
 * persisted before use) and answers peers' fetches and pushes on the cluster port.
 *
 * <p>A worker's topology lives in its store ({@code MapDbStore#install}: persisted, then published on
 * the writer thread), loaded when the store opens, so a restarted worker is placed correctly from its
 * first request. A proxy keeps it in memory and fetches it again after a restart. Until a node holds a
 * topology it answers KV requests 503 {@code node-not-ready}.
 *
 * <p>A change is a compare-and-set of the register (a reserved key run by the existing Paxos on the
 * electorate's quorum): read; pass the barrier of what was read (push it to the workers until those that
 * hold it durably block every quorum it retired, {@link Barrier}); apply a pure transformation; write
 * with If-Match on the read version; then push the new topology at once. So at most two neighbouring
 * epochs are ever live, whoever made the previous change and however it ended.
 */
@ApplicationScoped
public class TopologyService {
    private static final Logger LOG = Logger.getLogger(TopologyService.class);
    static final int FETCH = 48, PUSH = 49, REPLACE = 50;
    /** How long a barrier waits for the blocking sets before it gives up (the change stays committed). */
    private static final long BARRIER_TIMEOUT_MS = 60_000;
    /** After the blocking sets answered, how long a barrier still waits for every reachable worker. */
    private static final long BARRIER_GRACE_MS = 2_000;
    private static final int CAS_ATTEMPTS_MAX = 10;
    /** While a node holds no topology, it asks every seed for one this often (in gossip rounds). */
    private static final int SEED_FETCH_EVERY_ROUNDS = 3;

    private final NimbusConfig config;
    private final NodeIdentity identity;
    private final Storage storage;
    private final Vertx vertx;
    private final Provider<Coordinator> coordinator;
    private final Provider<ClusterService> cluster;
    private final Provider<StreamService> streams;
    private final io.micrometer.core.instrument.Timer barrierWait;
    private final int httpPort;
    /** A proxy's topology (workers keep theirs in the store). */
    private volatile Topology held;
    private volatile ClusterView view;
    private volatile Set<String> down = Set.of();
    private volatile Map<String, Endpoint> addresses = Map.of();
    private volatile List<Member> members = List.of();
    /** Peers that announced a topology epoch, for fetches. */
    private final Map<String, Endpoint> peerEndpoints = new ConcurrentHashMap<>();
    private final Map<String, Long> peerEpochs = new ConcurrentHashMap<>();
    private final AtomicBoolean busy = new AtomicBoolean();
    /** Epochs whose barrier this node has seen pass (a barrier, once passed, stays passed). */
    private final Set<Long> barrierPassed = ConcurrentHashMap.newKeySet();
    /** Held while queueing topology installs, so founding a cluster and learning a peer's cannot interleave. */
    private final Object installOrder = new Object();
    private long roundsWithout;
    private long rounds;
    /** How often (in gossip rounds) a node reads the topology register at QUORUM and learns what it holds. */
    private static final int REGISTER_READ_EVERY_ROUNDS = 20;
    /** Auto-replace: when this store first saw its name held by another host (0: not), and the next ask's earliest time. */
    private volatile long replaceSince;
    private volatile long replaceNotBefore;
    /** A worker allowed to found a cluster that first listens for peers: rounds left (0: not waiting). */
    private volatile int bootstrapRoundsLeft;
    private final AtomicBoolean fetching = new AtomicBoolean();
    private final AtomicBoolean refreshing = new AtomicBoolean();
    private final Set<String> warned = ConcurrentHashMap.newKeySet();

    public TopologyService(NimbusConfig config, NodeIdentity identity, Storage storage, Vertx vertx,
                           Provider<Coordinator> coordinator, Provider<ClusterService> cluster, MeterRegistry registry,
                           ReplicaService replicas, Provider<StreamService> streams,
                           @ConfigProperty(name = "quarkus.http.port") int httpPort) {
        this.streams = streams;
        this.config = config;
        this.identity = identity;
        this.storage = storage;
        this.vertx = vertx;
        this.coordinator = coordinator;
        this.cluster = cluster;
        this.httpPort = httpPort;
        replicas.onBehind(this::refreshInBackground);
        Gauge.builder("nimbus.topology.epoch", this, s -> s.view().epoch())
                .description("the topology epoch this node holds (0: none yet)").register(registry);
        this.barrierWait = io.micrometer.core.instrument.Timer.builder("nimbus.topology.barrier.wait")
                .description("how long a topology change's barrier took to pass (the blocking sets, then the grace)")
                .register(registry);
    }

    /** Runs after the store opened (100) and the cluster port is bound (200). */
    void onStart(@Observes @Priority(250) StartupEvent event) {
        Topology t = current();
        if (storage.isWorker() && t == null) {
            t = recoverFromOwnRegister();
        }
        if (storage.isWorker() && t == null && bootstrapAllowed()) {
            if (otherSeeds().isEmpty()) {
                t = bootstrap();
            } else {
                bootstrapRoundsLeft = Math.max(1, config.cluster().bootstrapWaitRounds());
                LOG.infof("allowed to found a cluster: listening %d gossip rounds for a peer that holds one first "
                        + "(seeds %s)", bootstrapRoundsLeft, otherSeeds());
            }
        }
        if (t != null) {
            checkReplicationFactor(t);
            LOG.infof("holding topology epoch %d of cluster %s: %d worker(s), replication factor %d", t.epoch(),
                    t.clusterId(), t.workers().size(), t.rf());
        } else {
            LOG.infof("no topology yet: waiting for a peer that holds one (bootstrap %s)",
                    storage.isWorker() && bootstrapAllowed() ? "allowed" : "not allowed");
        }
        publish();
    }

    private boolean bootstrapAllowed() {
        String setting = config.cluster().bootstrap().map(String::trim).orElse("");
        if (setting.isEmpty()) {
            // with multicast, every node starts seedless: founding by default would make one cluster per node
            return config.cluster().discovery() != NimbusConfig.Discovery.MULTICAST && otherSeeds().isEmpty();
        }
        if (setting.equalsIgnoreCase("true") || setting.equalsIgnoreCase("false")) {
            return Boolean.parseBoolean(setting);
        }
        return setting.equals(identity.id());
    }

    /** The configured seeds other than this node's own cluster address. */
    private List<String> otherSeeds() {
        Endpoint self = cluster.get().selfEndpoint();
        List<String> out = new java.util.ArrayList<>();
        for (String seed : config.cluster().seeds().orElse(List.of())) {
            if (self == null || !Endpoint.parse(seed).equals(self)) {
                out.add(seed);
            }
        }
        return out;
    }

    /** The topology this node acts on (null: none yet). */
    public Topology current() {
        return storage.isWorker() ? (storage.isOpen() ? storage.store().topology() : null) : held;
    }

    /** The immutable view the request path reads. */
    public ClusterView view() {
        ClusterView v = view;
        Topology t = current();
        if (v == null || v.topology() != t) {
            v = publish();
        }
        return v;
    }

    private synchronized ClusterView publish() {
        Topology t = current();
        HostId me = storage.isWorker() && storage.isOpen() ? storage.store().hostId() : null;
        String why = t != null ? null : storage.isWorker() && bootstrapAllowed()
                ? "this worker is founding its cluster" : "this node holds no cluster topology yet: no peer that holds "
                + "one has been reached (seeds: " + config.cluster().seeds().orElse(List.of()) + ")";
        ClusterView v = new ClusterView(t, identity.id(), me, down, addresses, members, why);
        view = v;
        return v;
    }

    /** This worker as a member: its name, store, cluster address and HTTP port. */
    private Worker self(List<Long> tokens) {
        return new Worker(identity.id(), storage.store().hostId(), cluster.get().selfEndpoint(), httpPort, tokens);
    }

    private long tokenOffset() {
        return Murmur3.hash64(identity.id().getBytes(StandardCharsets.UTF_8));
    }

    // ---- founding a cluster ------------------------------------------------------------------------

    /**
     * Epoch 1: this worker alone, every key's replica and the register's only acceptor, under a fresh
     * cluster id. The register is written first (create-only), then the topology is installed: a crash
     * in between is recovered at the next start from the register ({@link #recoverFromOwnRegister}).
     */
    private Topology bootstrap() {
        List<Long> tokens = TokenAllocator.allocate(TokenRing.of(0, Map.of()), identity.id(), config.ring().tokens(),
                tokenOffset());
        Topology t = Topology.bootstrap(UUID.randomUUID(), config.replicationFactor(), self(tokens));
        MapDbStore store = storage.store();
        CompletableFuture<WriteOutcome> registered;
        CompletableFuture<Topology> installed;
        synchronized (installOrder) {
            // decided on the writer thread: only if this store still holds no topology (a peer's may have been
            // learned meanwhile; installs are queued under the same lock, so none can slip in between)
            registered = store.update(ReplicaService.REGISTER_KEY, (current, fresh) -> {
                if (store.topology() != null) {
                    return new Acceptor.Transition<>(current, null);
                }
                WriteOutcome o = SingleReplica.apply(current, new Mutation(ReplicaService.REGISTER_KEY,
                        TopologyCodec.encode(t), new Precondition.Absent()), fresh.get());
                return new Acceptor.Transition<>(o instanceof WriteOutcome.Applied a ? a.next() : current, o);
            });
            installed = store.install(t);
        }
        WriteOutcome o = registered.join();
        Topology held = installed.join();
        if (o == null) {
            LOG.infof("not founding a cluster: this worker learned cluster %s's topology meanwhile", held.clusterId());
            return held;
        }
        if (!(o instanceof WriteOutcome.Applied) || !held.equals(t)) {
            throw new IllegalStateException("this store never held a topology but its topology register is not empty: "
                    + "it is damaged; restore it from a backup");
        }
        LOG.infof("founded cluster %s: epoch 1, replication factor %d, this worker alone", t.clusterId(), t.rf());
        return held;
    }

    /** A store that accepted a topology into its own register copy but never installed one (crash at bootstrap). */
    private Topology recoverFromOwnRegister() {
        Proposal p = SingleReplica.settled(storage.store().read(ReplicaService.REGISTER_KEY)).committed();
        if (p == null || p.isTombstone()) {
            return null;
        }
        Topology t = TopologyCodec.decode(p.value());
        if (!t.holds(new Replica(identity.id(), storage.store().hostId()))) {
            return null;
        }
        LOG.infof("installing topology epoch %d from this store's own register copy", t.epoch());
        return storage.store().install(t).join();
    }

    private void checkReplicationFactor(Topology t) {
        if (t.rf() != config.replicationFactor() && warned.add("rf")) {
            LOG.warnf("nimbus.replication-factor is %d here, but cluster %s was founded with %d: using the cluster's (%d)",
                    config.replicationFactor(), t.clusterId(), t.rf(), t.rf());
        }
    }

    // ---- learning newer topologies -----------------------------------------------------------------

    /**
     * Makes {@code t} this node's topology if it is newer (a worker persists it first). A topology of
     * another cluster is refused: two clusters never merge silently.
     */
    public CompletableFuture<Topology> learn(Topology t) {
        Topology cur = current();
        if (cur != null && !cur.clusterId().equals(t.clusterId())) {
            if (warned.add("cluster-" + t.clusterId())) {
                LOG.errorf("refusing topology of cluster %s: this node belongs to cluster %s (is a peer from another "
                        + "cluster listed in the seeds?)", t.clusterId(), cur.clusterId());
            }
            return CompletableFuture.failedFuture(new IllegalArgumentException("topology of another cluster"));
        }
        if (cur != null && t.epoch() <= cur.epoch()) {
            return CompletableFuture.completedFuture(cur);
        }
        CompletableFuture<Topology> done;
        if (storage.isWorker()) {
            synchronized (installOrder) {
                done = storage.store().install(t);
            }
        } else {
            synchronized (this) {
                if (held == null || t.epoch() > held.epoch()) {
                    held = t;
                }
            }
            done = CompletableFuture.completedFuture(held);
        }
        return done.thenApply(h -> {
            if (!h.clusterId().equals(t.clusterId())) {
                if (warned.add("cluster-" + t.clusterId())) {
                    LOG.errorf("refusing topology of cluster %s: this node belongs to cluster %s", t.clusterId(),
                            h.clusterId());
                }
                throw new IllegalArgumentException("topology of another cluster");
            }
            if (cur == null || h.epoch() > cur.epoch()) {
                LOG.infof("now holding topology epoch %d (%d worker(s), electorate %s)", h.epoch(), h.workers().size(),
                        h.electorate().current());
                checkReplicationFactor(h);
            }
            publish();
            cluster.get().announceTopology();
            return h;
        });
    }

    /** Fetches the topology held at {@code from} and learns it. */
    CompletableFuture<Topology> fetch(Endpoint from) {
        return cluster.get().peers().request(PeerGuards.Kind.TOPOLOGY, from, new ClusterTransport.Message(FETCH, new byte[0]),
                        config.paxos().phaseTimeoutMs())
                .thenCompose(reply -> {
                    if (reply.type() != FETCH || reply.body().length == 0) {
                        return CompletableFuture.completedFuture(current());
                    }
                    return learn(TopologyCodec.decode(reply.body()));
                });
    }

    /** A peer at {@code from} holds epoch {@code epoch}: fetch it there if it is newer (at most one fetch at a time). */
    public void learnFrom(long epoch, Endpoint from) {
        if (epoch <= view().epoch() || from == null || !fetching.compareAndSet(false, true)) {
            return;
        }
        fetch(from).whenComplete((t, e) -> {
            fetching.set(false);
            if (e != null) {
                LOG.debugf("fetching topology epoch %d from %s failed: %s", epoch, from, e.getMessage());
            }
        });
    }

    /** Learns a topology of at least {@code epoch} from a peer that announced one; completes with what this node holds then. */
    public CompletableFuture<Topology> refresh(long epoch) {
        if (view().epoch() >= epoch) {
            return CompletableFuture.completedFuture(current());
        }
        for (Map.Entry<String, Long> e : peerEpochs.entrySet()) {
            Endpoint ep = peerEndpoints.get(e.getKey());
            if (e.getValue() >= epoch && ep != null && !down.contains(e.getKey())) {
                return fetch(ep); // a reachable peer that announced at least that epoch
            }
        }
        Topology t = current();
        if (t != null) {
            for (Worker w : t.workers()) {
                if (!w.name().equals(identity.id()) && !down.contains(w.name())) {
                    return fetch(addresses.getOrDefault(w.name(), w.endpoint()));
                }
            }
        }
        return CompletableFuture.completedFuture(t);
    }

    /**
     * Reads the register at QUORUM (a Paxos read: it also finishes a proposal that was accepted but not
     * committed) and learns its value. A change whose compare-and-set was chosen but that nobody
     * installed — its driver crashed, or saw the outcome as unknown — is found this way, not only when
     * the next change reads the register.
     */
    private void readRegister() {
        if (!fetching.compareAndSet(false, true)) {
            return;
        }
        CompletableFuture.completedFuture(null).thenCompose(x -> coordinator.get().registerRead()).thenCompose(p ->
                p == null || p.isTombstone() ? CompletableFuture.completedFuture(current())
                        : learn(TopologyCodec.decode(p.value()))).whenComplete((t, e) -> {
            fetching.set(false);
            if (e != null) {
                LOG.debugf("reading the topology register: %s", e.getMessage());
            }
        });
    }

    /** A replica was asked under a newer epoch: learn it, one fetch at a time (a burst of such requests is one fetch). */
    private void refreshInBackground(long epoch) {
        if (!refreshing.compareAndSet(false, true)) {
            return;
        }
        CompletableFuture.completedFuture(null).thenCompose(x -> refresh(epoch)).whenComplete((t, e) -> {
            refreshing.set(false);
            if (e != null) {
                LOG.debugf("could not learn topology epoch %d: %s", epoch, e.getMessage());
            }
        });
    }

    /** Called by the gossip shell after each round with its members: reachability, addresses, announced epochs. */
    public void onGossip(List<Member> members) {
        Topology t = current();
        Map<String, Endpoint> nowAt = new HashMap<>();
        for (Member m : members) {
            if (!m.self()) {
                nowAt.put(m.id(), m.info().endpoint());
                peerEndpoints.put(m.id(), m.info().endpoint());
                peerEpochs.put(m.id(), m.info().topologyEpoch());
            }
        }
        Set<String> nowDown = Reachability.down(t, members);
        Member announcer = Reachability.newestAnnouncer(members);
        long newest = announcer == null ? 0 : announcer.info().topologyEpoch();
        Endpoint newestAt = announcer == null ? null : announcer.info().endpoint();
        down = Set.copyOf(nowDown);
        addresses = Map.copyOf(nowAt);
        this.members = List.copyOf(members);
        publish();
        if (t == null && ++roundsWithout % SEED_FETCH_EVERY_ROUNDS == 0) {
            // gossip stops asking seeds once it heard from any peer: peers that hold no topology either could form
            // an island without the founder, so while this node has none it also asks every seed directly
            for (String seed : otherSeeds()) {
                fetch(Endpoint.parse(seed)).whenComplete((x, e) -> {
                    if (e != null) {
                        LOG.debugf("no topology from seed %s: %s", seed, e.getMessage());
                    }
                });
            }
        }
        if (t != null && ++rounds % REGISTER_READ_EVERY_ROUNDS == 0) {
            readRegister(); // an epoch chosen but never installed (its driver crashed) is announced this way
        }
        if (newest > (t == null ? 0 : t.epoch())) {
            learnFrom(newest, newestAt);
        } else if (t == null && bootstrapRoundsLeft > 0 && --bootstrapRoundsLeft == 0) {
            LOG.infof("no peer holds a topology after %d gossip rounds: founding a new cluster",
                    config.cluster().bootstrapWaitRounds());
            vertx.executeBlocking(() -> bootstrap(), false).onComplete(ar -> {
                if (ar.failed()) {
                    LOG.errorf(ar.cause(), "founding a cluster failed");
                } else {
                    publish();
                    cluster.get().announceTopology();
                }
            });
        }
        if (storage.isWorker() && t != null) {
            advanceMembership(t);
        }
    }

    // ---- changing the topology ---------------------------------------------------------------------

    /**
     * One step towards this worker being a full member: join if it is not in the topology, then grow
     * the register's electorate while it is below its size and this worker is the next to add. One
     * change at a time per node.
     */
    private void advanceMembership(Topology t) {
        Replica me = new Replica(identity.id(), storage.store().hostId());
        Function<Topology, Topology> step;
        String what;
        Operation op = t.operation().orElse(null);
        if (op != null) {
            if (op.driver().equals(me.name()) && (t.holds(me) || t.isJoining(me))) {
                drive(t, op);
            }
            return; // one operation at a time; the electorate does not change meanwhile
        }
        if (Reachability.upToDate(t, identity.id(), members, down)) {
            streams.get().cleanupIfDue(t); // rows of ranges this worker no longer replicates (none if it never held any)
        }
        if (t.departed().contains(me.host())) {
            if (warned.add("departed")) {
                LOG.warnf("this worker's store (host %s) left cluster %s: it was decommissioned, removed, or its join "
                        + "was aborted. It serves no data; to join again, stop it, remove its data directory %s and "
                        + "start it as a new worker.", me.host(), t.clusterId(), config.dataDir());
            }
            return;
        }
        if (t.holds(me)) {
            streams.get().memberSince(); // range sync after a start, then on a schedule
        }
        if (!t.holds(me)) {
            Worker existing = t.worker(me.name()).orElse(null);
            if (existing != null) {
                if (warned.add("name-" + existing.host())) {
                    LOG.errorf("the topology holds a worker named %s with host id %s, but this store is %s (a wiped or "
                            + "new data directory under an existing name). This worker replaces it: once the old one has "
                            + "been unreachable for the failure timeout, a live worker removes it (its ranges are copied "
                            + "from the remaining replicas), then this worker joins as a new member. If the old worker "
                            + "is still running, stop one of them.", me.name(), existing.host(), me.host());
                }
                askForReplacement(t, existing);
                return;
            }
            what = "join";
            step = cur -> cur.startJoin(self(cur.allocateTokens(identity.id(), config.ring().tokens(), tokenOffset())));
        } else if (t.electorate().isJoint()) {
            what = "finish changing the topology electorate to " + names(t.electorate().next());
            step = Topology::finishElectorateChange;
        } else if (t.electorateTarget(this::eligible).isPresent()) {
            what = "change the topology electorate to " + names(t.electorateTarget(this::eligible).get());
            step = cur -> cur.beginElectorateChange(cur.electorateTarget(this::eligible).orElseThrow(() ->
                    new TopologyChangeRefused("the electorate needs no change at epoch " + cur.epoch())));
        } else {
            return;
        }
        if (!busy.compareAndSet(false, true)) {
            return;
        }
        LOG.infof("topology change: %s (from epoch %d)", what, t.epoch());
        // (through a completed future: an exception thrown while starting the change fails it like any other,
        // so busy is always released)
        CompletableFuture.completedFuture(null).thenCompose(x -> transform(step, 0)).whenComplete((next, e) -> {
            busy.set(false);
            if (e != null) {
                Throwable cause = e instanceof java.util.concurrent.CompletionException && e.getCause() != null ? e.getCause() : e;
                if (cause instanceof TopologyChangeRefused) {
                    LOG.infof("topology change '%s' not applied: %s", what, cause.getMessage());
                } else {
                    LOG.warnf("topology change '%s' failed (will retry): %s", what, cause.getMessage());
                }
            } else {
                LOG.infof("topology change done: %s (now epoch %d)", what, next.epoch());
            }
        });
    }

    /**
     * Moves the operation this worker drives on: pass the START epoch's barrier (no request of the epoch
     * before can decide anything any more), have every pending replica copy its ranges, then commit
     * FINISH. Each step is retried on the next gossip round until it succeeds; the operation stays in
     * the register meanwhile, so a crashed driver resumes at its next start.
     */
    private void drive(Topology t, Operation op) {
        if (!busy.compareAndSet(false, true)) {
            return;
        }
        long start = System.nanoTime();
        LOG.infof("topology operation %s at epoch %d: barrier, then stream to %s", op, t.epoch(),
                StreamPlan.of(t).receivers());
        CompletableFuture.completedFuture(null).thenCompose(x -> barrier(t, false))
                .thenCompose(x -> streams.get().awaitReceivers(t))
                .thenCompose(x -> transform(cur -> {
                    if (cur.epoch() != t.epoch()) {
                        throw new TopologyChangeRefused("the topology moved from epoch " + t.epoch() + " to " + cur.epoch()
                                + " while " + op + " was streaming");
                    }
                    return cur.finish();
                }, 0))
                .whenComplete((next, e) -> {
                    busy.set(false);
                    if (e != null) {
                        Throwable cause = e instanceof java.util.concurrent.CompletionException && e.getCause() != null
                                ? e.getCause() : e;
                        LOG.warnf("topology operation %s not finished yet (retrying): %s", op, cause.getMessage());
                    } else {
                        LOG.infof("topology operation %s finished: epoch %d (%d ms since this driver resumed it)", op,
                                next.epoch(), TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start));
                    }
                });
    }

    /**
     * Starts decommissioning this worker ({@code POST /v1/cluster/decommission}): commits the START of
     * LEAVE; the gossip rounds then drive it (streams from this worker, FINISH). Completes with the START
     * epoch; fails with {@link TopologyChangeRefused} when it cannot start.
     */
    public CompletableFuture<Topology> decommission() {
        Topology t = current();
        if (!storage.isWorker() || t == null) {
            return CompletableFuture.failedFuture(new TopologyChangeRefused("only a worker that holds the topology can be "
                    + "decommissioned"));
        }
        String me = identity.id();
        return operate("decommission " + me, cur -> cur.startLeave(me, this::eligible));
    }

    /**
     * Starts removing the dead worker {@code name} ({@code POST /v1/cluster/nodes/{name}/remove}), driven
     * by this worker. Refused while gossip reaches it: a live worker is decommissioned, not removed.
     */
    public CompletableFuture<Topology> remove(String name) {
        Topology t = current();
        if (!storage.isWorker() || t == null) {
            return CompletableFuture.failedFuture(new TopologyChangeRefused("only a worker that holds the topology can "
                    + "drive a removal"));
        }
        if (name.equals(identity.id())) {
            return CompletableFuture.failedFuture(new TopologyChangeRefused("a worker cannot remove itself: use "
                    + "POST /v1/cluster/decommission on it"));
        }
        Worker w = t.worker(name).orElse(null);
        if (w != null && Reachability.heardAlive(name, members, down)) {
            return CompletableFuture.failedFuture(new TopologyChangeRefused(name + " is reachable: decommission a live "
                    + "worker (POST /v1/cluster/decommission on it) instead of removing it"));
        }
        String me = identity.id();
        return operate("remove " + name, cur -> cur.startRemove(name, me, this::eligible));
    }

    /** Aborts the operation in progress ({@code POST /v1/cluster/operation/abort}): its ranges go back to their old replicas. */
    public CompletableFuture<Topology> abort() {
        return operate("abort the operation in progress", Topology::abort);
    }

    private CompletableFuture<Topology> operate(String what, Function<Topology, Topology> step) {
        LOG.infof("topology change requested: %s (at epoch %d)", what, view().epoch());
        return CompletableFuture.completedFuture(null).thenCompose(x -> transform(step, 0)).whenComplete((next, e) -> {
            if (e == null) {
                LOG.infof("topology change done: %s (now epoch %d%s)", what, next.epoch(),
                        next.operation().map(o -> ", " + o + " in progress").orElse(""));
            }
        });
    }

    /**
     * Auto-replace, step one: this wiped store runs under the name of a worker the topology still holds
     * (another host id). After the failure timeout, it asks a reachable member to remove that worker
     * (REPLACE on the cluster port; the member refuses while it still reaches the old one). When the
     * removal has finished, the name is free and this worker joins like any new one (its ranges streamed).
     * Data moves twice (out at the removal, back at the join), in exchange for no third kind of operation.
     */
    private void askForReplacement(Topology t, Worker old) {
        long now = System.nanoTime();
        if (replaceSince == 0) {
            replaceSince = now;
        }
        if (t.operation().isPresent() || now - replaceSince < config.gossip().failureTimeout().toNanos()
                || now < replaceNotBefore || !busy.compareAndSet(false, true)) {
            return;
        }
        Worker member = Reachability.replacementHelper(t, old, down).orElse(null);
        if (member == null) {
            busy.set(false);
            return;
        }
        Worker asked = member;
        byte[] body = ByteBuffer.allocate(16).putLong(old.host().uuid().getMostSignificantBits())
                .putLong(old.host().uuid().getLeastSignificantBits()).array();
        replaceNotBefore = now + TimeUnit.SECONDS.toNanos(5);
        cluster.get().peers().request(PeerGuards.Kind.TOPOLOGY, addresses.getOrDefault(asked.name(), asked.endpoint()),
                        new ClusterTransport.Message(REPLACE, body), config.paxos().phaseTimeoutMs() * 4)
                .whenComplete((reply, failure) -> {
                    busy.set(false);
                    LOG.infof("asked %s to remove %s (host %s) so that this worker can replace it: %s", asked.name(),
                            old.name(), old.host(), failure == null ? new String(reply.body(), StandardCharsets.UTF_8)
                                    : failure.getMessage());
                });
    }

    /** REPLACE: a wiped store under {@code name} asks this member to remove the old worker of that name. */
    private Future<ClusterTransport.Message> replaceRequested(ClusterTransport.Message request) {
        if (request.body().length != 16) {
            throw new MalformedMessageException("a replace request is 16 bytes, got " + request.body().length);
        }
        ByteBuffer in = ByteBuffer.wrap(request.body());
        HostId oldHost = new HostId(new UUID(in.getLong(), in.getLong()));
        Topology t = current();
        Worker old = t == null ? null : t.workerWithHost(oldHost).orElse(null);
        if (old == null) {
            return Future.succeededFuture(new ClusterTransport.Message(REPLACE,
                    ("host " + oldHost + " is no member of epoch " + view().epoch()).getBytes(StandardCharsets.UTF_8)));
        }
        String name = old.name();
        return Future.fromCompletionStage(remove(name).handle((next, e) -> {
            String said = e == null ? "removal of " + name + " started at epoch " + next.epoch()
                    : "removal of " + name + " not started: " + (e.getCause() != null ? e.getCause().getMessage() : e.getMessage());
            return new ClusterTransport.Message(REPLACE, said.getBytes(StandardCharsets.UTF_8));
        }));
    }

    /** A worker this node can reach (itself included): one the electorate may grow by. */
    private boolean eligible(Replica r) {
        return view().reachable(r);
    }

    private static List<String> names(List<Replica> rs) {
        return rs.stream().map(Replica::name).toList();
    }

    /**
     * Read the register; pass the barrier of what was read (its retired quorums blocked, so no request of
     * the epoch before can still decide anything); apply {@code f}; compare-and-set on the read version —
     * on a conflict, again. Then push the new topology (the eager barrier: it also spreads the news).
     */
    CompletableFuture<Topology> transform(Function<Topology, Topology> f, int attempt) {
        long basis = view().epoch();
        return coordinator.get().registerRead().thenCompose(committed -> {
            if (committed == null || committed.isTombstone()) {
                throw new IllegalStateException("the topology register is empty at epoch " + basis);
            }
            Topology cur = TopologyCodec.decode(committed.value());
            return learn(cur).thenCompose(h -> barrier(cur, false)).thenCompose(passed -> {
                Topology next = f.apply(cur);
                return coordinator.get().registerWrite(TopologyCodec.encode(next),
                                new Precondition.VersionIn(List.of(committed.version())))
                        .thenCompose(o -> {
                            if (o instanceof WriteOutcome.Applied) {
                                return learn(next).thenCompose(x -> barrier(next, true).handle((v, err) -> {
                                    if (err != null) {
                                        LOG.warnf("epoch %d is committed but its barrier has not passed yet (%s); the "
                                                + "next change waits for it", next.epoch(), err.getMessage());
                                    }
                                    return next;
                                }));
                            }
                            if (attempt + 1 >= CAS_ATTEMPTS_MAX) {
                                throw new IllegalStateException("the topology register kept changing under "
                                        + CAS_ATTEMPTS_MAX + " attempts");
                            }
                            return transform(f, attempt + 1);
                        });
            });
        });
    }

    /**
     * Pushes {@code t} to its workers until those that hold it durably (past their writer's fence point,
     * answering with their own host id) block every quorum system {@code t} retired; with {@code grace},
     * then waits up to {@link #BARRIER_GRACE_MS} for the rest of the reachable ones too. Bounded: after
     * {@link #BARRIER_TIMEOUT_MS} it fails, and no change is made on top of {@code t} until it passes.
     */
    CompletableFuture<Void> barrier(Topology t, boolean grace) {
        if (!grace && (barrierPassed.contains(t.epoch()) || t.retired().isEmpty())) {
            return CompletableFuture.completedFuture(null);
        }
        CompletableFuture<Void> done = new CompletableFuture<>();
        Map<String, Worker> targets = new LinkedHashMap<>();
        for (Worker w : t.workers()) {
            targets.put(w.name(), w);
        }
        for (Worker w : t.targetWorkers()) { // a joiner is pending before it is a member
            targets.putIfAbsent(w.name(), w);
        }
        Set<String> acked = ConcurrentHashMap.newKeySet();
        long start = System.nanoTime();
        pushRound(t, grace, targets, acked, start, done);
        return done.thenRun(() -> {
            barrierPassed.add(t.epoch());
            barrierWait.record(System.nanoTime() - start, TimeUnit.NANOSECONDS);
        });
    }

    private void pushRound(Topology t, boolean grace, Map<String, Worker> targets, Set<String> acked, long start,
                           CompletableFuture<Void> done) {
        List<CompletableFuture<Void>> asks = new java.util.ArrayList<>();
        byte[] body = TopologyCodec.encode(t);
        for (Worker w : targets.values()) {
            if (acked.contains(w.name())) {
                continue;
            }
            CompletableFuture<PushAck> ack = w.name().equals(identity.id()) && storage.isWorker()
                    ? storage.store().fencePoint().thenApply(h -> new PushAck(h == null ? 0 : h.epoch(), storage.store().hostId()))
                    : cluster.get().peers().request(PeerGuards.Kind.TOPOLOGY, addresses.getOrDefault(w.name(), w.endpoint()),
                            new ClusterTransport.Message(PUSH, body), config.paxos().phaseTimeoutMs())
                    .thenApply(reply -> PushAck.decode(reply.body()));
            asks.add(ack.handle((a, err) -> {
                if (err != null) {
                    LOG.debugf("push of epoch %d to %s: %s", t.epoch(), w.name(), err.getMessage());
                } else if (a.epoch() >= t.epoch() && w.host().equals(a.host())) {
                    acked.add(w.name());
                } else if (!w.host().equals(a.host())) {
                    LOG.debugf("push of epoch %d to %s answered by host %s, not %s", t.epoch(), w.name(), a.host(), w.host());
                }
                return null;
            }));
        }
        CompletableFuture.allOf(asks.toArray(CompletableFuture[]::new)).whenComplete((v, e) -> {
            long waitedMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
            boolean blocking = Barrier.passed(t, acked);
            Set<String> reachable = new HashSet<>(targets.keySet());
            reachable.removeAll(down);
            if (blocking && (!grace || acked.containsAll(reachable) || waitedMs > BARRIER_GRACE_MS)) {
                LOG.debugf("barrier for epoch %d passed after %d ms (%s hold it)", t.epoch(), waitedMs, acked);
                done.complete(null);
            } else if (waitedMs > BARRIER_TIMEOUT_MS) {
                done.completeExceptionally(new IllegalStateException("barrier for epoch " + t.epoch() + " not passed in "
                        + waitedMs + " ms: only " + acked + " hold it"));
            } else {
                vertx.setTimer(200, id -> pushRound(t, grace, targets, acked, start, done));
            }
        });
    }

    /** A PUSH answer: the epoch the peer holds after its fence point, and which store answered. */
    record PushAck(long epoch, HostId host) {
        byte[] encode() {
            return ByteBuffer.allocate(24).putLong(epoch).putLong(host.uuid().getMostSignificantBits())
                    .putLong(host.uuid().getLeastSignificantBits()).array();
        }

        static PushAck decode(byte[] b) {
            if (b.length != 24) {
                throw new MalformedMessageException("a topology push answer is 24 bytes, got " + b.length);
            }
            ByteBuffer in = ByteBuffer.wrap(b);
            return new PushAck(in.getLong(), new HostId(new UUID(in.getLong(), in.getLong())));
        }
    }

    // ---- the cluster port --------------------------------------------------------------------------

    public static boolean isTopology(int type) {
        return type == FETCH || type == PUSH || type == REPLACE;
    }

    /** FETCH: answer the topology held (empty: none). PUSH: learn it, pass the store's fence point, answer the epoch held. */
    public Future<ClusterTransport.Message> handle(ClusterTransport.Message request) {
        if (request.type() == REPLACE) {
            if (!storage.isWorker()) {
                throw new MalformedMessageException("a replace request to a proxy");
            }
            return replaceRequested(request);
        }
        if (request.type() == FETCH) {
            Topology t = current();
            return Future.succeededFuture(new ClusterTransport.Message(FETCH, t == null ? new byte[0] : TopologyCodec.encode(t)));
        }
        Topology pushed;
        try {
            pushed = TopologyCodec.decode(request.body());
        } catch (KeyStateCodec.CorruptRecordException e) {
            throw new MalformedMessageException("pushed topology does not decode: " + e.getMessage());
        }
        if (!storage.isWorker()) {
            throw new MalformedMessageException("a topology push to a proxy: only workers take part in barriers");
        }
        CompletableFuture<PushAck> ack = learn(pushed).exceptionally(e -> {
            LOG.warnf("a pushed topology (epoch %d of cluster %s) was not taken: %s", pushed.epoch(), pushed.clusterId(),
                    e.getMessage());
            return current();
        }).thenCompose(h -> storage.store().fencePoint())
                .thenApply(h -> new PushAck(h == null ? 0L : h.epoch(), storage.store().hostId()));
        return Future.fromCompletionStage(ack.thenApply(a -> new ClusterTransport.Message(PUSH, a.encode())));
    }
}
