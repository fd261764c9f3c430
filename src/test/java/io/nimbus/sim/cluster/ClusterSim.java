package io.nimbus.sim.cluster;

import io.nimbus.core.coordinator.Coordination;
import io.nimbus.core.coordinator.KeyQueue;
import io.nimbus.core.coordinator.Result;
import io.nimbus.core.coordinator.RetryPolicy;
import io.nimbus.core.coordinator.Routing;
import io.nimbus.core.gossip.Endpoint;
import io.nimbus.core.gossip.GossipMessage;
import io.nimbus.core.gossip.GossipSettings;
import io.nimbus.core.gossip.Gossiper;
import io.nimbus.core.gossip.Member;
import io.nimbus.core.gossip.NodeInfo;
import io.nimbus.core.gossip.NodeRole;
import io.nimbus.core.gossip.NodeStatus;
import io.nimbus.core.gossip.Outbound;
import io.nimbus.core.kv.Ballot;
import io.nimbus.core.kv.BallotClock;
import io.nimbus.core.kv.ConsistencyLevel;
import io.nimbus.core.kv.KeyState;
import io.nimbus.core.kv.Mutation;
import io.nimbus.core.kv.Precondition;
import io.nimbus.core.kv.Proposal;
import io.nimbus.core.paxos.PaxosMessage;
import io.nimbus.core.paxos.Proposer;
import io.nimbus.core.paxos.Quorum;
import io.nimbus.core.ring.Murmur3;
import io.nimbus.core.topology.Barrier;
import io.nimbus.core.topology.FencedAcceptor;
import io.nimbus.core.topology.Fence;
import io.nimbus.core.topology.HostId;
import io.nimbus.core.topology.Reachability;
import io.nimbus.core.topology.Replica;
import io.nimbus.core.topology.Topology;
import io.nimbus.core.topology.TopologyChangeRefused;
import io.nimbus.core.topology.Worker;
import io.nimbus.lin.History;
import io.nimbus.lin.LinearizabilityChecker;
import io.nimbus.lin.Observed;
import io.nimbus.lin.Op;
import io.nimbus.lin.Output;
import io.nimbus.sim.EventQueue;
import io.nimbus.sim.ClientOp;
import io.nimbus.sim.Trace;
import io.nimbus.storage.TopologyCodec;

import java.nio.charset.StandardCharsets;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.UUID;
import java.util.function.Consumer;
import java.util.function.Function;

/**
 * Gossip, the topology register, Paxos and ONE run together on the real policy classes over one
 * seeded, faulty network (TOPOLOGY.md §10, step 4): a real {@link Gossiper} per node; workers that
 * found or join the cluster through the register's compare-and-set flow (QUORUM read on the electorate,
 * barrier of what was read, pure transformation, If-Match write, learn, barrier pushes) and move its
 * electorate from the founder to three members in one joint step (as {@code TopologyService}; the variant
 * {@link Variant#SHELL_AS_IS} keeps the older 1→2→3 one-member steps, each a joint step with barriers);
 * a writer queue per worker with a random group-commit delay on which {@link FencedAcceptor}
 * decides each request against the topology held at decision time (installs in queue order, replies
 * after durability); coordinators running the real {@link Routing} and {@link Coordination} per client
 * operation, learning topologies through lossy, delayed dissemination (so they hold different epochs),
 * and crashing and restarting (losing everything not durable, and their gossip view).
 *
 * <p><b>Step-4 scope</b> (joins place the newcomer at once, without streaming): joins happen before
 * any client data; the client load starts when every worker is in the committed topology and every
 * join's barrier passed. During the load, topology changes are the electorate steps still running, and
 * coordinators on older epochs (the proxy, restarted workers, nodes the pushes missed) keep sending
 * requests under them, which the fence must turn away.
 *
 * <p>Checks per event: epoch uniqueness, the fence (no Prepare/Propose decided below the key's
 * {@code changedAt} in the deciding replica's own topology), host identity, the barrier (when an
 * epoch is committed, the workers holding the one before it block its retired quorums), the register's
 * electorate never above {@link Topology#ELECTORATE_SIZE}, and PaxosSafety's ghost checks on the data keys.
 * At the end: linearizability of the QUORUM/ALL keys (final QUORUM reads through every node included), no
 * acknowledged write lost, the ONE keys' eventual checks, topology converged everywhere, liveness.
 *
 * <p>The topology shell (TopologyService's learn / refresh / advanceMembership / transform / barrier) is
 * re-enacted here over the simulated network; {@link Variant#CORRECT} is it plus two changes the simulator
 * showed it needs (see {@link Variant#SHELL_AS_IS}, which is main's shell exactly). Simplifications: the
 * ballot clock's high-water mark is durable at once; a proxy's topology is lost at a crash; stores are
 * never wiped.
 */
public final class ClusterSim {

    public enum Check {
        EPOCH_UNIQUENESS, FENCE, HOST_ID, BARRIER, ELECTORATE, PAXOS_SAFETY, LOST_WRITE, LINEARIZABILITY, ONE_KEYS, CONVERGENCE, LIVENESS, EXCEPTION
    }

    /** Counts for the report. */
    public static final class Stats {
        public int workers, proxies, ops, ok, failed, indeterminate, crashes, partitions, joins, electorateSteps, epochs;
        public int invariantBreaches, cappedRoutes, cappedRoutesAlone, fenced, refreshes, staleSends, messages, dropped, oneOps, finalReads;
        public long loadStartMs, endMs;

        @Override
        public String toString() {
            return "workers=" + workers + " proxies=" + proxies + " ops=" + ops + " ok=" + ok + " failed=" + failed
                    + " indeterminate=" + indeterminate + " oneOps=" + oneOps + " crashes=" + crashes
                    + " partitions=" + partitions + " joins=" + joins + " electorateSteps=" + electorateSteps
                    + " epochs=" + epochs + (cappedRoutes > 0 ? " cappedRoutes=" + cappedRoutes + " (alone " + cappedRoutesAlone + ")" : "")
                    + " fenced=" + fenced + " refreshes=" + refreshes + " staleSends=" + staleSends
                    + " messages=" + messages + " dropped=" + dropped + " finalReads=" + finalReads
                    + " loadStart=" + loadStartMs + "ms end=" + endMs + "ms";
        }
    }

    public record Outcome(long seed, Variant variant, Map<Check, String> violations, Stats stats, long traceHash,
                          long traceEntries, long wallMs) {
        public boolean ok() {
            return violations.isEmpty();
        }

        public String replay() {
            return "./mvnw -B -ntp -q test -Dtest='io.nimbus.sim.cluster.ClusterSimReplayTest' "
                    + "-Dsurefire.failIfNoSpecifiedTests=false -Dsim.seed=" + seed + " -Dsim.variant=" + variant
                    + " -Dsim.verbose=true";
        }
    }

    // ---- constants ---------------------------------------------------------------------------------

    static final String REGISTER = "\u0000topology";
    static final int RF = 3;
    static final int TOKENS = 4;
    static final long PHASE_TIMEOUT_MS = 300;
    static final long OP_DEADLINE_MS = 3000;
    static final long GOSSIP_INTERVAL_MS = 100;
    static final long BARRIER_ROUND_MS = 200, BARRIER_GRACE_MS = 2000, BARRIER_TIMEOUT_MS = 60_000;
    static final int CAS_ATTEMPTS_MAX = 10;
    static final long SETUP_MAX_MS = 20_000;
    static final RetryPolicy RETRY = new RetryPolicy(6, 10, 200);

    // ---- the run -----------------------------------------------------------------------------------

    private final long seed;
    private final Variant variant;
    private final boolean verbose = Boolean.getBoolean("sim.verbose");
    private final EventQueue loop = new EventQueue();
    private final Trace trace = new Trace();
    private final Stats stats = new Stats();
    private final Map<Check, String> violations = new LinkedHashMap<>();
    /** Network randomness (loss, delay, duplication). */
    private final SplittableRandom net;
    private final List<Node> nodes = new ArrayList<>();
    private final Map<String, Node> byName = new TreeMap<>();
    private final Map<Endpoint, Node> byEndpoint = new HashMap<>();
    private final List<Client> clients = new ArrayList<>();
    private final List<String> quorumKeys = new ArrayList<>();
    private final List<String> oneKeys = new ArrayList<>();
    private final History history = new History();
    /**
     * PaxosSafety's ghost checks on the QUORUM/ALL data keys (registers monotone, durable, only chosen values
     * committed, no chosen write lost, a restarted or failed attempt never chosen). Their natural replicas do
     * not change once the data exists (joins precede it), so "chosen" = accepted by a majority of RF.
     */
    private final io.nimbus.sim.paxos.PaxosSafety safety = new io.nimbus.sim.paxos.PaxosSafety(
            () -> "t=" + loop.now() + "ms");
    private int nextOpId;
    /** Ghost: the topology committed at each epoch. */
    private final TreeMap<Long, Topology> committed = new TreeMap<>();
    /** Ghost: epochs whose driver reported its barrier passed. */
    private final Set<Long> barrierReported = new HashSet<>();
    /** Ghost: per key, the highest version a client was told was written (QUORUM/ALL and ONE keys). */
    private final Map<String, Ballot> ackedMax = new HashMap<>();
    private final Map<String, Set<String>> oneValues = new HashMap<>();
    private final List<Ballot[]> oneAcked = new ArrayList<>();
    private final List<String> oneAckedKeys = new ArrayList<>();
    private final UUID clusterId;
    private final int rounds;

    // scenario (drawn before anything runs: the same for every variant)
    private final int workerCount;
    private final boolean withProxy;
    private final long[] startAt;
    private final long chaosMs;
    private final double loss, dup;
    private final List<long[]> crashPlan = new ArrayList<>();     // {offset, node, downMs}
    private final List<long[]> partitionPlan = new ArrayList<>(); // {offset, node, lengthMs}
    private final long setupCrashAt, setupCrashDown;
    private final int setupCrashNode;

    // phases
    private boolean faults = true;
    private boolean loadStarted;
    private boolean healed;
    private long healAt = Long.MAX_VALUE;
    private final Set<Integer> isolated = new TreeSet<>();

    ClusterSim(long seed, Variant variant, int rounds) {
        this.seed = seed;
        this.variant = variant;
        this.rounds = rounds;
        SplittableRandom root = new SplittableRandom(seed);
        SplittableRandom scenario = root.split();
        this.net = root.split();
        this.clusterId = new UUID(seed, 0x5EEDL);
        workerCount = 3 + scenario.nextInt(3);
        withProxy = scenario.nextInt(2) == 0;
        int nodeCount = workerCount + (withProxy ? 1 : 0);
        startAt = new long[nodeCount];
        for (int i = 1; i < nodeCount; i++) {
            startAt[i] = 20 + scenario.nextInt(1500);
        }
        chaosMs = 1500 + scenario.nextInt(1500);
        loss = 0.01 + scenario.nextDouble() * 0.04;
        dup = scenario.nextDouble() * 0.04;
        int crashes = scenario.nextInt(4);
        for (int i = 0; i < crashes; i++) {
            crashPlan.add(new long[]{scenario.nextLong(chaosMs), scenario.nextInt(nodeCount), 50 + scenario.nextInt(900)});
        }
        int parts = scenario.nextInt(3);
        for (int i = 0; i < parts; i++) {
            partitionPlan.add(new long[]{scenario.nextLong(chaosMs), scenario.nextInt(nodeCount), 100 + scenario.nextInt(900)});
        }
        boolean setupCrash = scenario.nextInt(2) == 0;
        setupCrashNode = setupCrash ? 1 + scenario.nextInt(workerCount - 1) : -1;
        setupCrashAt = 50 + scenario.nextInt(2500);
        // down long enough, sometimes, to miss the last joins and come back during the load with an old epoch
        setupCrashDown = 100 + scenario.nextInt(4000);
        for (int i = 0; i < nodeCount; i++) {
            Node n = new Node(i, i < workerCount, root.split());
            nodes.add(n);
            byName.put(n.name, n);
            byEndpoint.put(n.endpoint, n);
        }
        int keyCount = 6;
        boolean oneMode = scenario.nextInt(3) == 0;
        for (int k = 0; k < keyCount; k++) {
            String key = "key-" + k;
            (oneMode && k == keyCount - 1 ? oneKeys : quorumKeys).add(key);
        }
        for (String key : quorumKeys) {
            safety.key(key, RF);
        }
        int clientCount = 3 + scenario.nextInt(2);
        for (int c = 0; c < clientCount; c++) {
            clients.add(new Client("c" + c, c % nodeCount, root.split()));
        }
        stats.workers = workerCount;
        stats.proxies = withProxy ? 1 : 0;
    }

    public static Outcome run(long seed, Variant variant) {
        return run(seed, variant, Integer.getInteger("sim.cluster.ops", 12));
    }

    public static Outcome run(long seed, Variant variant, int opsPerClient) {
        long wall = System.nanoTime();
        ClusterSim sim = new ClusterSim(seed, variant, opsPerClient);
        try {
            sim.execute();
        } catch (RuntimeException e) {
            java.io.StringWriter w = new java.io.StringWriter();
            e.printStackTrace(new java.io.PrintWriter(w));
            sim.violation(Check.EXCEPTION, "t=" + sim.loop.now() + "ms: " + w);
        }
        sim.safety.violations().forEach((c, m) -> sim.violation(Check.PAXOS_SAFETY, c + " " + m));
        sim.stats.endMs = sim.loop.now();
        return new Outcome(seed, variant, Map.copyOf(sim.violations), sim.stats, sim.trace.hash(), sim.trace.entries(),
                (System.nanoTime() - wall) / 1_000_000);
    }

    /** {@code -Dsim.cluster.invariants=false}: per-event invariants are counted, not failed, to see what their breach leads to. */
    private static final boolean INVARIANTS = !"false".equals(System.getProperty("sim.cluster.invariants"));
    private static final Set<Check> PER_EVENT = Set.of(Check.EPOCH_UNIQUENESS, Check.FENCE, Check.HOST_ID, Check.BARRIER,
            Check.ELECTORATE, Check.PAXOS_SAFETY);

    private void violation(Check c, String message) {
        if (!INVARIANTS && PER_EVENT.contains(c)) {
            stats.invariantBreaches++;
            return;
        }
        violations.putIfAbsent(c, message);
        narrate("VIOLATION " + c + ": " + message);
    }

    private void narrate(String s) {
        if (verbose) {
            System.out.println("[" + loop.now() + "ms] " + s);
        }
    }

    private void execute() {
        Node founder = nodes.get(0);
        founder.bootstrap();
        for (Node n : nodes) {
            loop.at(startAt[n.index], () -> n.start(true));
        }
        if (setupCrashNode >= 0) {
            loop.at(startAt[setupCrashNode] + setupCrashAt, () -> crash(nodes.get(setupCrashNode), setupCrashDown));
        }
        // setup: until every worker joined and every join's barrier passed
        while (!loadStarted && loop.now() < SETUP_MAX_MS) {
            long until = loop.now() + 50;
            runUntil(until);
            if (allJoined()) {
                startLoad();
            }
        }
        if (!loadStarted) {
            violation(Check.LIVENESS, "the joins did not finish in " + SETUP_MAX_MS + "ms: committed " + committed.lastEntry());
            return;
        }
        long loadStart = loop.now();
        runUntil(loadStart + chaosMs);
        heal();
        long bound = loop.now() + 15_000;
        while (loop.now() < bound && !(clientsIdle() && converged())) {
            runUntil(loop.now() + 50);
        }
        if (!clientsIdle()) {
            List<String> busy = new ArrayList<>();
            for (Client c : clients) {
                if (c.busy) {
                    busy.add(c.name + ": " + c.what);
                }
            }
            violation(Check.LIVENESS, "clients still busy 15s after healing: " + busy);
            return;
        }
        if (!converged()) {
            violation(Check.CONVERGENCE, "topology not converged 15s after healing: " + epochs() + ", committed "
                    + committed.lastEntry().getValue());
            return;
        }
        finalReads();
        checkOneKeys();
        var lin = LinearizabilityChecker.check(history);
        if (!lin.isLinearizable()) {
            violation(Check.LINEARIZABILITY, lin.verdict() + ": " + lin.explanation());
        }
    }

    private void runUntil(long t) {
        while (!loop.isEmpty() && loop.nextTime() <= t) {
            loop.runNext();
        }
        if (loop.now() < t) {
            loop.at(t, () -> {
            });
            loop.runNext();
        }
    }

    private boolean allJoined() {
        if (committed.isEmpty()) {
            return false;
        }
        Topology last = committed.lastEntry().getValue();
        if (last.workers().size() < workerCount) {
            return false;
        }
        // every epoch that moved ranges: its driver saw its barrier pass, or the ghost sees it passed now
        for (Map.Entry<Long, Topology> e : committed.entrySet()) {
            Topology prev = committed.get(e.getKey() - 1);
            if (prev == null || prev.workers().size() == e.getValue().workers().size()) {
                continue;
            }
            if (!barrierReported.contains(e.getKey()) && !Barrier.passed(prev, e.getValue(), holders(e.getKey()))) {
                return false;
            }
        }
        return true;
    }

    /** Workers whose durable topology is at least {@code epoch}. */
    private Set<String> holders(long epoch) {
        Set<String> out = new TreeSet<>();
        for (Node n : nodes) {
            if (n.worker && n.store.topology != null && n.store.topology.epoch() >= epoch) {
                out.add(n.name);
            }
        }
        return out;
    }

    private void startLoad() {
        loadStarted = true;
        stats.loadStartMs = loop.now();
        narrate("load starts; committed " + committed.lastEntry().getValue());
        long now = loop.now();
        for (long[] c : crashPlan) {
            Node n = nodes.get((int) c[1]);
            loop.at(now + c[0], () -> crash(n, c[2]));
        }
        for (long[] p : partitionPlan) {
            loop.at(now + p[0], () -> {
                if (!healed && isolated.add((int) p[1])) {
                    stats.partitions++;
                    trace.add("isolate", p[1]);
                    narrate("isolate " + nodes.get((int) p[1]).name);
                    loop.after(p[2], () -> isolated.remove((int) p[1]));
                }
            });
        }
        for (Client c : clients) {
            loop.after(c.random.nextInt(20), c::next);
        }
    }

    private void heal() {
        healed = true;
        faults = false;
        healAt = loop.now();
        isolated.clear();
        for (Node n : nodes) {
            if (!n.up) {
                n.start(false);
            }
        }
        narrate("healed");
    }

    private boolean clientsIdle() {
        for (Client c : clients) {
            if (c.busy) {
                return false;
            }
        }
        return true;
    }

    private boolean converged() {
        Topology last = committed.lastEntry().getValue();
        if (last.electorate().isJoint() || (variant == Variant.SHELL_AS_IS
                ? last.electorateCandidate().isPresent() : last.electorateTarget(r -> true).isPresent())) {
            return false;
        }
        for (Node n : nodes) {
            if (!n.up || n.topology() == null || n.topology().epoch() != last.epoch() || n.driving) {
                return false;
            }
            if (!n.down.isEmpty()) {
                return false; // what the node routes with (as of its last gossip round)
            }
            for (Node o : nodes) {
                if (o != n && !n.gossiper.isReachable(o.name, loop.now())) {
                    return false;
                }
            }
        }
        return true;
    }

    private String epochs() {
        StringBuilder b = new StringBuilder();
        for (Node n : nodes) {
            b.append(n.name).append('=').append(n.topology() == null ? 0 : n.topology().epoch()).append(n.up ? "" : "(down)")
                    .append(' ');
        }
        return b.toString().trim();
    }

    private void crash(Node n, long downMs) {
        if (!n.up || healed) {
            return;
        }
        stats.crashes++;
        n.crash();
        loop.after(downMs, () -> {
            if (!n.up) {
                n.start(false);
            }
        });
    }

    // ---- the network -------------------------------------------------------------------------------

    /** One message from {@code from} to {@code to}: lost, delayed, reordered, duplicated as the seed says. */
    private void send(Node from, Node to, String tag, boolean duplicable, Consumer<Node> deliver) {
        stats.messages++;
        if (from == to) {
            loop.after(0, () -> {
                if (to.up) {
                    deliver.accept(to);
                }
            });
            return;
        }
        boolean cut = isolated.contains(from.index) || isolated.contains(to.index);
        if (cut || (faults && net.nextDouble() < loss)) {
            stats.dropped++;
            trace.add("drop " + tag, from.index, to.index);
            return;
        }
        int copies = faults && duplicable && net.nextDouble() < dup ? 2 : 1;
        for (int i = 0; i < copies; i++) {
            long delay = 1 + net.nextInt(10) + (faults && net.nextInt(20) == 0 ? net.nextInt(250) : 0);
            int inc = to.incarnation;
            loop.after(delay, () -> {
                if (!to.up || isolated.contains(to.index) && !isolated.contains(from.index)) {
                    return;
                }
                trace.add(tag, from.index, to.index, inc == to.incarnation ? 0 : 1);
                deliver.accept(to);
            });
        }
    }

    /**
     * A request with a reply: {@code handle} runs at the target and answers through the given callback;
     * {@code onReply} runs at the sender (same incarnation) with the answer, or with null after {@code timeoutMs}.
     */
    private <R> void rpc(Node from, Node to, String tag, boolean duplicable, long timeoutMs,
                         java.util.function.BiConsumer<Node, Consumer<R>> handle, Consumer<R> onReply) {
        long id = from.nextRpc++;
        int inc = from.incarnation;
        from.pending.put(id, onReply);
        loop.after(timeoutMs, () -> {
            if (from.incarnation == inc) {
                @SuppressWarnings("unchecked") Consumer<R> cb = (Consumer<R>) from.pending.remove(id);
                if (cb != null) {
                    cb.accept(null);
                }
            }
        });
        send(from, to, tag, duplicable, target -> handle.accept(target, reply -> send(target, from, tag + "'", true, back -> {
            if (back.incarnation == inc) {
                @SuppressWarnings("unchecked") Consumer<R> cb = (Consumer<R>) back.pending.remove(id);
                if (cb != null) {
                    cb.accept(reply);
                }
            }
        })));
    }

    // ---- the ghost ---------------------------------------------------------------------------------

    private void topologyCommitted(Topology t, String where) {
        Topology before = committed.get(t.epoch());
        if (before != null) {
            if (!before.equals(t)) {
                violation(Check.EPOCH_UNIQUENESS, "epoch " + t.epoch() + " committed as " + before + " and as " + t + " (" + where + ")");
            }
            return;
        }
        committed.put(t.epoch(), t);
        stats.epochs = (int) Math.max(stats.epochs, t.epoch());
        Topology prev = committed.get(t.epoch() - 1);
        if (prev != null) {
            if (t.workers().size() > prev.workers().size()) {
                stats.joins++;
            } else {
                stats.electorateSteps++;
            }
        }
        trace.add("committed", t.epoch(), t.workers().size());
        if (t.electorate().members().size() > Topology.ELECTORATE_SIZE) {
            violation(Check.ELECTORATE, "epoch " + t.epoch() + " grows the register's electorate beyond "
                    + Topology.ELECTORATE_SIZE + ": " + t + " (" + where + ")");
        }
        narrate("COMMITTED " + t + " (" + where + ")");
        // the barrier of the epoch before: its holders must block the quorums it retired
        Topology p1 = committed.get(t.epoch() - 1), p2 = committed.get(t.epoch() - 2);
        if (p1 != null && p2 != null && !Barrier.passed(p2, p1, holders(p1.epoch()))) {
            violation(Check.BARRIER, "epoch " + t.epoch() + " committed while the holders of epoch " + p1.epoch() + " "
                    + holders(p1.epoch()) + " do not block the quorums it retired (" + p2 + " -> " + p1 + ")");
        }
    }

    // ---- nodes -------------------------------------------------------------------------------------

    /** What a worker keeps across a crash. */
    static final class Store {
        final TreeMap<String, KeyState> keys = new TreeMap<>();
        Topology topology;
        /** Every topology this store installed, by epoch (persisted with it). */
        final TreeMap<Long, Topology> installed = new TreeMap<>();
        HostId host;
        BallotClock clock;
    }

    /** A writer-queue task: decided at batch time against the staged state, made durable at commit time. */
    private interface Task {
    }

    private record PaxosTask(long epoch, HostId target, PaxosMessage.Request request, FencedAcceptor.Decision onArrival,
                             Consumer<Object[]> reply) implements Task {
    }

    private record InstallTask(Topology topology, Runnable done) implements Task {
    }

    private record FencePointTask(Runnable done) implements Task {
    }

    final class Node {
        final int index;
        final String name;
        final boolean worker;
        final Endpoint endpoint;
        final SplittableRandom random;
        final Store store = new Store();
        // volatile state (lost at a crash)
        boolean up;
        int incarnation;
        long generation;
        Gossiper gossiper;
        Topology proxyHeld;
        long nextRpc;
        final Map<Long, Consumer<?>> pending = new HashMap<>();
        final Deque<Task> queue = new ArrayDeque<>();
        boolean writing;
        Set<String> down = Set.of();
        final Map<String, Long> peerEpochs = new TreeMap<>();
        boolean fetching;
        boolean driving;
        /** As the real coordinator: requests on one key run one after another on a node, in {@link KeyQueue}'s order. */
        KeyQueue<Flight> keyQueues = new KeyQueue<>(true);
        final List<Flight> flights = new ArrayList<>();

        Node(int index, boolean worker, SplittableRandom random) {
            this.index = index;
            this.worker = worker;
            this.name = (worker ? "w" : "p") + index;
            this.endpoint = new Endpoint("10.0.0." + (index + 1), 7000);
            this.random = random;
            if (worker) {
                store.host = new HostId(new UUID(seed, index + 1));
                store.clock = new BallotClock(name, 0);
            } else {
                store.clock = new BallotClock(name, 0);
            }
        }

        Topology topology() {
            return worker ? store.topology : proxyHeld;
        }

        Replica self() {
            return worker ? new Replica(name, store.host) : null;
        }

        void bootstrap() {
            List<Long> tokens = io.nimbus.core.ring.TokenAllocator.allocate(io.nimbus.core.ring.TokenRing.of(0, Map.of()),
                    name, TOKENS, offset());
            Topology t = Topology.bootstrap(clusterId, RF, new Worker(name, store.host, endpoint, 8080, tokens));
            Ballot b = store.clock.next(1);
            store.keys.put(REGISTER, new KeyState(b, null, new Proposal(b, TopologyCodec.encode(t))));
            store.topology = t;
            store.installed.put(1L, t);
            topologyCommitted(t, "bootstrap");
        }

        long offset() {
            return Murmur3.hash64(name.getBytes(StandardCharsets.UTF_8));
        }

        void start(boolean first) {
            up = true;
            incarnation++;
            generation++;
            NodeInfo info = new NodeInfo(endpoint, 8080, worker ? NodeRole.WORKER : NodeRole.PROXY, NodeStatus.NORMAL,
                    List.of(), worker ? store.host.toString() : "", topology() == null ? 0 : topology().epoch());
            // seeds: the founder only (with two seeds, w1 and w2 starting together can hear from each other first and,
            // having heard from a peer, never contact the founder: an island; see the report)
            List<Endpoint> seeds = index == 0 ? List.of() : List.of(nodes.get(0).endpoint);
            GossipSettings gs = new GossipSettings(GOSSIP_INTERVAL_MS, GossipSettings.Strategy.RANDOM, 1000, 3, 64, 64,
                    1000, 3_600_000, 1000, seeds);
            gossiper = new Gossiper(name, generation, info, gs, random.split());
            trace.add("start", index, incarnation);
            if (worker && !first) {
                safety.restarted(name, store.keys);
            }
            narrate("start " + name + " (incarnation " + incarnation + ", epoch " + (topology() == null ? 0 : topology().epoch()) + ")");
            int inc = incarnation;
            loop.after(random.nextInt((int) GOSSIP_INTERVAL_MS), () -> tick(inc));
        }

        void crash() {
            trace.add("crash", index);
            narrate("CRASH " + name + " (" + flights.size() + " flights, " + queue.size() + " queued)");
            up = false;
            incarnation++;
            gossiper = null;
            proxyHeld = null;
            pending.clear();
            queue.clear();
            writing = false;
            down = Set.of();
            peerEpochs.clear();
            fetching = false;
            driving = false;
            keyQueues = new KeyQueue<>(true);
            List<Flight> lost = new ArrayList<>(flights);
            flights.clear();
            for (Flight f : lost) {
                f.lost();
            }
        }

        // ---- gossip shell ----

        void tick(int inc) {
            if (!up || incarnation != inc) {
                return;
            }
            for (Outbound o : gossiper.tick(loop.now())) {
                Node to = byEndpoint.get(o.endpoint());
                if (to == null) {
                    continue;
                }
                rpcGossip(to, o.syn(), o.peerId());
            }
            onGossip();
            loop.after(GOSSIP_INTERVAL_MS - 10 + random.nextInt(21), () -> tick(inc));
        }

        void rpcGossip(Node to, GossipMessage.Syn syn, String peer) {
            ClusterSim.this.<GossipMessage.Ack>rpc(this, to, "syn", true, PHASE_TIMEOUT_MS,
                    (target, answer) -> answer.accept(target.gossiper.onSyn(syn, loop.now())),
                    ack -> {
                        if (ack == null) {
                            gossiper.onNoAnswer(peer);
                            return;
                        }
                        GossipMessage.Ack2 ack2 = gossiper.onAck(ack, loop.now());
                        if (ack2 != null) {
                            send(this, to, "ack2", true, target -> target.gossiper.onAck2(ack2, loop.now()));
                        }
                    });
        }

        /** TopologyService.onGossip: reachability, announced epochs, fetch a newer one, advance membership. */
        void onGossip() {
            Topology t = topology();
            // the real rules of TopologyService.onGossip
            List<Member> members = gossiper.members(loop.now());
            for (Member m : members) {
                if (!m.self()) {
                    peerEpochs.put(m.id(), m.info().topologyEpoch());
                }
            }
            Set<String> nowDown = Reachability.down(t, members);
            Member announcer = Reachability.newestAnnouncer(members);
            long newest = announcer == null ? 0 : announcer.info().topologyEpoch();
            String newestAt = announcer == null ? null : announcer.id();
            down = Set.copyOf(nowDown);
            if (newest > (t == null ? 0 : t.epoch()) && !fetching) {
                fetching = true;
                narrate(name + " fetches epoch " + newest + " from " + newestAt);
                int inc = incarnation;
                fetch(byName.get(newestAt), x -> {
                    if (incarnation == inc) {
                        fetching = false;
                    }
                });
            }
            if (worker && t != null && !driving) {
                advanceMembership(t);
            }
        }

        void announce() {
            if (up) {
                NodeInfo i = gossiper.self().info();
                long e = topology() == null ? 0 : topology().epoch();
                if (i.topologyEpoch() != e) {
                    gossiper.updateSelf(i.withTopology(i.hostId(), e));
                }
            }
        }

        /** Fetch the topology {@code from} holds and learn it; {@code done} after it is installed (or nothing learned). */
        void fetch(Node from, Consumer<Topology> done) {
            if (from == null || from == this) {
                done.accept(topology());
                return;
            }
            ClusterSim.this.<Topology>rpc(this, from, "fetch", true, PHASE_TIMEOUT_MS,
                    (target, answer) -> answer.accept(target.topology()),
                    t -> {
                        if (t == null) {
                            done.accept(topology());
                        } else {
                            learn(t, done);
                        }
                    });
        }

        /** TopologyService.learn: a worker installs through its writer queue (durable before use); a proxy holds it. */
        void learn(Topology t, Consumer<Topology> done) {
            Topology cur = topology();
            if (!t.clusterId().equals(clusterId)) {
                throw new IllegalStateException("foreign cluster");
            }
            if (cur != null && t.epoch() <= cur.epoch()) {
                done.accept(cur);
                return;
            }
            if (!worker) {
                proxyHeld = t;
                trace.add("install", index, t.epoch());
                announce();
                done.accept(t);
                return;
            }
            enqueue(new InstallTask(t, () -> done.accept(store.topology)));
        }

        /** TopologyService.refresh: learn at least {@code epoch} from a peer that announced it, else from any worker. */
        void refresh(long epoch, Consumer<Topology> done) {
            Topology t = topology();
            if (t != null && t.epoch() >= epoch) {
                done.accept(t);
                return;
            }
            for (Map.Entry<String, Long> e : peerEpochs.entrySet()) {
                if (e.getValue() >= epoch) {
                    fetch(byName.get(e.getKey()), done);
                    return;
                }
            }
            if (t != null) {
                for (Worker w : t.workers()) {
                    if (!w.name().equals(name)) {
                        fetch(byName.get(w.name()), done);
                        return;
                    }
                }
            }
            done.accept(t);
        }

        // ---- the writer ----

        void enqueue(Task t) {
            queue.add(t);
            if (!writing) {
                writing = true;
                int inc = incarnation;
                loop.after(random.nextInt(4), () -> batch(inc));
            }
        }

        /** One group commit: decide every queued task in order against the staged state, then make it durable. */
        void batch(int inc) {
            if (!up || incarnation != inc) {
                return;
            }
            List<Task> tasks = new ArrayList<>(queue);
            queue.clear();
            Topology staged = store.topology;
            Map<String, KeyState> overlay = new TreeMap<>();
            List<Runnable> releases = new ArrayList<>();
            for (Task task : tasks) {
                if (task instanceof InstallTask it) {
                    if (staged == null || it.topology().epoch() > staged.epoch()) {
                        staged = it.topology();
                    }
                    releases.add(it.done());
                } else if (task instanceof FencePointTask fp) {
                    releases.add(fp.done());
                } else {
                    PaxosTask pt = (PaxosTask) task;
                    String key = pt.request().key();
                    KeyState current = overlay.getOrDefault(key, store.keys.getOrDefault(key, KeyState.EMPTY));
                    FencedAcceptor.Decision d = decide(staged, pt, current);
                    boolean tracked = quorumKeys.contains(key);
                    if (d.transition().changed(current)) {
                        overlay.put(key, d.transition().next());
                        if (tracked) {
                            safety.transition(name, key, current, d.transition().next());
                        }
                    }
                    Topology mine = staged;
                    releases.add(() -> {
                        if (tracked) {
                            safety.replied(name, pt.request(), d.transition().reply());
                        }
                        pt.reply().accept(new Object[]{d, mine});
                    });
                }
            }
            Topology finalStaged = staged;
            loop.after(1 + random.nextInt(5), () -> {
                if (!up || incarnation != inc) {
                    return; // lost: nothing of this batch is durable, no reply leaves
                }
                for (Map.Entry<String, KeyState> e : overlay.entrySet()) {
                    KeyState before = store.keys.get(e.getKey());
                    store.keys.put(e.getKey(), e.getValue());
                    if (e.getKey().equals(REGISTER) && e.getValue().committed() != null
                            && (before == null || before.committed() != e.getValue().committed())) {
                        topologyCommitted(TopologyCodec.decode(e.getValue().committed().value()), name);
                    }
                }
                boolean newer = finalStaged != store.topology;
                store.topology = finalStaged;
                if (newer) {
                    store.installed.put(finalStaged.epoch(), finalStaged);
                    trace.add("install", index, finalStaged.epoch());
                    narrate(name + " installs epoch " + finalStaged.epoch());
                    announce();
                }
                for (Runnable r : releases) {
                    r.run();
                }
                if (queue.isEmpty()) {
                    writing = false;
                } else {
                    loop.after(random.nextInt(4), () -> batch(inc));
                }
            });
        }

        /** ReplicaService's decision on the writer thread (or the broken variants' versions of it). */
        FencedAcceptor.Decision decide(Topology mine, PaxosTask pt, KeyState current) {
            PaxosMessage.Request req = pt.request();
            long rca = changedAt(mine, req.key());
            FencedAcceptor.Decision d;
            switch (variant) {
                case NO_FENCE -> d = FencedAcceptor.decide(mine, store.host, mine == null ? Long.MAX_VALUE : 0, pt.epoch(),
                        pt.target(), req, current);
                case FENCE_OUTSIDE_WRITER -> {
                    // refused on arrival (a stale commit is learned, as the core does); else decided later, unfenced
                    Fence.Verdict v = pt.onArrival().verdict();
                    d = pt.onArrival().transition().reply() instanceof PaxosMessage.Fenced
                            ? new FencedAcceptor.Decision(new io.nimbus.core.paxos.Acceptor.Transition<>(current,
                                    pt.onArrival().transition().reply()), v)
                            : FencedAcceptor.decide(mine, store.host, mine == null ? Long.MAX_VALUE : 0, pt.epoch(),
                                    pt.target(), req, current);
                }
                default -> d = FencedAcceptor.decide(mine, store.host, rca, pt.epoch(), pt.target(), req, current);
            }
            // I2: the fence, against the topology this replica holds at decision time
            boolean fenced = d.transition().reply() instanceof PaxosMessage.Fenced;
            if (!fenced && mine != null && (req instanceof PaxosMessage.Prepare || req instanceof PaxosMessage.Propose)
                    && pt.epoch() < rca) {
                violation(Check.FENCE, name + " decided " + req.getClass().getSimpleName() + " on " + printable(req.key())
                        + " at request epoch " + pt.epoch() + " below the key's changedAt " + rca + " in its epoch " + mine.epoch());
            }
            if (!fenced && !store.host.equals(pt.target())) {
                violation(Check.HOST_ID, name + " (" + store.host + ") answered a request for host " + pt.target());
            }
            return d;
        }

        long changedAt(Topology mine, String key) {
            if (mine == null) {
                return Long.MAX_VALUE;
            }
            return key.equals(REGISTER) ? mine.electorateChangedAt() : mine.changedAt(token(key));
        }

        /** A Paxos request arrives at this replica (ReplicaService.handle). */
        void onPaxos(long epoch, HostId target, PaxosMessage.Request req, Consumer<Object[]> reply) {
            if (!worker) {
                return; // a proxy holds no replicas: no answer
            }
            if (req instanceof PaxosMessage.ReadCommitted) {
                Topology mine = store.topology;
                FencedAcceptor.Decision d = FencedAcceptor.decide(mine, store.host,
                        variant == Variant.NO_FENCE && mine != null ? 0 : changedAt(mine, req.key()), epoch, target, req,
                        store.keys.getOrDefault(req.key(), KeyState.EMPTY));
                reply.accept(new Object[]{d, mine});
                return;
            }
            Topology now = store.topology;
            FencedAcceptor.Decision onArrival = variant == Variant.FENCE_OUTSIDE_WRITER
                    ? FencedAcceptor.decide(now, store.host, changedAt(now, req.key()), epoch, target, req,
                    store.keys.getOrDefault(req.key(), KeyState.EMPTY)) : null;
            enqueue(new PaxosTask(epoch, target, req, onArrival, reply));
        }

        // ---- the topology driver (TopologyService.advanceMembership / transform / barrier) ----

        /** A worker this node can reach (itself included), as TopologyService.eligible. */
        boolean eligible(Replica r) {
            return r.equals(self()) || !down.contains(r.name());
        }

        void advanceMembership(Topology t) {
            Replica me = self();
            Function<Topology, Topology> step;
            if (!t.holds(me)) {
                if (t.worker(name).isPresent() || loadStarted) {
                    return;
                }
                step = cur -> cur.startJoin(new Worker(name, store.host, endpoint, 8080, cur.allocateTokens(name, TOKENS, offset()))).finish();
            } else if (variant == Variant.SHELL_AS_IS) {
                // the shell as of a0937e4: the newcomer grows the electorate by itself, 1 -> 2 -> 3, judged on the
                // held topology only
                if (t.electorate().isJoint() && t.electorate().next().get(t.electorate().next().size() - 1).equals(me)) {
                    step = Topology::finishElectorateChange;
                } else if (t.electorateCandidate().filter(me::equals).isPresent()) {
                    step = cur -> cur.beginElectorateChange(me);
                } else {
                    return;
                }
            } else if (t.electorate().isJoint()) {
                step = Topology::finishElectorateChange; // any member finishes it
            } else if (t.electorateTarget(this::eligible).isPresent()) {
                // as TopologyService: the target is recomputed on the register's value
                step = cur -> cur.beginElectorateChange(cur.electorateTarget(this::eligible).orElseThrow(() ->
                        new TopologyChangeRefused("the electorate needs no change at epoch " + cur.epoch())));
            } else {
                return;
            }
            driving = true;
            int inc = incarnation;
            narrate(name + " starts a topology change from epoch " + t.epoch());
            transform(step, 0, ok -> {
                narrate(name + " topology change from epoch " + t.epoch() + (ok ? " done" : " not done"));
                if (incarnation == inc) {
                    driving = false;
                }
            });
        }

        void transform(Function<Topology, Topology> f, int attempt, Consumer<Boolean> done) {
            Routing.Routed r = registerRoute();
            if (r instanceof Routing.Refused) {
                done.accept(false);
                return;
            }
            coordinate(REGISTER, -1, new Coordination.Request.Read(), ConsistencyLevel.QUORUM, (Routing.Route) r,
                    this::registerRoute, res -> {
                        if (!(res instanceof Result.Read read) || read.committed() == null) {
                            done.accept(false);
                            return;
                        }
                        Proposal committedP = read.committed();
                        Topology cur = TopologyCodec.decode(committedP.value());
                        learn(cur, h -> barrierBefore(cur, passed -> {
                            if (!passed) {
                                done.accept(false);
                                return;
                            }
                            Topology next;
                            try {
                                next = f.apply(cur);
                            } catch (TopologyChangeRefused e) {
                                done.accept(false);
                                return;
                            }
                            Routing.Routed w = registerRoute();
                            if (w instanceof Routing.Refused) {
                                done.accept(false);
                                return;
                            }
                            Mutation m = new Mutation(REGISTER, TopologyCodec.encode(next),
                                    new Precondition.VersionIn(List.of(committedP.version())));
                            coordinate(REGISTER, -1, new Coordination.Request.Write(m), ConsistencyLevel.QUORUM, (Routing.Route) w,
                                    this::registerRoute, wr -> {
                                        if (wr instanceof Result.Written) {
                                            learn(next, x -> {
                                                if (variant == Variant.NO_BARRIER) {
                                                    barrierReported.add(next.epoch());
                                                    done.accept(true);
                                                } else {
                                                    barrier(cur, next, done);
                                                }
                                            });
                                        } else if (wr instanceof Result.PreconditionFailed && attempt + 1 < CAS_ATTEMPTS_MAX) {
                                            transform(f, attempt + 1, done);
                                        } else {
                                            done.accept(false);
                                        }
                                    });
                        }));
                    });
        }

        /**
         * Before changing epoch {@code cur}, its own barrier (in case its driver never finished it): the
         * holders of {@code cur} must block the quorums it retired from the epoch before, as this store
         * installed it; if this store never held that one, every worker of {@code cur} must hold it.
         * Not in main's TopologyService ({@link Variant#SHELL_AS_IS}).
         */
        void barrierBefore(Topology cur, Consumer<Boolean> then) {
            if (variant == Variant.SHELL_AS_IS || variant == Variant.NO_BARRIER || cur.epoch() == 1) {
                then.accept(true);
                return;
            }
            Set<String> targets = new TreeSet<>();
            for (Worker w : cur.workers()) {
                targets.add(w.name());
            }
            // as TopologyService: the quorums cur retired travel in cur itself
            pushRound(cur, targets, new TreeSet<>(), acked -> Barrier.passed(cur, acked), false, loop.now(), incarnation, then);
        }

        Routing.Routed registerRoute() {
            Topology t = topology();
            if (t == null) {
                return new Routing.Refused(new Result.NotReady("no topology"));
            }
            return Routing.register(t, self(), down);
        }

        void barrier(Topology previous, Topology next, Consumer<Boolean> done) {
            Set<String> targets = new TreeSet<>();
            for (Topology t : List.of(previous, next)) {
                for (Worker w : t.workers()) {
                    targets.add(w.name());
                }
            }
            pushRound(next, targets, new TreeSet<>(), acked -> Barrier.passed(previous, next, acked), true, loop.now(),
                    incarnation, done);
        }

        void pushRound(Topology next, Set<String> targets, Set<String> acked, java.util.function.Predicate<Set<String>> passed,
                       boolean grace, long start, int inc, Consumer<Boolean> done) {
            if (!up || incarnation != inc) {
                return;
            }
            List<String> ask = new ArrayList<>();
            for (String t : targets) {
                if (!acked.contains(t)) {
                    ask.add(t);
                }
            }
            int[] left = {ask.size()};
            Runnable roundDone = () -> {
                if (!up || incarnation != inc) {
                    return;
                }
                long waited = loop.now() - start;
                boolean blocking = passed.test(acked);
                Set<String> reachable = new TreeSet<>(targets);
                reachable.removeAll(down);
                if (blocking && (!grace || acked.containsAll(reachable) || waited > BARRIER_GRACE_MS)) {
                    barrierReported.add(next.epoch());
                    narrate(name + ": barrier for epoch " + next.epoch() + " passed (" + acked + ")");
                    done.accept(true);
                } else if (waited > BARRIER_TIMEOUT_MS) {
                    done.accept(false);
                } else {
                    loop.after(BARRIER_ROUND_MS, () -> pushRound(next, targets, acked, passed, grace, start, inc, done));
                }
            };
            if (ask.isEmpty()) {
                roundDone.run();
                return;
            }
            for (String t : ask) {
                Consumer<Long> answer = ep -> {
                    if (ep != null && ep >= next.epoch()) {
                        acked.add(t);
                    }
                    if (--left[0] == 0) {
                        roundDone.run();
                    }
                };
                if (t.equals(name)) {
                    enqueue(new FencePointTask(() -> answer.accept(store.topology == null ? 0 : store.topology.epoch())));
                } else {
                    ClusterSim.this.<Long>rpc(this, byName.get(t), "push", true, PHASE_TIMEOUT_MS,
                            (target, reply) -> target.onPush(next, reply), answer);
                }
            }
        }

        /** PUSH: learn it, pass the writer's fence point, answer the epoch held. */
        void onPush(Topology t, Consumer<Long> reply) {
            learn(t, h -> {
                if (worker) {
                    enqueue(new FencePointTask(() -> reply.accept(store.topology == null ? 0L : store.topology.epoch())));
                } else {
                    reply.accept(h == null ? 0L : h.epoch());
                }
            });
        }

        // ---- the coordinator shell (Coordinator.run / Flight / send) ----

        Routing.Routed routeKey(String key, ConsistencyLevel level) {
            Topology t = topology();
            if (variant == Variant.RF_CAPPED_BY_LOCAL_VIEW && t != null) {
                return cappedRoute(t, key, level);
            }
            return Routing.key(t, self(), down, token(key), level, "no topology yet");
        }

        /** The old bug: the replication factor capped by the workers this node's gossip knows alive (itself included). */
        Routing.Routed cappedRoute(Topology t, String key, ConsistencyLevel level) {
            int seen = worker ? 1 : 0;
            for (Member m : gossiper.members(loop.now())) {
                if (!m.self() && m.reachable() && m.info().role() == NodeRole.WORKER) {
                    seen++;
                }
            }
            List<Replica> natural = t.placement(token(key)).natural();
            List<Replica> reps = natural.subList(0, Math.max(1, Math.min(natural.size(), seen)));
            if (reps.size() < natural.size()) {
                stats.cappedRoutes++;
                if (gossiper.size() == 1) {
                    stats.cappedRoutesAlone++; // the restart window: gossip knows no one else yet
                }
            }
            List<String> names = new ArrayList<>();
            List<Replica> asked = new ArrayList<>();
            Set<String> up = new TreeSet<>();
            for (Replica r : reps) {
                names.add(r.name());
                if (r.equals(self())) {
                    asked.add(0, r);
                    up.add(r.name());
                } else if (!down.contains(r.name())) {
                    asked.add(r);
                    up.add(r.name());
                }
            }
            Quorum q = level == ConsistencyLevel.ALL ? Quorum.all(names) : Quorum.majority(names);
            boolean enough = level == ConsistencyLevel.ONE ? !up.isEmpty() : q.satisfiableWith(up);
            if (!enough) {
                return new Routing.Refused(new Result.NotEnoughReplicas(level, 1, up.size(), "capped"));
            }
            return new Routing.Route(t.epoch(), reps, asked, q, false);
        }

        /** Runs one request: Paxos levels serialized per key on this node, as the Coordinator does. */
        void coordinate(String key, int origin, Coordination.Request request, ConsistencyLevel level, Routing.Route route,
                        java.util.function.Supplier<Routing.Routed> reroute, Consumer<Result> done) {
            Coordination c = new Coordination(key, request, level, route, RETRY, this::nextBallot, random.split(),
                    loop.now() + OP_DEADLINE_MS);
            Flight f = new Flight(this, c, reroute, done, origin, level != ConsistencyLevel.ONE && quorumKeys.contains(key));
            flights.add(f);
            if (level == ConsistencyLevel.ONE) {
                f.begin();
                return;
            }
            f.serialized = true;
            if (keyQueues.arrive(key, f, KeyQueue.kindOf(c.request()))) {
                f.begin();
            }
        }

        Ballot nextBallot(Ballot above) {
            if (above != null) {
                store.clock.observe(above);
            }
            return store.clock.next(loop.now() * 1000 + index);
        }

        void flightEnded(Flight f) {
            flights.remove(f);
            if (f.serialized) {
                Flight next = keyQueues.leave(f.c.key(), f);
                if (next != null) {
                    loop.after(0, next::begin);
                }
            }
        }
    }

    /** One request's run of its {@link Coordination} on one node. */
    final class Flight {
        final Node node;
        final Coordination c;
        final java.util.function.Supplier<Routing.Routed> reroute;
        final Consumer<Result> done;
        final int inc;
        boolean serialized, ended, begun;
        /** The client operation (PaxosSafety's origin), and whether the ghost follows this key. */
        final int origin;
        final boolean tracked;
        /** Ghost bookkeeping of the running attempt: its ballot and the promises the proposer counted. */
        private Ballot attempt;
        private boolean preparing;
        private final Map<String, PaxosMessage.Promised> promises = new TreeMap<>();
        private final Set<String> answeredPrepare = new HashSet<>();
        private Ballot ownProposal;

        Flight(Node node, Coordination c, java.util.function.Supplier<Routing.Routed> reroute, Consumer<Result> done,
               int origin, boolean tracked) {
            this.node = node;
            this.c = c;
            this.reroute = reroute;
            this.done = done;
            this.inc = node.incarnation;
            this.origin = origin;
            this.tracked = tracked;
        }

        /** What the core sends, seen by the ghost: a new prepare ballot starts an attempt; the first proposal after it is registered. */
        void observe(PaxosMessage.Request r) {
            if (r instanceof PaxosMessage.Prepare pr && !pr.ballot().equals(attempt)) {
                attempt = pr.ballot();
                preparing = true;
                promises.clear();
                answeredPrepare.clear();
                ownProposal = null;
            } else if (preparing && !(r instanceof PaxosMessage.Prepare)) {
                if (r instanceof PaxosMessage.Propose p) {
                    register(p.proposal());
                }
                preparing = false;
            }
        }

        void register(Proposal p) {
            Proposal newestCommit = null;
            for (PaxosMessage.Promised pm : promises.values()) {
                if (pm.committed() != null && pm.committed().ballot().isNewerThan(newestCommit == null ? null : newestCommit.ballot())) {
                    newestCommit = pm.committed();
                }
            }
            if (c.proposer().mayHaveWritten()) {
                ownProposal = p.ballot();
                safety.proposed(c.key(), p, origin, newestCommit == null ? null : newestCommit.ballot());
                return;
            }
            Proposal inFlight = null;
            for (PaxosMessage.Promised pm : promises.values()) {
                Proposal a = pm.accepted();
                if (a != null && (newestCommit == null || a.ballot().compareTo(newestCommit.ballot()) > 0)
                        && (inFlight == null || a.ballot().compareTo(inFlight.ballot()) > 0)) {
                    inFlight = a;
                }
            }
            if (inFlight == null || !java.util.Arrays.equals(inFlight.value(), p.value())) {
                violation(Check.EXCEPTION, "harness: re-proposal " + p.ballot().token() + " matches no in-flight proposal");
            } else {
                safety.reproposed(c.key(), p, inFlight.ballot());
            }
        }

        /** The attempt ended with nothing of it written (restart or refresh): its proposal must never be chosen. */
        void abandon() {
            preparing = false;
            if (tracked && ownProposal != null) {
                safety.abandoned(c.key(), ownProposal);
                ownProposal = null;
            }
        }

        boolean alive() {
            return node.up && node.incarnation == inc;
        }

        void begin() {
            if (!alive() || begun) {
                return;
            }
            begun = true;
            loop.at(Math.max(loop.now(), c.deadlineMs()), () -> advance(c.onDeadline(loop.now())));
            advance(c.start(loop.now()));
        }

        void advance(List<Coordination.Effect> effects) {
            if (!alive()) {
                return;
            }
            for (Coordination.Effect e : effects) {
                carryOut(e);
            }
        }

        void carryOut(Coordination.Effect effect) {
            if (effect instanceof Coordination.Effect.Send s) {
                Replica target = c.route().replica(s.envelope().to());
                Node to = byName.get(target.name());
                long epoch = s.epoch();
                Proposer.Envelope env = s.envelope();
                if (to == null) {
                    if (!s.repair()) {
                        loop.after(0, () -> advance(c.onNoReply(env, loop.now())));
                    }
                    return;
                }
                boolean duplicable = !(env.request() instanceof PaxosMessage.Propose);
                if (tracked && !s.repair()) {
                    observe(env.request());
                }
                ClusterSim.this.<Object[]>rpc(node, to, "paxos", duplicable, PHASE_TIMEOUT_MS,
                        (replica, answer) -> {
                            if (replica.worker && replica.store.topology != null && replica.store.topology.epoch() > epoch) {
                                stats.staleSends++;
                            }
                            replica.onPaxos(epoch, target.host(), env.request(), d -> {
                                if (((FencedAcceptor.Decision) d[0]).verdict() == Fence.Verdict.BEHIND) {
                                    replica.refresh(epoch, t -> {
                                    }); // ReplicaService.onBehind: fetch the newer topology in the background
                                }
                                answer.accept(new Object[]{d[0], d[1], replica.store.host,
                                        replica.store.topology == null ? 0L : replica.store.topology.epoch()});
                            });
                        },
                        ans -> {
                            if (s.repair() || !alive()) {
                                return;
                            }
                            boolean attemptPrepare = tracked && preparing && env.request() instanceof PaxosMessage.Prepare pr
                                    && pr.ballot().equals(attempt) && answeredPrepare.add(env.to());
                            if (ans == null) {
                                advance(c.onNoReply(env, loop.now()));
                                return;
                            }
                            FencedAcceptor.Decision d = (FencedAcceptor.Decision) ans[0];
                            HostId from = (HostId) ans[2];
                            long theirEpoch = (Long) ans[3];
                            PaxosMessage reply = d.transition().reply();
                            if (reply instanceof PaxosMessage.Fenced) {
                                stats.fenced++;
                            }
                            if (theirEpoch > epoch && !node.fetching) {
                                node.fetching = true;
                                node.fetch(to, t -> {
                                    if (alive()) {
                                        node.fetching = false;
                                    }
                                });
                            }
                            if (!(reply instanceof PaxosMessage.Fenced) && !target.host().equals(from)) {
                                advance(c.onNoReply(env, loop.now()));
                                return;
                            }
                            if (attemptPrepare && reply instanceof PaxosMessage.Promised pm) {
                                promises.put(env.to(), pm);
                            }
                            advance(c.onReply(env, reply, loop.now()));
                        });
            } else if (effect instanceof Coordination.Effect.Wake w) {
                abandon();
                loop.at(Math.max(loop.now(), w.atMs()), () -> advance(c.onWake(loop.now())));
            } else if (effect instanceof Coordination.Effect.Refresh r) {
                abandon();
                stats.refreshes++;
                node.refresh(r.epoch(), t -> {
                    if (alive()) {
                        advance(c.onRoute(reroute.get(), loop.now()));
                    }
                });
            } else if (effect instanceof Coordination.Effect.Done d) {
                if (!ended) {
                    ended = true;
                    node.flightEnded(this);
                    done.accept(d.result());
                }
            }
        }

        /** The coordinator crashed under this request. */
        void lost() {
            if (!ended) {
                ended = true;
                done.accept(null);
            }
        }
    }

    static long token(String key) {
        return Murmur3.hash64(key.getBytes(StandardCharsets.UTF_8));
    }

    static String printable(String key) {
        return key.equals(REGISTER) ? "<register>" : key;
    }

    // ---- clients -------------------------------------------------------------------------------------

    final class Client {
        final String name;
        final int home;
        final SplittableRandom random;
        int done;
        int seq;
        boolean busy;
        String what = "";
        final Map<String, Ballot> known = new HashMap<>();

        Client(String name, int home, SplittableRandom random) {
            this.name = name;
            this.home = home;
            this.random = random;
        }

        void next() {
            if (healed || done >= rounds) {
                return;
            }
            done++;
            // every draw is made whatever the outcome, so the stream is the same for every variant
            int nodePick = random.nextInt(nodes.size());
            boolean sticky = random.nextInt(4) != 0;
            int keyPick = random.nextInt(quorumKeys.size() + oneKeys.size());
            int kindPick = random.nextInt(100);
            boolean all = random.nextInt(7) == 0;
            long think = random.nextInt((int) Math.max(40, 2 * chaosMs / Math.max(1, rounds))); // spread over the chaos window
            Node node = nodes.get(sticky ? home : nodePick);
            if (!node.up) {
                node = nodes.get(nodePick);
            }
            String key = keyPick < quorumKeys.size() ? quorumKeys.get(keyPick) : oneKeys.get(keyPick - quorumKeys.size());
            boolean one = oneKeys.contains(key);
            if (one) {
                runOne(node, key, kindPick < 50, think);
                return;
            }
            Ballot expected = known.get(key);
            ClientOp kind = kindPick < 35 ? ClientOp.READ : kindPick < 60 ? ClientOp.WRITE : kindPick < 75 ? ClientOp.CAS
                    : kindPick < 85 ? ClientOp.CREATE : kindPick < 95 ? ClientOp.DELETE : ClientOp.DELETE_IF;
            if ((kind == ClientOp.CAS || kind == ClientOp.DELETE_IF) && expected == null) {
                kind = kind == ClientOp.CAS ? ClientOp.CREATE : ClientOp.DELETE;
            }
            ConsistencyLevel level = all ? ConsistencyLevel.ALL : ConsistencyLevel.QUORUM;
            String value = kind.writesValue() ? name + "." + (++seq) : null;
            Op linOp = kind.historyOp(key, value, expected);
            Coordination.Request request = kind.request(key, value, expected);
            stats.ops++;
            busy = true;
            what = kind + " " + key + " at " + node.name;
            history.invoke(name, linOp, loop.now());
            trace.add("invoke", clients.indexOf(this), node.index, kind.ordinal(), keyPick);
            ClientOp k = kind;
            Node at = node;
            int opId = nextOpId++;
            issue(node, key, opId, request, level, res -> finish(at, key, k, opId, res, think));
        }

        void issue(Node node, String key, int opId, Coordination.Request request, ConsistencyLevel level, Consumer<Result> done) {
            if (!node.up) {
                done.accept(new Result.Unavailable("node down"));
                return;
            }
            Routing.Routed r = node.routeKey(key, level);
            if (r instanceof Routing.Refused refused) {
                done.accept(refused.result());
                return;
            }
            node.coordinate(key, opId, request, level, (Routing.Route) r, () -> node.routeKey(key, level), done);
        }

        void finish(Node node, String key, ClientOp kind, int opId, Result res, long think) {
            long now = loop.now();
            narrate("op " + name + "@" + node.name + " " + kind + " " + key + " -> " + res);
            trace.add("done", clients.indexOf(this), res == null ? -1 : res.getClass().getSimpleName().hashCode());
            boolean write = kind != ClientOp.READ;
            if (res == null || res.outcomeUnknown()) {
                if (write) {
                    history.indeterminate(name);
                    stats.indeterminate++;
                } else {
                    history.fail(name, now);
                    stats.failed++;
                }
            } else if (res instanceof Result.Read r) {
                Proposal p = r.committed();
                if (p == null || p.isTombstone()) {
                    history.okNotFound(name, now);
                    known.remove(key);
                } else {
                    history.okFound(name, new String(p.value(), StandardCharsets.UTF_8), p.version().token(), now);
                    known.put(key, p.version());
                }
                stats.ok++;
            } else if (res instanceof Result.Written w) {
                if (kind == ClientOp.DELETE || kind == ClientOp.DELETE_IF) {
                    history.ok(name, new Output.Deleted(w.version().token()), now);
                    known.remove(key);
                } else {
                    history.okWritten(name, w.version().token(), now);
                    known.put(key, w.version());
                }
                ackedMax.merge(key, w.version(), (a, b) -> a.compareTo(b) >= 0 ? a : b);
                stats.ok++;
            } else if (res instanceof Result.PreconditionFailed pf) {
                history.rejected(name, pf.current() == null ? Observed.absent() : Observed.version(pf.current().token()), now);
                if (pf.current() == null) {
                    known.remove(key);
                } else {
                    known.put(key, pf.current());
                }
                stats.ok++;
            } else if (res instanceof Result.NotFound) {
                history.rejected(name, Observed.absent(), now);
                known.remove(key);
                stats.ok++;
            } else {
                history.fail(name, now);
                stats.failed++;
                if (write) {
                    safety.failed(key, opId); // nothing written, says the coordinator: never chosen
                }
            }
            busy = false;
            loop.after(think, this::next);
        }

        /** ONE keys: unconditional writes and reads at ONE; checked eventually, not for linearizability. */
        void runOne(Node node, String key, boolean read, long think) {
            stats.ops++;
            stats.oneOps++;
            busy = true;
            what = "ONE " + (read ? "read " : "write ") + key + " at " + node.name;
            String value = read ? null : name + "." + (++seq);
            if (value != null) {
                oneValues.computeIfAbsent(key, k -> new TreeSet<>()).add(value);
            }
            Coordination.Request request = read ? new Coordination.Request.Read()
                    : new Coordination.Request.Write(new Mutation(key, value.getBytes(StandardCharsets.UTF_8), Precondition.NONE));
            issue(node, key, -1, request, ConsistencyLevel.ONE, res -> {
                narrate("ONE " + name + "@" + node.name + " " + (read ? "read " : "write ") + key + " -> " + res);
                trace.add("one", clients.indexOf(this), res == null ? -1 : res.getClass().getSimpleName().hashCode());
                if (res instanceof Result.Read r && r.committed() != null && !r.committed().isTombstone()) {
                    String v = new String(r.committed().value(), StandardCharsets.UTF_8);
                    if (!oneValues.getOrDefault(key, Set.of()).contains(v)) {
                        violation(Check.ONE_KEYS, "a ONE read of " + key + " returned " + v + ", which no client wrote");
                    }
                }
                if (res instanceof Result.Written w) {
                    oneAcked.add(new Ballot[]{w.version()});
                    oneAckedKeys.add(key);
                    stats.ok++;
                } else if (res instanceof Result.Read) {
                    stats.ok++;
                } else {
                    stats.failed++;
                }
                busy = false;
                loop.after(think, this::next);
            });
        }
    }

    // ---- the end ---------------------------------------------------------------------------------------

    /** A QUORUM read of every QUORUM key through every node, one at a time; each must answer and lose nothing. */
    private void finalReads() {
        for (String key : quorumKeys) {
            for (Node n : nodes) {
                String client = "final-" + n.name + "-" + key;
                Result[] out = new Result[1];
                history.invoke(client, Op.read(key), loop.now());
                Routing.Routed r = n.routeKey(key, ConsistencyLevel.QUORUM);
                if (r instanceof Routing.Refused refused) {
                    out[0] = refused.result();
                } else {
                    n.coordinate(key, nextOpId++, new Coordination.Request.Read(), ConsistencyLevel.QUORUM, (Routing.Route) r,
                            () -> n.routeKey(key, ConsistencyLevel.QUORUM), res -> out[0] = res);
                }
                long bound = loop.now() + 10_000;
                while (out[0] == null && loop.now() < bound) {
                    runUntil(Math.min(bound, loop.now() + 20));
                }
                stats.finalReads++;
                if (!(out[0] instanceof Result.Read read)) {
                    history.fail(client, loop.now());
                    violation(Check.LIVENESS, "final QUORUM read of " + key + " through " + n.name + " after healing: " + out[0]);
                    continue;
                }
                Proposal p = read.committed();
                if (p == null || p.isTombstone()) {
                    history.okNotFound(client, loop.now());
                } else {
                    history.okFound(client, new String(p.value(), StandardCharsets.UTF_8), p.version().token(), loop.now());
                }
                Ballot acked = ackedMax.get(key);
                if (acked != null && (p == null || p.ballot().compareTo(acked) < 0)) {
                    violation(Check.LOST_WRITE, "the final QUORUM read of " + key + " through " + n.name + " returned "
                            + (p == null ? "nothing" : p.ballot().token()) + ", older than the acknowledged write "
                            + acked.token());
                }
            }
        }
    }

    /** An acknowledged ONE write is held (or superseded) by at least one natural replica of the final topology. */
    private void checkOneKeys() {
        Topology last = committed.lastEntry().getValue();
        for (int i = 0; i < oneAcked.size(); i++) {
            String key = oneAckedKeys.get(i);
            Ballot v = oneAcked.get(i)[0];
            boolean held = false;
            for (Replica r : last.placement(token(key)).natural()) {
                KeyState s = byName.get(r.name()).store.keys.get(key);
                if (s != null && s.committed() != null && s.committed().ballot().compareTo(v) >= 0) {
                    held = true;
                }
            }
            if (!held) {
                violation(Check.ONE_KEYS, "the acknowledged ONE write " + v.token() + " of " + key
                        + " is on no natural replica of epoch " + last.epoch());
            }
        }
    }
}
