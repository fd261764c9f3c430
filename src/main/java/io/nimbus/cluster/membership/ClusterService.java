package io.nimbus.cluster.membership;

import io.nimbus.cluster.peer.PeerGuards;
import io.nimbus.cluster.transport.ClusterPortExposure;
import io.nimbus.cluster.transport.ClusterTls;
import io.nimbus.cluster.transport.ClusterTransport;
import io.nimbus.cluster.transport.TransportSettings;
import io.nimbus.cluster.transport.MalformedMessageException;
import io.nimbus.cluster.stream.StreamService;
import io.nimbus.cluster.topology.TopologyService;
import io.nimbus.cluster.replica.ReplicaService;
import io.nimbus.cluster.replica.PaxosCodec;

import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.nimbus.config.NimbusConfig;
import io.nimbus.core.gossip.Endpoint;
import io.nimbus.core.gossip.GenerationHorizon;
import io.nimbus.core.gossip.GossipMessage;
import io.nimbus.core.gossip.GossipSettings;
import io.nimbus.core.gossip.Gossiper;
import io.nimbus.core.gossip.Member;
import io.nimbus.core.gossip.NodeInfo;
import io.nimbus.core.gossip.NodeStatus;
import io.nimbus.core.gossip.Outbound;
import io.nimbus.core.paxos.BallotHorizon;
import io.nimbus.node.NodeIdentity;
import io.nimbus.node.Storage;
import io.quarkus.runtime.ShutdownEvent;
import io.quarkus.runtime.StartupEvent;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import jakarta.annotation.Priority;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import org.eclipse.microprofile.config.inject.ConfigProperty;
import org.jboss.logging.Logger;

import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/**
 * The gossip shell: owns the {@link Gossiper} core (behind one lock), the timer that drives its
 * rounds, the {@link ClusterTransport} that carries its messages, and optional multicast discovery.
 */
@ApplicationScoped
public class ClusterService {
    private static final Logger LOG = Logger.getLogger(ClusterService.class);
    /**
     * Rounds between "still waiting for seeds" log lines; the first comes only after this many rounds without an
     * answer, so a normal start (a seed answers the first or second round) logs none.
     */
    private static final int WAITING_LOG_EVERY = 10;

    private final NimbusConfig config;
    private final NodeIdentity identity;
    private final Storage storage;
    private final Vertx vertx;
    private final MeterRegistry registry;
    private final int httpPort;
    private final Object lock = new Object();
    private final ReplicaService replicas;
    private final TopologyService topology;
    private final StreamService streams;
    /** The coordinator, for writes other nodes forward here (a provider: the coordinator needs this service). */
    private final jakarta.inject.Provider<io.nimbus.cluster.coordinator.Coordinator> coordinator;
    /** Paxos requests carrying a ballot further ahead of this node's clock never reach the acceptor. */
    private final BallotHorizon ballotHorizon;
    private Gossiper gossiper;
    /** Gossip carrying a generation further ahead of this node's clock is refused (the connection closed). */
    private final GenerationHorizon generationHorizon;
    private Endpoint self;
    private ClusterTransport transport;
    /** This node's guards on its calls to peers (circuit breaker, time-out, bulkhead per peer). */
    private PeerGuards peers;
    private MulticastDiscovery discovery;
    private long timer = -1;
    private long requestTimeoutMs;
    private long rounds;
    private Set<String> lastReachable = new HashSet<>();
    private final java.util.concurrent.atomic.AtomicLong lastRefusalWarnMs = new java.util.concurrent.atomic.AtomicLong(Long.MIN_VALUE / 2);
    private final Set<Endpoint> handshakeWarned = java.util.concurrent.ConcurrentHashMap.newKeySet();

    public ClusterService(NimbusConfig config, NodeIdentity identity, Storage storage, Vertx vertx,
                          MeterRegistry registry, ReplicaService replicas, TopologyService topology, StreamService streams,
                          jakarta.inject.Provider<io.nimbus.cluster.coordinator.Coordinator> coordinator,
                          @ConfigProperty(name = "quarkus.http.port") int httpPort) {
        this.coordinator = coordinator;
        this.replicas = replicas;
        this.topology = topology;
        this.streams = streams;
        this.config = config;
        this.identity = identity;
        this.storage = storage;
        this.vertx = vertx;
        this.registry = registry;
        this.httpPort = httpPort;
        this.ballotHorizon = BallotHorizon.ofMillis(config.paxos().ballotAheadMaxMs());
        this.generationHorizon = new GenerationHorizon(config.gossip().generationAheadMaxMs());
    }

    void onStart(@Observes @Priority(200) StartupEvent event) throws Exception {
        NimbusConfig.Cluster c = config.cluster();
        long intervalMs = config.gossip().interval().toMillis();
        requestTimeoutMs = Math.max(100, intervalMs);
        List<Endpoint> seeds = new ArrayList<>();
        for (String s : c.seeds().orElse(List.of())) {
            try {
                seeds.add(Endpoint.parse(s));
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException("nimbus.cluster.seeds: " + e.getMessage(), e);
            }
        }
        Optional<ClusterTls> tls = ClusterTls.of(c.tls().certFile(), c.tls().keyFile(), c.tls().trustFile());
        String bindHost = c.bindHost().orElse(c.host());
        ClusterPortExposure.check(bindHost, c.secret().filter(s -> !s.isEmpty()).isPresent(), tls.isPresent());
        transport = new ClusterTransport(vertx, new TransportSettings(c.secret(), tls, c.frameBytesMax(),
                c.pendingPerPeerMax(), c.handshakeTimeoutMs(), c.idleTimeoutMs(), c.handshakesMax(),
                c.connectionsPerAddressMax(), c.bindHost(), c.writeBatchBytesMax()), this::handle);
        peers = new PeerGuards(transport::request, peerSettings(requestTimeoutMs), registry);
        int wanted = c.port().orElse(httpPort + 1000);
        int port = transport.listen(bindHost, wanted).toCompletionStage().toCompletableFuture()
                .get(10, TimeUnit.SECONDS);
        long generation = storage.isWorker() ? storage.store().generation() : System.currentTimeMillis();
        self = new Endpoint(c.host(), port);
        GossipSettings settings = new GossipSettings(intervalMs, config.gossip().strategy(),
                config.gossip().failureTimeout().toMillis(), config.gossip().missedAcksMax(),
                config.gossip().statesPerMessageMax(), config.gossip().digestsPerMessageMax(),
                TimeUnit.DAYS.toMillis(365), config.gossip().generationAheadMaxMs(),
                config.gossip().seedBackoffMax().toMillis(), seeds);
        synchronized (lock) {
            gossiper = new Gossiper(identity.id(), generation,
                    new NodeInfo(self, httpPort, config.role(), NodeStatus.JOINING, List.of(),
                            storage.isWorker() ? storage.store().hostId().toString() : "", 0), settings,
                    new SplittableRandom(new SecureRandom().nextLong()));
        }
        if (c.discovery() == NimbusConfig.Discovery.MULTICAST) {
            discovery = new MulticastDiscovery(Endpoint.parse(c.multicastGroup()), c.multicastInterface().orElse(null),
                    identity.id(), self, c.secret().orElse(null), intervalMs, peer -> {
                        synchronized (lock) {
                            gossiper.addSeed(peer);
                        }
                    });
        }
        registerMetrics();
        timer = vertx.setPeriodic(intervalMs, id -> round());
        LOG.infof("node %s (%s, generation %d) gossiping on %s every %d ms, strategy %s, seeds %s", identity.id(),
                config.role().name().toLowerCase(), generation, self, intervalMs,
                config.gossip().strategy().name().toLowerCase().replace('_', '-'), seeds);
        round();
    }

    /**
     * {@code nimbus.peer.*}, checked: the guard's time-out is a ceiling over the calls' own time-outs, so it
     * must not cut one of them short (that would make a slow stream chunk look like a dead peer).
     */
    private PeerGuards.Settings peerSettings(long gossipTimeoutMs) {
        NimbusConfig.Peer p = config.peer();
        long longest = Math.max(Math.max(config.paxos().phaseTimeoutMs() * 4, config.stream().chunkTimeoutMs()),
                gossipTimeoutMs);
        if (config.paxos().forwardWrites()) {
            longest = Math.max(longest, io.nimbus.cluster.coordinator.Coordinator.forwardTimeoutMs(config));
        }
        if (p.timeoutMs() < longest) {
            throw new IllegalArgumentException("nimbus.peer.timeout-ms is " + p.timeoutMs() + " ms, below the longest "
                    + "time-out of a peer call (" + longest + " ms: the largest of nimbus.stream.chunk-timeout-ms, 4 × "
                    + "nimbus.paxos.phase-timeout-ms and, with nimbus.paxos.forward-writes, a forwarded write's "
                    + "nimbus.limits.write-timeout-ms + 2 × nimbus.paxos.phase-timeout-ms); it is a ceiling over them: "
                    + "raise it to at least " + longest);
        }
        int perPeer = p.bulkhead().callsMax() + p.bulkhead().queueMax() + p.gossip().callsMax();
        if (perPeer > config.cluster().pendingPerPeerMax()) {
            throw new IllegalArgumentException("nimbus.peer.bulkhead.calls-max + queue-max + nimbus.peer.gossip.calls-max "
                    + "(" + perPeer + ") exceed nimbus.cluster.pending-per-peer-max (" + config.cluster().pendingPerPeerMax()
                    + "): the bulkhead must refuse (with a clear reason) before the transport's own limit does");
        }
        return new PeerGuards.Settings(p.timeoutMs(), p.breaker().failureRatio(), p.breaker().requestVolume(),
                p.breaker().delayMs(), p.bulkhead().callsMax(), p.bulkhead().queueMax(), p.gossip().callsMax(),
                gossipTimeoutMs);
    }

    void onStop(@Observes @Priority(100) ShutdownEvent event) {
        if (timer >= 0) {
            vertx.cancelTimer(timer);
        }
        if (discovery != null) {
            discovery.close();
        }
        if (peers != null) {
            peers.close();
        }
        if (transport != null) {
            transport.close();
        }
    }

    private void registerMetrics() {
        FunctionCounter.builder("nimbus.gossip.bytes.sent", transport, t -> t.stats().bytesSent())
                .description("bytes sent on the cluster port").register(registry);
        FunctionCounter.builder("nimbus.gossip.bytes.received", transport, t -> t.stats().bytesReceived())
                .description("bytes received on the cluster port").register(registry);
        FunctionCounter.builder("nimbus.cluster.frames.sent", transport, t -> t.stats().framesSent())
                .description("frames sent on the cluster port").register(registry);
        FunctionCounter.builder("nimbus.cluster.socket.writes", transport, t -> t.stats().socketWrites())
                .description("writes to cluster port sockets: frames sent together share one "
                        + "(nimbus.cluster.write-batch-bytes-max)").register(registry);
        FunctionCounter.builder("nimbus.cluster.connections.rejected", transport, t -> t.stats().connectionsRejected())
                .description("peer connections refused by the handshake (proof, certificate, protocol version)")
                .register(registry);
        FunctionCounter.builder("nimbus.cluster.connections.refused", transport, t -> t.stats().connectionsRefused())
                .description("accepted connections closed at once by handshakes-max or connections-per-address-max")
                .register(registry);
        FunctionCounter.builder("nimbus.cluster.handshake.timeouts", transport, t -> t.stats().handshakeTimeouts())
                .description("accepted connections closed for not authenticating within handshake-timeout-ms")
                .register(registry);
        FunctionCounter.builder("nimbus.cluster.connections.idle.closed", transport, t -> t.stats().idleClosed())
                .description("cluster connections closed for being idle").register(registry);
        FunctionCounter.builder("nimbus.cluster.frames.malformed", transport, t -> t.stats().malformedFrames())
                .description("frames refused as malformed, oversized, out of turn or failing their MAC")
                .register(registry);
        FunctionCounter.builder("nimbus.cluster.frames.bad.mac", transport, t -> t.stats().badMacs())
                .description("frames whose MAC did not check out (connection closed)").register(registry);
        Gauge.builder("nimbus.cluster.members.reachable", this, s -> s.members().stream().filter(Member::reachable).count())
                .description("members this node considers reachable, itself included").register(registry);
    }

    private void round() {
        long now = System.currentTimeMillis();
        List<Outbound> out;
        List<Member> members;
        List<Endpoint> seeds;
        synchronized (lock) {
            out = gossiper.tick(now);
            announceLocked();
            if (!gossiper.joined() && rounds > 0 && rounds % WAITING_LOG_EVERY == 0) {
                LOG.warnf("no seed has answered in %d gossip rounds (trying %s); not ready until one does. If the seeds "
                        + "are up, check that nimbus.cluster.secret matches theirs", rounds, gossiper.seeds());
            }
            logReachabilityChanges(now);
            members = gossiper.members(now);
            seeds = gossiper.seeds();
        }
        rounds++;
        retainPeerGuards(members, seeds);
        for (Outbound o : out) {
            spread(o);
        }
        topology.onGossip(members);
    }

    /** Keeps the guards of members that have not left, and of seeds; drops the rest (and their meters). */
    private void retainPeerGuards(List<Member> members, List<Endpoint> seeds) {
        Set<Endpoint> keep = new HashSet<>(seeds);
        for (Member m : members) {
            if (!m.self() && m.info().status() != NodeStatus.LEFT) {
                keep.add(m.info().endpoint());
            }
        }
        peers.retain(keep);
    }

    /** Announces the topology epoch this node holds (and, once a member, its tokens and NORMAL status) by gossip. */
    public void announceTopology() {
        synchronized (lock) {
            if (gossiper != null) {
                announceLocked();
            }
        }
    }

    private void announceLocked() {
        NodeInfo info = gossiper.self().info();
        io.nimbus.core.topology.Topology t = topology.current();
        long epoch = t == null ? 0 : t.epoch();
        List<Long> tokens = t == null ? List.of() : t.worker(identity.id())
                .filter(w -> info.hostId().equals(w.host().toString())).map(io.nimbus.core.topology.Worker::tokens)
                .orElse(List.of());
        boolean member = storage.isWorker() ? !tokens.isEmpty() : t != null;
        NodeStatus status = member ? NodeStatus.NORMAL : NodeStatus.JOINING;
        if (info.topologyEpoch() != epoch || !info.tokens().equals(tokens) || info.status() != status) {
            gossiper.updateSelf(info.withTopology(info.hostId(), epoch).withTokens(tokens).withStatus(status));
            if (status != info.status()) {
                LOG.infof("%s: %d member(s) known, topology epoch %d", status == NodeStatus.NORMAL ? "joined" : "not a member",
                        gossiper.size(), epoch);
            }
        }
    }

    private void logReachabilityChanges(long now) {
        Set<String> reachable = new HashSet<>();
        for (Member m : gossiper.members(now)) {
            if (m.reachable() && !m.self()) {
                reachable.add(m.id());
            }
        }
        for (String id : reachable) {
            if (!lastReachable.contains(id)) {
                LOG.infof("peer %s is reachable", id);
            }
        }
        for (String id : lastReachable) {
            if (!reachable.contains(id)) {
                LOG.warnf("peer %s is unreachable", id);
            }
        }
        lastReachable = reachable;
    }

    private void spread(Outbound o) {
        ClusterTransport.Message syn = new ClusterTransport.Message(GossipCodec.SYN, GossipCodec.encode(o.syn()));
        peers.request(PeerGuards.Kind.GOSSIP, o.endpoint(), syn, requestTimeoutMs).whenComplete((reply, failure) -> {
            if (failure != null) {
                String why = String.valueOf(failure.getMessage());
                if (why.contains("during the handshake") && handshakeWarned.add(o.endpoint())) {
                    LOG.warn(why);
                } else {
                    LOG.debugf("no answer from %s: %s", o.endpoint(), why);
                }
                synchronized (lock) {
                    gossiper.onNoAnswer(o.peerId());
                }
                return;
            }
            if (reply.type() != GossipCodec.ACK) {
                LOG.warnf("peer %s answered a spread with message type %d", o.endpoint(), reply.type());
                return;
            }
            GossipMessage.Ack2 ack2;
            long now = System.currentTimeMillis();
            GossipMessage.Ack ack;
            try {
                ack = (GossipMessage.Ack) GossipCodec.decode(reply.type(), reply.body(), generationHorizon, now);
            } catch (MalformedMessageException e) {
                warnRefused(e); // as good as no answer
                synchronized (lock) {
                    gossiper.onNoAnswer(o.peerId());
                }
                return;
            }
            synchronized (lock) {
                ack2 = gossiper.onAck(ack, now);
            }
            if (ack2 != null) {
                peers.request(PeerGuards.Kind.GOSSIP, o.endpoint(),
                        new ClusterTransport.Message(GossipCodec.ACK2, GossipCodec.encode(ack2)), requestTimeoutMs)
                        .whenComplete((x, e) -> {
                            if (e != null) {
                                LOG.debugf("ack2 to %s: %s", o.endpoint(), e.getMessage());
                            }
                        });
            }
        });
    }

    private Future<ClusterTransport.Message> handle(ClusterTransport.Message request) {
        if (request.type() == PaxosCodec.BUNDLE) {
            return bundle(request);
        }
        if (PaxosCodec.isPaxos(request.type())) {
            PaxosCodec.Addressed a;
            try {
                a = PaxosCodec.decodeRequest(request.type(), request.body(), ballotHorizon,
                        TimeUnit.MILLISECONDS.toMicros(System.currentTimeMillis()));
            } catch (MalformedMessageException e) {
                warnRefused(e);
                throw e;
            }
            return Future.fromCompletionStage(replicas.handle(a).thenApply(answer ->
                    new ClusterTransport.Message(PaxosCodec.type(answer.reply()), PaxosCodec.encode(answer))));
        }
        if (TopologyService.isTopology(request.type())) {
            return topology.handle(request);
        }
        if (StreamService.isStream(request.type())) {
            return streams.handle(request);
        }
        if (io.nimbus.cluster.coordinator.Coordinator.isForwarded(request.type())) {
            try {
                return Future.fromCompletionStage(coordinator.get().forwarded(request));
            } catch (MalformedMessageException e) {
                warnRefused(e);
                throw e;
            }
        }
        long now = System.currentTimeMillis();
        GossipMessage m;
        try {
            m = GossipCodec.decode(request.type(), request.body(), generationHorizon, now);
        } catch (MalformedMessageException e) {
            warnRefused(e);
            throw e;
        }
        synchronized (lock) {
            if (m instanceof GossipMessage.Syn syn) {
                GossipMessage.Ack ack = gossiper.onSyn(syn, now);
                return Future.succeededFuture(new ClusterTransport.Message(GossipCodec.ACK, GossipCodec.encode(ack)));
            }
            if (m instanceof GossipMessage.Ack2 ack2) {
                gossiper.onAck2(ack2, now);
                return Future.succeededFuture(ClusterTransport.Message.EMPTY);
            }
        }
        throw new MalformedMessageException("a peer sent an unsolicited message of type " + request.type());
    }

    /**
     * Commits a coordinator owed this replica, then the request they came with (if any): each goes to the
     * replica in the frame's order, so a commit is in the store's queue before the request behind it (a
     * prepare for the same key then finds it committed). The answer is the request's; without one, the last
     * commit's, once all are durable. A commit's own outcome is not reported back: the coordinator did not
     * wait for it (a fence refusal, or a store failure, which the store reports itself, only means this
     * replica did not learn it). While the store's queue is half full the commits are dropped
     * ({@link ReplicaService#learn}); a read at ONE is answered at once and may not see the commits ahead of it.
     */
    private Future<ClusterTransport.Message> bundle(ClusterTransport.Message request) {
        PaxosCodec.Bundle b;
        try {
            b = PaxosCodec.decodeBundle(request.body(), ballotHorizon,
                    TimeUnit.MILLISECONDS.toMicros(System.currentTimeMillis()));
        } catch (MalformedMessageException e) {
            warnRefused(e);
            throw e;
        }
        List<CompletableFuture<PaxosCodec.Answer>> commits = replicas.learn(b.commits());
        if (commits == null) {
            LOG.debugf("dropped %d bundled commits: the store's write queue is at least half full", b.commits().size());
            commits = List.of();
        }
        for (int i = 0; i < commits.size(); i++) {
            String key = b.commits().get(i).request().key();
            commits.get(i).whenComplete((a, err) -> {
                if (err != null) {
                    LOG.debugf("a bundled commit of %s was not applied: %s", key, err.getMessage());
                }
            });
        }
        CompletableFuture<PaxosCodec.Answer> answer;
        if (b.main() != null) {
            answer = replicas.handle(b.main());
        } else if (b.commits().isEmpty()) {
            throw new MalformedMessageException("an empty bundle");
        } else if (commits.isEmpty()) {
            answer = CompletableFuture.failedFuture(new IllegalStateException("this replica's store is busy: it "
                    + "dropped " + b.commits().size() + " commits nobody waited for"));
        } else {
            List<CompletableFuture<PaxosCodec.Answer>> all = commits;
            answer = CompletableFuture.allOf(all.toArray(CompletableFuture[]::new))
                    .thenCompose(x -> all.get(all.size() - 1));
        }
        return Future.fromCompletionStage(answer.thenApply(a ->
                new ClusterTransport.Message(PaxosCodec.type(a.reply()), PaxosCodec.encode(a))));
    }

    /**
     * A peer's message was refused as malformed (a request: the transport closes its connection; an answer:
     * counted as none). Refusals by the
     * ballot or generation horizon mean a forgery or a clock far off: say so, at most every 10 s.
     */
    private void warnRefused(MalformedMessageException e) {
        long now = System.currentTimeMillis();
        long last = lastRefusalWarnMs.get();
        if (now - last >= 10_000 && lastRefusalWarnMs.compareAndSet(last, now)) {
            LOG.warnf("refused a peer's message and closed its connection: %s", e.getMessage());
        } else {
            LOG.debugf("refused a peer's message: %s", e.getMessage());
        }
    }

    /** This node's cluster address (known once the cluster port is bound). */
    public Endpoint selfEndpoint() {
        return self;
    }

    /** This node's view of the cluster. */
    public List<Member> members() {
        synchronized (lock) {
            return gossiper == null ? List.of() : gossiper.members(System.currentTimeMillis());
        }
    }

    public boolean joined() {
        synchronized (lock) {
            return gossiper != null && gossiper.joined();
        }
    }

    public String selfId() {
        return identity.id();
    }

    public ClusterTransport transport() {
        return transport;
    }

    /** The guarded way to call a peer (every peer call but the replies of the transport itself goes through it). */
    public PeerGuards peers() {
        return peers;
    }
}
