package io.nimbus.cluster;

import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.nimbus.config.NimbusConfig;
import io.nimbus.core.gossip.Endpoint;
import io.nimbus.core.gossip.GossipMessage;
import io.nimbus.core.gossip.GossipSettings;
import io.nimbus.core.gossip.Gossiper;
import io.nimbus.core.gossip.Member;
import io.nimbus.core.gossip.NodeInfo;
import io.nimbus.core.gossip.NodeStatus;
import io.nimbus.core.gossip.NodeRole;
import io.nimbus.core.gossip.Outbound;
import io.nimbus.core.paxos.PaxosMessage;
import io.nimbus.core.ring.Murmur3;
import io.nimbus.core.ring.TokenAllocator;
import io.nimbus.core.ring.TokenRing;
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

import java.nio.charset.StandardCharsets;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;

/**
 * The gossip shell: owns the {@link Gossiper} core (behind one lock), the timer that drives its
 * rounds, the {@link ClusterTransport} that carries its messages, and optional multicast discovery.
 */
@ApplicationScoped
public class ClusterService {
    private static final Logger LOG = Logger.getLogger(ClusterService.class);
    /** Rounds between "still waiting for seeds" log lines. */
    private static final int WAITING_LOG_EVERY = 10;
    /** Gossip rounds a new worker listens after joining before it chooses its ring tokens. */
    private static final int JOIN_SETTLE_ROUNDS = 3;

    private final NimbusConfig config;
    private final NodeIdentity identity;
    private final Storage storage;
    private final Vertx vertx;
    private final MeterRegistry registry;
    private final int httpPort;
    private final Object lock = new Object();
    private final ReplicaService replicas;
    private Gossiper gossiper;
    private ClusterTransport transport;
    private MulticastDiscovery discovery;
    private long timer = -1;
    private long requestTimeoutMs;
    private long rounds;
    private long joinedAtRound = -1;
    private Set<String> lastReachable = new HashSet<>();
    private Map<String, List<Long>> ringTokens;
    private TokenRing ring;
    private final Set<Endpoint> handshakeWarned = java.util.concurrent.ConcurrentHashMap.newKeySet();

    public ClusterService(NimbusConfig config, NodeIdentity identity, Storage storage, Vertx vertx,
                          MeterRegistry registry, ReplicaService replicas,
                          @ConfigProperty(name = "quarkus.http.port") int httpPort) {
        this.replicas = replicas;
        this.config = config;
        this.identity = identity;
        this.storage = storage;
        this.vertx = vertx;
        this.registry = registry;
        this.httpPort = httpPort;
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
        transport = new ClusterTransport(vertx, c.secret().orElse(null), c.frameBytesMax(), c.pendingPerPeerMax(),
                this::handle, c.bindHost().orElse(null));
        int wanted = c.port().orElse(httpPort + 1000);
        int port = transport.listen(c.bindHost().orElse(c.host()), wanted).toCompletionStage().toCompletableFuture()
                .get(10, TimeUnit.SECONDS);
        long generation = storage.isWorker() ? storage.store().generation() : System.currentTimeMillis();
        Endpoint self = new Endpoint(c.host(), port);
        GossipSettings settings = new GossipSettings(intervalMs, config.gossip().strategy(),
                config.gossip().failureTimeout().toMillis(), config.gossip().missedAcksMax(),
                config.gossip().statesPerMessageMax(), config.gossip().digestsPerMessageMax(),
                TimeUnit.DAYS.toMillis(365), config.gossip().seedBackoffMax().toMillis(), seeds);
        synchronized (lock) {
            gossiper = new Gossiper(identity.id(), generation,
                    new NodeInfo(self, httpPort, config.role(), NodeStatus.JOINING,
                            storage.isWorker() ? storage.store().tokens() : List.of()), settings,
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

    void onStop(@Observes @Priority(100) ShutdownEvent event) {
        if (timer >= 0) {
            vertx.cancelTimer(timer);
        }
        if (discovery != null) {
            discovery.close();
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
        FunctionCounter.builder("nimbus.cluster.connections.rejected", transport, t -> t.stats().connectionsRejected())
                .description("peer connections refused by the handshake").register(registry);
        Gauge.builder("nimbus.cluster.members.reachable", this, s -> s.members().stream().filter(Member::reachable).count())
                .description("members this node considers reachable, itself included").register(registry);
    }

    private void round() {
        long now = System.currentTimeMillis();
        List<Outbound> out;
        synchronized (lock) {
            out = gossiper.tick(now);
            if (gossiper.joined() && joinedAtRound < 0) {
                joinedAtRound = rounds;
            }
            if (gossiper.joined() && gossiper.self().info().status() == NodeStatus.JOINING && mayChooseTokens(now)) {
                NodeInfo info = gossiper.self().info().withStatus(NodeStatus.NORMAL);
                if (storage.isWorker() && info.tokens().isEmpty()) {
                    List<Long> tokens = TokenAllocator.allocate(ringLocked(now), identity.id(), config.ring().tokens(),
                            Murmur3.hash64(identity.id().getBytes(StandardCharsets.UTF_8)));
                    storage.store().saveTokens(tokens);
                    info = info.withTokens(tokens);
                    LOG.infof("chose %d ring tokens", tokens.size());
                }
                gossiper.updateSelf(info);
                LOG.infof("joined: %d member(s) known", gossiper.size());
            } else if (!gossiper.joined() && rounds % WAITING_LOG_EVERY == 0) {
                LOG.warnf("no seed has answered yet (trying %s); not ready until one does. If the seeds are up, "
                        + "check that nimbus.cluster.secret matches theirs", gossiper.seeds());
            }
            logReachabilityChanges(now);
        }
        rounds++;
        for (Outbound o : out) {
            spread(o);
        }
    }

    /**
     * A new worker chooses its tokens only once it has heard the cluster for a few rounds and no
     * other reachable worker with a smaller id is still choosing: two workers that choose at the same
     * time from the same ring would split the same ranges (and could pick the same tokens), so
     * concurrent joins are serialized by id. Members that already have tokens (restarts, proxies)
     * never wait.
     */
    private boolean mayChooseTokens(long now) {
        if (!storage.isWorker() || !gossiper.self().info().tokens().isEmpty() || gossiper.seeds().isEmpty()) {
            return true;
        }
        if (rounds - joinedAtRound < JOIN_SETTLE_ROUNDS) {
            return false;
        }
        for (Member m : gossiper.members(now)) {
            if (!m.self() && m.reachable() && m.info().role() == NodeRole.WORKER && m.info().status() == NodeStatus.JOINING
                    && m.info().tokens().isEmpty() && m.id().compareTo(identity.id()) < 0) {
                if (rounds % WAITING_LOG_EVERY == 0) {
                    LOG.infof("waiting for %s to choose its ring tokens before choosing ours", m.id());
                }
                return false;
            }
        }
        return true;
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
        transport.request(o.endpoint(), syn, requestTimeoutMs).onComplete(ar -> {
            if (ar.failed()) {
                String why = String.valueOf(ar.cause().getMessage());
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
            ClusterTransport.Message reply = ar.result();
            if (reply.type() != GossipCodec.ACK) {
                LOG.warnf("peer %s answered a spread with message type %d", o.endpoint(), reply.type());
                return;
            }
            GossipMessage.Ack2 ack2;
            synchronized (lock) {
                ack2 = gossiper.onAck((GossipMessage.Ack) GossipCodec.decode(reply.type(), reply.body()),
                        System.currentTimeMillis());
            }
            if (ack2 != null) {
                transport.request(o.endpoint(), new ClusterTransport.Message(GossipCodec.ACK2, GossipCodec.encode(ack2)),
                        requestTimeoutMs).onFailure(e -> LOG.debugf("ack2 to %s: %s", o.endpoint(), e.getMessage()));
            }
        });
    }

    private Future<ClusterTransport.Message> handle(ClusterTransport.Message request) {
        if (PaxosCodec.isPaxos(request.type())) {
            if (!(PaxosCodec.decode(request.type(), request.body()) instanceof PaxosMessage.Request r)) {
                throw new MalformedMessageException("a peer sent a Paxos reply as a request");
            }
            return Future.fromCompletionStage(replicas.handle(r)
                    .thenApply(reply -> new ClusterTransport.Message(PaxosCodec.type(reply), PaxosCodec.encode(reply))));
        }
        GossipMessage m = GossipCodec.decode(request.type(), request.body());
        long now = System.currentTimeMillis();
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
     * The ring as this node sees it: workers that are not LEFT and have chosen tokens. The epoch
     * counts the changes of that token map this node has seen.
     */
    public TokenRing ring() {
        synchronized (lock) {
            return gossiper == null ? TokenRing.of(0, Map.of()) : ringLocked(System.currentTimeMillis());
        }
    }

    private TokenRing ringLocked(long now) {
        Map<String, List<Long>> tokens = new TreeMap<>();
        for (Member m : gossiper.members(now)) {
            if (m.info().role() == NodeRole.WORKER && m.info().status() != NodeStatus.LEFT && !m.info().tokens().isEmpty()) {
                tokens.put(m.id(), m.info().tokens());
            }
        }
        if (!tokens.equals(ringTokens)) {
            ringTokens = tokens;
            ring = TokenRing.of(ring == null ? 1 : ring.epoch() + 1, tokens);
        }
        return ring;
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
}
