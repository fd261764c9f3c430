package io.nimbus.sim.cluster;

import io.nimbus.core.coordinator.Affinity;
import io.nimbus.core.coordinator.Coordination;
import io.nimbus.core.coordinator.KeyQueue;
import io.nimbus.core.coordinator.Result;
import io.nimbus.core.coordinator.RetryPolicy;
import io.nimbus.core.coordinator.Routing;
import io.nimbus.core.coordinator.Terms;
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
import io.nimbus.core.topology.Operation;
import io.nimbus.core.topology.Placement;
import io.nimbus.core.topology.Reachability;
import io.nimbus.core.topology.Replica;
import io.nimbus.core.topology.StreamPlan;
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
import io.nimbus.sim.paxos.PaxosSafety;
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
 * <p><b>Topology operations under load</b> (TOPOLOGY.md §5–§7, §10): the cluster starts with 1–3 workers
 * (joined before the load, through the same protocol); then, while clients run, a per-seed script
 * ({@link Script}) joins the other workers, may decommission one (LEAVE, driven by the leaving worker,
 * which exits once it knows it left), may kill one for good and have another remove it (REMOVE, asked of a
 * worker that sees it down), and may kill a newcomer for good after its START and abort its join. Each
 * operation runs as TopologyService.drive and StreamService do: START by compare-and-set, the START epoch's
 * barrier, then every receiver of {@link StreamPlan#of} pulls chunks of whole rows from the plan's sources
 * over the simulated network (one chunk at a time, a source given up after a few failed attempts for the
 * next, an option for the next) and merges each row with {@code KeyState.merge} through its writer queue,
 * durable before the next chunk; then FINISH by compare-and-set, only if the register still holds the
 * START epoch. Crash points: the driver right after START (it resumes: the operation stays in the
 * register), a receiver as a chunk lands (it copies again), a source after serving a chunk (the receiver
 * moves on), coordinators between a write's accept quorum and its commits. 12 cold keys are written once
 * as the load starts (every other one deleted right after, so only a tombstone should be left of it) and
 * then left alone, so a replica that missed a write or a delete stays behind until a stream moves the key.
 *
 * <p>Checks per event: epoch uniqueness, the fence (no Prepare/Propose decided below the key's
 * {@code changedAt} in the deciding replica's own topology), host identity, the barrier (when an
 * epoch is committed, the workers holding the one before it block its retired quorums), the register's
 * electorate never above {@link Topology#ELECTORATE_SIZE}, PaxosSafety's ghost checks on the data keys
 * (a proposal is chosen by a quorum of the key's placement at its proposer's epoch: joint while it moves),
 * and, when an operation ends, I5 handover completeness ({@link #handover}). At the end: every operation
 * finished or aborted and the final workers the planned ones, linearizability of the QUORUM/ALL keys (final
 * QUORUM reads of every acknowledged key through every node included: no acknowledged write lost), the ONE
 * keys' eventual checks, topology converged everywhere, liveness.
 *
 * <p>The topology shell (TopologyService's learn / refresh / advanceMembership / drive / transform / barrier,
 * StreamService's pull / merge / awaitReceivers) is re-enacted here over the simulated network. Deviations
 * from main's shell: the removal's "is it reachable?" check takes a worker this node's gossip never heard
 * of for unreachable ({@code Script#operatorNode}); {@link Variant#SHELL_AS_IS} keeps the step-4 shell's
 * two flaws. The operator asks again while its request went unanswered (as a person given a time-out would).
 * Simplifications: the ballot clock's high-water mark is durable at once; a proxy's topology is lost at a
 * crash.
 *
 * <p><b>A wiped store</b> (TopologyService.askForReplacement / replaceRequested): in a third of the seeds the
 * script wipes a worker's store (a new host id, nothing else) and restarts it under its name; it learns the
 * topology, finds its name held by another host, and after the failure time-out asks a live member to remove
 * the old host (refused while that member hears the name alive with the old host id); once the removal is
 * through, it joins as a new worker. {@link Variant#WIPED_NODE_KEEPS_IDENTITY} keeps the old host id.
 *
 * <p><b>Cleanup</b> (StreamService.cleanupIfDue / cleanupPage, TOPOLOGY.md §8): a worker holding an epoch with no
 * operation, that no reachable peer announces a newer one to and that reaches most workers, deletes the rows of
 * keys it is neither natural nor pending for, each deletion decided on its writer against the topology held then,
 * and none while a Paxos request carried a newer epoch than that (ReplicaService.newestRequestEpoch, volatile).
 * Checked by I6, no amnesia ({@link Node#noAmnesia}), and at the end: once every worker cleaned up at the final
 * epoch, no store holds a row of a key it does not replicate.
 */
public final class ClusterSim {

    public enum Check {
        EPOCH_UNIQUENESS, FENCE, HOST_ID, BARRIER, ELECTORATE, PAXOS_SAFETY, HANDOVER, NO_AMNESIA, LOST_WRITE, LINEARIZABILITY,
        ONE_KEYS, OPERATIONS, CONVERGENCE, CLEANUP, LIVENESS, EXCEPTION;

        /** A check on what clients saw (an acknowledged write lost, a non-linearizable history), not on internal state. */
        public boolean consequence() {
            return this == LOST_WRITE || this == LINEARIZABILITY || this == ONE_KEYS;
        }
    }

    /** Counts for the report. */
    public static final class Stats {
        public int workers, proxies, ops, ok, failed, indeterminate, crashes, partitions, joins, electorateSteps, epochs;
        public int invariantBreaches, cappedRoutes, cappedRoutesAlone, fenced, refreshes, staleSends, messages, dropped, oneOps, finalReads;
        /** Topology operations: started, finished joins with client data present, decommissions, removals, aborts. */
        public int opStarts, joinsWithData, leaves, removes, aborts, skippedSteps;
        /** Streaming: rows merged at receivers, chunks served, sources given up for the next one, copies run, scripted crashes. */
        public int rowsStreamed, chunks, sourceSwitches, copies, scriptedCrashes, handoverChecks;
        /** Rows served whose accepted proposal is above their committed one (in flight), and rows with a promise alone. */
        public int inFlightRowsServed, promiseOnlyRowsServed, commitCrashes;
        /** Acknowledged ONE writes held only by workers that died for good (lost with them, as ONE allows). */
        public int oneLostWithTheDead;
        /** Cleanup: rows deleted (of ranges a worker no longer replicates), rows kept by the writer's decision, cleanups run. */
        public int rowsCleaned, cleanupKept, cleanups, wipes;
        /** Writes proposed in their coordinator's term, without a prepare. */
        public int termWrites;
        /** Client writes forwarded to their key's coordinator (Affinity): sent, never sent (target down), unanswered. */
        public int forwards, forwardsNotSent, forwardsUnanswered;
        public long loadStartMs, endMs;

        @Override
        public String toString() {
            return "workers=" + workers + " proxies=" + proxies + " ops=" + ops + " ok=" + ok + " failed=" + failed
                    + " indeterminate=" + indeterminate + " oneOps=" + oneOps + " crashes=" + crashes
                    + " partitions=" + partitions + " joins=" + joins + " electorateSteps=" + electorateSteps
                    + " epochs=" + epochs + " opStarts=" + opStarts + " joinsWithData=" + joinsWithData + " leaves=" + leaves
                    + " removes=" + removes + " aborts=" + aborts + " skippedSteps=" + skippedSteps + " copies=" + copies
                    + " rowsStreamed=" + rowsStreamed + " chunks=" + chunks + " sourceSwitches=" + sourceSwitches
                    + " inFlightRowsServed=" + inFlightRowsServed + " promiseOnlyRowsServed=" + promiseOnlyRowsServed
                    + " commitCrashes=" + commitCrashes + " oneLostWithTheDead=" + oneLostWithTheDead + " wipes=" + wipes + " rowsCleaned=" + rowsCleaned + " cleanupKept=" + cleanupKept + " cleanups=" + cleanups + " scriptedCrashes=" + scriptedCrashes + " handoverChecks=" + handoverChecks + (cappedRoutes > 0 ? " cappedRoutes=" + cappedRoutes + " (alone " + cappedRoutesAlone + ")" : "")
                    + " fenced=" + fenced + " refreshes=" + refreshes + " staleSends=" + staleSends + " termWrites=" + termWrites
                    + " forwards=" + forwards + " (not sent " + forwardsNotSent + ", unanswered " + forwardsUnanswered + ")"
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
    /** A forwarded write's wait for its answer: the coordinating node's deadline and a phase more (as the real one). */
    static final long FORWARD_TIMEOUT_MS = OP_DEADLINE_MS + PHASE_TIMEOUT_MS;
    static final long GOSSIP_INTERVAL_MS = 100;
    static final long BARRIER_ROUND_MS = 200, BARRIER_GRACE_MS = 2000, BARRIER_TIMEOUT_MS = 60_000;
    static final int CAS_ATTEMPTS_MAX = 10;
    static final long SETUP_MAX_MS = 20_000;
    static final RetryPolicy RETRY = new RetryPolicy(6, 10, 200);
    /** Streaming (StreamService, scaled to the simulation): receiver polls, chunk attempts per source, pause between. */
    static final long POLL_MS = 100, RETRY_PAUSE_MS = 100;
    static final int CHUNK_ATTEMPTS_MAX = 3;
    /** Rows a cleanup scans per page (StreamService.cleanupPage; scaled to the simulation). */
    static final int CLEANUP_PAGE_ROWS = 8;
    /** A wiped store asks for its old host's removal after the failure time-out, again at most this often (5 s in main). */
    static final long REPLACE_AFTER_MS = 1000, REPLACE_RETRY_MS = 1000;
    /** How often (in gossip rounds) a node reads the topology register at QUORUM and learns it (TopologyService). */
    static final int REGISTER_READ_EVERY_ROUNDS = 20;
    /** How often the operator's script looks at the cluster; how long after healing it may still take. */
    static final long SCRIPT_TICK_MS = 50, SCRIPT_AFTER_HEAL_MS = 30_000;

    // ---- the run -----------------------------------------------------------------------------------

    private final long seed;
    private final Variant variant;
    /**
     * Whether client writes go to their key's coordinator (nimbus.paxos.forward-writes): on three seeds in four,
     * taken from the seed rather than drawn, so that every other draw of a seed's scenario stays what it was.
     */
    private final boolean forwardWrites;
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
    /**
     * Cold keys: written once each at QUORUM by a loader as the load starts, never touched by the clients,
     * read at the end. A replica that missed such a write (loss, a crash, an isolation) stays behind until
     * a stream moves the key: what makes a wrong stream source visible.
     */
    private final List<String> coldKeys = new ArrayList<>();
    /** The keys PaxosSafety follows (the QUORUM/ALL keys and the cold keys). */
    private final Set<String> tracked = new TreeSet<>();
    private final List<String> oneKeys = new ArrayList<>();
    private final History history = new History();
    /**
     * PaxosSafety's ghost checks on the QUORUM/ALL data keys (registers monotone, durable, only chosen values
     * committed, no chosen write lost, a restarted or failed attempt never chosen). A proposal is chosen once
     * a quorum of the key's placement at its proposer's epoch accepted it (joint while the key moves; see
     * {@link #ghostQuorum}).
     */
    private final io.nimbus.sim.paxos.PaxosSafety safety = new io.nimbus.sim.paxos.PaxosSafety(
            () -> "t=" + loop.now() + "ms");
    private int nextOpId;
    /** Ghost: the topology committed at each epoch. */
    private final TreeMap<Long, Topology> committed = new TreeMap<>();
    /** Ghost: the topology chosen at each epoch (committed, or written by a compare-and-set that succeeded). */
    private final Map<Long, Topology> chosenTopologies = new HashMap<>();
    /** StreamPlan per topology (pure; computed once). */
    private final Map<Topology, StreamPlan> plans = new HashMap<>();
    /** Ghost: epochs whose driver reported its barrier passed. */
    private final Set<Long> barrierReported = new HashSet<>();
    /** Ghost: per key, the highest version a client was told was written (QUORUM/ALL and ONE keys). */
    /** Per key, the last acknowledged Paxos write (the proposal it was acknowledged as, in {@code Proposal.ORDER}). */
    private final Map<String, PaxosSafety.Id> ackedMax = new HashMap<>();
    /** The ballot each acknowledged Paxos write was chosen under, by version (a write in a term: the term's). */
    private final Map<Ballot, Ballot> writtenUnder = new HashMap<>();
    private final Map<String, Set<String>> oneValues = new HashMap<>();
    private final List<Ballot[]> oneAcked = new ArrayList<>();
    private final List<String> oneAckedKeys = new ArrayList<>();
    /** Ghost: the rows of wiped stores (a ONE write only they held is lost with them, as ONE allows). */
    private final List<Map<String, KeyState>> wipedStores = new ArrayList<>();
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
    /** Workers 0..initial-1 form the cluster before the load; the others join during it (the script). */
    private final int initial;
    private final Script script;
    /** Rows per streamed chunk (small, so a range takes several chunks). */
    private final int chunkRows;
    /**
     * Crash points of coordinators between a write's accept quorum and its commits (the value is chosen and
     * committed nowhere: what a stream must carry as an accepted proposal; a Paxos write's client has its answer
     * by then): how many are left, and their dice.
     */
    private int commitCrashesLeft;
    private final SplittableRandom commitCrashDice;

    // phases
    private boolean faults = true;
    private boolean loadStarted;
    private boolean healed;
    /** Clients stop issuing requests (healed and the script done). */
    private boolean clientsStop;
    private long healAt = Long.MAX_VALUE;
    private final Set<Integer> isolated = new TreeSet<>();

    ClusterSim(long seed, Variant variant, int rounds) {
        this.seed = seed;
        this.variant = variant;
        this.rounds = rounds;
        this.forwardWrites = Math.floorMod(seed, 4) != 3;
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
            tracked.add(key);
        }
        int clientCount = 3 + scenario.nextInt(2);
        for (int c = 0; c < clientCount; c++) {
            clients.add(new Client("c" + c, c % nodeCount, root.split()));
        }
        // the topology script (drawn from its own stream, after everything above: the earlier draws are as in step 4)
        SplittableRandom topo = root.split();
        initial = 1 + topo.nextInt(Math.min(3, workerCount - 1));
        chunkRows = 1 + topo.nextInt(3);
        List<Step> steps = new ArrayList<>();
        for (int i = initial; i < workerCount; i++) {
            steps.add(new Step(StepKind.JOIN, i));
        }
        if (topo.nextInt(4) == 0) {
            steps.get(steps.size() - 1).kind = StepKind.ABORT_JOIN; // the last newcomer crashes for good after START
        }
        if (topo.nextInt(5) < 2) {
            steps.add(topo.nextInt(steps.size() + 1), new Step(StepKind.LEAVE, -1));
        }
        if (topo.nextInt(5) < 2) {
            steps.add(topo.nextInt(steps.size() + 1), new Step(StepKind.REMOVE, -1));
        }
        long[] offsets = new long[steps.size()];
        for (int i = 0; i < offsets.length; i++) {
            offsets[i] = topo.nextLong(chaosMs);
        }
        java.util.Arrays.sort(offsets);
        for (int i = 0; i < steps.size(); i++) {
            Step st = steps.get(i);
            st.at = offsets[i];
            int c = topo.nextInt(10);
            st.crash = c < 4 ? CrashPoint.NONE : c < 6 ? CrashPoint.DRIVER_AFTER_START : c < 8 ? CrashPoint.RECEIVER_MID_STREAM
                    : CrashPoint.SOURCE_MID_STREAM;
            st.crashDown = 50 + topo.nextInt(750);
            st.pick = topo.nextInt(1000);
        }
        // a worker's store wiped (drawn from its own stream, after everything above: the earlier draws are as before)
        SplittableRandom wipeDice = root.split();
        if (wipeDice.nextInt(3) == 0) {
            Step w = new Step(StepKind.WIPE, -1);
            w.at = wipeDice.nextLong(chaosMs);
            w.crash = CrashPoint.NONE;
            w.crashDown = 50 + wipeDice.nextInt(750);
            w.pick = wipeDice.nextInt(1000);
            int at = 0;
            while (at < steps.size() && steps.get(at).at <= w.at) {
                at++;
            }
            steps.add(at, w);
        }
        script = new Script(steps);
        commitCrashesLeft = topo.nextInt(3);
        commitCrashDice = topo.split();
        for (int k = 0; k < 12; k++) {
            coldKeys.add("cold-" + k);
            safety.key("cold-" + k, RF);
            tracked.add("cold-" + k);
        }
        Client loader = new Client("load", 0, topo.split());
        loader.loader = true;
        clients.add(loader);
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
            Check.ELECTORATE, Check.PAXOS_SAFETY, Check.HANDOVER, Check.NO_AMNESIA);

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
            if (!n.worker || n.index < initial) {
                loop.at(startAt[n.index], () -> n.start(true));
            }
        }
        // setup: until the initial workers joined (through START, barrier, stream, FINISH) and the last barrier passed
        while (!loadStarted && loop.now() < SETUP_MAX_MS) {
            long until = loop.now() + 50;
            runUntil(until);
            if (setupDone()) {
                startLoad();
            }
        }
        if (!loadStarted) {
            violation(Check.LIVENESS, "the initial joins did not finish in " + SETUP_MAX_MS + "ms: committed "
                    + committed.lastEntry());
            return;
        }
        long loadStart = loop.now();
        runUntil(loadStart + chaosMs);
        heal();
        long scriptBound = loop.now() + SCRIPT_AFTER_HEAL_MS;
        while (loop.now() < scriptBound && !script.done()) {
            runUntil(loop.now() + 50);
        }
        if (!script.done()) {
            violation(Check.LIVENESS, "the topology script did not end " + SCRIPT_AFTER_HEAL_MS + "ms after healing: "
                    + script.describe() + "; committed " + committed.lastEntry().getValue());
            return;
        }
        clientsStop = true;
        long bound = loop.now() + 15_000;
        long settledSince = -1; // converged for a gossip failure time-out in a row (a restarted node's reachability can flap)
        while (loop.now() < bound && (settledSince < 0 || loop.now() - settledSince < 1000)) {
            runUntil(loop.now() + 50);
            boolean settled = clientsIdle() && converged();
            settledSince = !settled ? -1 : settledSince < 0 ? loop.now() : settledSince;
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
        Topology last = committed.lastEntry().getValue();
        Set<String> members = new TreeSet<>();
        last.workers().forEach(w -> members.add(w.name()));
        if (last.operation().isPresent() || !members.equals(script.expected)) {
            violation(Check.OPERATIONS, "the final topology " + last + " is not the planned one: workers " + members
                    + ", planned " + script.expected + " (" + script.describe() + ")");
        }
        checkCleanup(last);
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

    /** The initial workers are members, no operation is in progress, and the last epoch's barrier passed. */
    private boolean setupDone() {
        if (committed.isEmpty()) {
            return false;
        }
        Topology last = committed.lastEntry().getValue();
        if (last.operation().isPresent()) {
            return false;
        }
        for (int i = 0; i < initial; i++) {
            if (!last.holds(nodes.get(i).self())) {
                return false;
            }
        }
        return last.epoch() == 1 || barrierReported.contains(last.epoch()) || Barrier.passed(last, holders(last.epoch()));
    }

    /**
     * Workers whose durable topology is at least {@code epoch}, and workers whose store is no longer the host
     * {@code epoch} names under their name (wiped since: it refuses every request for that host, so it blocks
     * as a holder does).
     */
    private Set<String> holders(long epoch) {
        Set<String> out = new TreeSet<>();
        Topology at = chosenTopologies.get(epoch);
        for (Node n : nodes) {
            if (n.worker && n.store.topology != null && n.store.topology.epoch() >= epoch) {
                out.add(n.name);
            } else if (n.worker && at != null && at.worker(n.name).filter(w -> !w.host().equals(n.store.host)).isPresent()) {
                out.add(n.name);
            }
        }
        return out;
    }

    private void startLoad() {
        loadStarted = true;
        stats.loadStartMs = loop.now();
        narrate("load starts; committed " + committed.lastEntry().getValue() + "; script " + script.describe());
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
        loop.after(0, script::tick);
    }

    private void heal() {
        healed = true;
        faults = false;
        healAt = loop.now();
        isolated.clear();
        for (Node n : nodes) {
            if (!n.up && n.started && !n.gone) {
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
        if (!script.done() || last.operation().isPresent()) {
            return false;
        }
        if (last.electorate().isJoint() || (variant == Variant.SHELL_AS_IS
                ? last.electorateCandidate().isPresent() : last.electorateTarget(r -> true).isPresent())) {
            return false;
        }
        Set<String> gone = new TreeSet<>();
        for (Node n : nodes) {
            if (n.gone) {
                gone.add(n.name);
            }
        }
        for (Node n : nodes) {
            if (n.gone) {
                continue;
            }
            if (!n.up || n.topology() == null || n.topology().epoch() != last.epoch() || n.driving) {
                return false;
            }
            if (!gone.containsAll(n.down)) {
                return false; // what the node routes with (as of its last gossip round)
            }
            for (Node o : nodes) {
                if (o != n && !o.gone && !n.gossiper.isReachable(o.name, loop.now())) {
                    return false;
                }
            }
        }
        return true;
    }

    private String epochs() {
        StringBuilder b = new StringBuilder();
        for (Node n : nodes) {
            b.append(n.name).append('=').append(n.topology() == null ? 0 : n.topology().epoch())
                    .append(n.gone ? "(gone)" : n.up ? "" : "(down)").append(' ');
        }
        return b.toString().trim();
    }

    /** A random crash of the fault plan: none after healing. */
    private void crash(Node n, long downMs) {
        if (!n.up || healed) {
            return;
        }
        stats.crashes++;
        n.crash();
        restartLater(n, downMs);
    }

    /** A crash point of the topology script (also after healing): down for {@code downMs}, then restarted. */
    private void crashScripted(Node n, long downMs, String why) {
        if (!n.up) {
            return;
        }
        stats.crashes++;
        stats.scriptedCrashes++;
        narrate("CRASH POINT " + why + ": " + n.name + " down for " + downMs + "ms");
        n.crash();
        restartLater(n, downMs);
    }

    private void restartLater(Node n, long downMs) {
        loop.after(downMs, () -> {
            if (!n.up && !n.gone) {
                n.start(false);
            }
        });
    }

    /** A node stops for good (killed for a removal or an abort, or a decommissioned worker that exits). */
    private void kill(Node n, String why) {
        kill(n, why, true);
    }

    /** {@code failure}: the process died for good (a removal's victim, an aborted newcomer), not a worker that left. */
    private void kill(Node n, String why, boolean failure) {
        if (n.gone) {
            return;
        }
        n.dead = failure;
        narrate("GONE " + n.name + ": " + why);
        trace.add("gone", n.index);
        n.gone = true;
        if (n.up) {
            stats.crashes++;
            n.crash();
        }
    }

    // ---- the topology script (the operator) ------------------------------------------------------------

    enum StepKind { JOIN, ABORT_JOIN, LEAVE, REMOVE, WIPE }

    /** Where a step's operation is interrupted by a crash (the node restarts after {@code crashDown}). */
    enum CrashPoint { NONE, DRIVER_AFTER_START, RECEIVER_MID_STREAM, SOURCE_MID_STREAM }

    static final class Step {
        StepKind kind;
        /** The worker it moves (joins: drawn; a decommission or removal picks one when it begins). */
        int node;
        long at, crashDown;
        CrashPoint crash;
        int pick;
        boolean begun, done, skipped, crashFired;
        long startEpoch = -1;
        /** When the operator may try again (its request's callback is lost if the node it asked crashes). */
        long operatorFreeAt;
        /** The operator's last request was answered: done, or refused. */
        boolean answered;

        Step(StepKind kind, int node) {
            this.kind = kind;
            this.node = node;
        }

        @Override
        public String toString() {
            return kind + (node >= 0 ? "(w" + node + ")" : "") + "@" + at + (crash == CrashPoint.NONE ? "" : "/" + crash)
                    + (skipped ? " skipped" : done ? " done" : begun ? " running" : "");
        }
    }

    /**
     * The operator: one step after the other, each begun at its planned time once the one before ended.
     * A join starts the newcomer's process (it joins by itself, as TopologyService does); a decommission
     * asks the leaving worker; a removal kills a worker for good and asks another that sees it down; an
     * aborted join kills the newcomer for good after its START and asks another worker to abort. Crash
     * points are fired from the hooks the nodes call.
     */
    final class Script {
        final List<Step> steps;
        int current;
        /** The workers the final topology must hold. */
        final Set<String> expected = new TreeSet<>();

        Script(List<Step> steps) {
            this.steps = steps;
            for (int i = 0; i < initial; i++) {
                expected.add("w" + i);
            }
        }

        boolean done() {
            return current >= steps.size();
        }

        String describe() {
            return steps.toString();
        }

        Step running() {
            return done() ? null : steps.get(current);
        }

        void tick() {
            if (done()) {
                return;
            }
            Step s = steps.get(current);
            if (!s.begun) {
                if (loop.now() >= stats.loadStartMs + s.at) {
                    begin(s);
                }
            } else {
                progress(s);
            }
            if (s.done || s.skipped) {
                narrate("script step " + s + " ended");
                current++;
            }
            if (!done()) {
                loop.after(SCRIPT_TICK_MS, this::tick);
            }
        }

        private Topology last() {
            return committed.lastEntry().getValue();
        }

        /** Workers that may die for good (removal, wipe): never w0, and only one whose loss leaves the register's electorate a quorum. */
        private static List<String> victims(Topology last) {
            boolean electorateFull = !last.electorate().isJoint() && last.electorate().members().size() == Topology.ELECTORATE_SIZE;
            List<String> candidates = new ArrayList<>();
            for (Worker w : last.workers()) {
                if (!w.name().equals("w0") && (electorateFull || !last.electorate().contains(w.replica()))) {
                    candidates.add(w.name());
                }
            }
            return candidates;
        }
        private void begin(Step s) {
            s.begun = true;
            Topology last = last();
            switch (s.kind) {
                case JOIN, ABORT_JOIN -> nodes.get(s.node).start(true);
                case LEAVE -> {
                    List<String> candidates = new ArrayList<>();
                    for (Worker w : last.workers()) {
                        if (!w.name().equals("w0")) { // the gossip seed stays
                            candidates.add(w.name());
                        }
                    }
                    if (last.workers().size() < 2 || candidates.isEmpty()) {
                        skip(s, "too few workers to decommission one");
                        return;
                    }
                    s.node = byName.get(candidates.get(s.pick % candidates.size())).index;
                }
                case REMOVE -> {
                    List<String> candidates = victims(last); // the electorate must keep a quorum without the dead worker
                    if (last.workers().size() < 3 || candidates.isEmpty()) {
                        skip(s, "too few workers to remove one");
                        return;
                    }
                    Node victim = byName.get(candidates.get(s.pick % candidates.size()));
                    s.node = victim.index;
                    kill(victim, "killed for removal");
                }
                case WIPE -> {
                    List<String> candidates = victims(last); // ... and without the wiped worker's old store
                    if (last.workers().size() < 3 || candidates.isEmpty()) {
                        skip(s, "too few workers to wipe one");
                        return;
                    }
                    Node victim = byName.get(candidates.get(s.pick % candidates.size()));
                    s.node = victim.index;
                    victim.wipe();
                    restartLater(victim, s.crashDown);
                }
            }
            narrate("script step " + s + " begins");
            trace.add("step", s.kind.ordinal(), s.node);
        }

        private void skip(Step s, String why) {
            s.skipped = true;
            stats.skippedSteps++;
            narrate("script step " + s + " skipped: " + why);
        }

        private void progress(Step s) {
            Topology last = last();
            Node n = nodes.get(s.node);
            Replica r = n.self();
            Operation op = last.operation().orElse(null);
            boolean mine = op != null && op.node().equals(n.name);
            boolean departed = last.departed().contains(r.host());
            boolean joined = last.holds(r) && !mine;
            // The operator asks (decommission, remove, abort) until the register reflects the request and one of its
            // requests was answered (done, or refused — a refusal comes after the node asked read the register, so
            // it learned the epoch). A request whose outcome it never heard (the node crashed, the write's outcome
            // was unknown) is asked again: a compare-and-set chosen but learned by nobody is announced by nobody,
            // and TopologyService resumes or spreads only what it holds.
            // (A decommission or removal is finished by its driver, which reads the register again until its FINISH
            // is through: once it is, the operator's part is over.)
            boolean operatorDone = switch (s.kind) {
                case JOIN, WIPE -> true;
                case LEAVE, REMOVE -> departed || (mine && s.answered);
                case ABORT_JOIN -> (departed && s.answered) || joined;
            };
            if (departed && operatorDone) {
                s.done = true;
                if (s.kind == StepKind.JOIN) {
                    violation(Check.OPERATIONS, "the join of " + n.name + " was aborted, yet nobody asked for it");
                }
                if (s.kind == StepKind.LEAVE || s.kind == StepKind.REMOVE) {
                    expected.remove(n.name);
                }
                return;
            }
            if (joined && (s.kind == StepKind.JOIN || s.kind == StepKind.ABORT_JOIN || s.kind == StepKind.WIPE)) {
                s.done = true;
                expected.add(n.name);
                if (s.kind == StepKind.ABORT_JOIN) {
                    violation(Check.OPERATIONS, "the join of " + n.name + " finished although its newcomer was killed");
                }
                return;
            }
            if (operatorDone || loop.now() < s.operatorFreeAt) {
                return;
            }
            switch (s.kind) {
                case JOIN, WIPE -> {
                }
                case LEAVE -> {
                    Topology t = n.topology();
                    if (n.up && t != null && t.holds(r)) {
                        ask(s, n, cur -> cur.startLeave(n.name, n::eligible), "decommission");
                    }
                }
                case REMOVE -> {
                    Node d = operatorNode(s, n, last, true);
                    if (d != null) {
                        ask(s, d, cur -> cur.startRemove(n.name, d.name, d::eligible), "remove " + n.name);
                    }
                }
                case ABORT_JOIN -> {
                    if (n.gone && (mine || departed)) {
                        Node d = operatorNode(s, n, last, false);
                        if (d != null) { // (the register may hold an epoch nobody learned: its driver died at once)
                            ask(s, d, cur -> {
                                if (cur.operation().filter(o -> o.kind() == Operation.Kind.JOIN && o.node().equals(n.name)).isEmpty()) {
                                    throw new TopologyChangeRefused("the operation in progress is not the join of " + n.name);
                                }
                                return cur.abort();
                            }, "abort the join of " + n.name);
                        }
                    }
                }
            }
        }

        /**
         * A live member other than {@code victim} (in an order the step drew); for a removal, one that does not
         * take it for reachable (TopologyService.remove refuses a reachable worker; an abort has no such check).
         * Deviation from main: main's shell takes a worker its gossip never heard of for reachable
         * ({@code ClusterView.reachable}: not in {@code down}), so once every live worker restarted after the
         * victim died, nobody ever sees it down and the removal is refused for good; here a worker unknown to
         * this node's gossip counts as unreachable for that check (see docs/PAXOS.md, findings).
         */
        private Node operatorNode(Step s, Node victim, Topology last, boolean seesItDown) {
            List<Worker> ws = last.workers();
            for (int i = 0; i < ws.size(); i++) {
                Node d = byName.get(ws.get((s.pick + i) % ws.size()).name());
                if (d != victim && d.up && d.topology() != null && d.topology().holds(d.self())
                        && (!seesItDown || d.down.contains(victim.name) || !d.gossipKnows(victim.name))) {
                    return d;
                }
            }
            return null;
        }

        private void ask(Step s, Node at, java.util.function.Function<Topology, Topology> f, String what) {
            s.operatorFreeAt = loop.now() + 2000;
            narrate("operator asks " + at.name + ": " + what);
            s.answered = false;
            boolean[] refused = {false};
            at.transform(cur -> {
                try {
                    return f.apply(cur);
                } catch (TopologyChangeRefused e) {
                    refused[0] = true;
                    throw e;
                }
            }, 0, ok -> {
                narrate("operator: " + what + " at " + at.name + (ok ? " done" : refused[0] ? " refused" : " not done"));
                s.operatorFreeAt = loop.now() + (ok ? 0 : 100);
                s.answered = ok || refused[0];
            });
        }

        // ---- hooks: the crash points ----

        /** A topology with a new operation was committed. */
        void started(Topology t) {
            Step s = running();
            Operation op = t.operation().orElseThrow();
            if (s == null || !s.begun || s.node < 0 || !op.node().equals(nodes.get(s.node).name)) {
                return;
            }
            s.startEpoch = t.epoch();
            if (s.kind == StepKind.ABORT_JOIN && s.crash == CrashPoint.DRIVER_AFTER_START) {
                fire(s, byName.get(op.driver()), true, "newcomer after START");
            } else if (s.kind != StepKind.ABORT_JOIN && s.crash == CrashPoint.DRIVER_AFTER_START) {
                fire(s, byName.get(op.driver()), false, "driver after START");
            }
        }

        /**
         * Is {@code epoch} one of the running step's operation? (An operation can span several epochs: an
         * electorate change begun before it may be finished while it runs, carrying it along.)
         */
        private boolean during(Step s, long epoch) {
            Topology t = chosenTopologies.get(epoch);
            return s != null && s.begun && s.node >= 0 && s.startEpoch >= 0 && t != null
                    && t.operation().filter(o -> o.node().equals(nodes.get(s.node).name)).isPresent();
        }

        void chunkMerged(Node receiver, long epoch) {
            Step s = running();
            if (!during(s, epoch)) {
                return;
            }
            if (s.kind == StepKind.ABORT_JOIN && receiver.index == s.node) {
                fire(s, receiver, true, "newcomer mid-stream");
            } else if (s.crash == CrashPoint.RECEIVER_MID_STREAM) {
                fire(s, receiver, false, "receiver mid-stream");
            }
        }

        void pullServed(Node source, long epoch) {
            Step s = running();
            if (during(s, epoch) && s.crash == CrashPoint.SOURCE_MID_STREAM && s.kind != StepKind.ABORT_JOIN) {
                fire(s, source, false, "source mid-stream");
            }
        }

        /** The driver's copies are done (or skipped) and it is about to commit FINISH. */
        void beforeFinish(Node driver, long epoch) {
            Step s = running();
            if (during(s, epoch) && s.kind == StepKind.ABORT_JOIN && driver.index == s.node) {
                fire(s, driver, true, "newcomer before FINISH");
            }
        }

        private void fire(Step s, Node n, boolean forGood, String why) {
            if (s.crashFired) {
                return;
            }
            s.crashFired = true;
            if (forGood) {
                stats.scriptedCrashes++;
                kill(n, why);
            } else {
                crashScripted(n, s.crashDown, why);
            }
        }
    }

    // ---- the network -------------------------------------------------------------------------------

    /** One message from {@code from} to {@code to}: lost, delayed, reordered, duplicated as the seed says. */
    private void send(Node from, Node to, String tag, boolean duplicable, Consumer<Node> deliver) {
        if (!from.up) {
            return; // the sender crashed earlier in this event (a crash point): nothing more leaves it
        }
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
        chosenTopologies.put(t.epoch(), t);
        stats.epochs = (int) Math.max(stats.epochs, t.epoch());
        Topology prev = committed.get(t.epoch() - 1);
        boolean opStarted = t.operation().isPresent() && (prev == null || prev.operation().isEmpty());
        if (prev != null) {
            Operation op = prev.operation().orElse(null);
            if (opStarted) {
                stats.opStarts++;
            } else if (op != null && t.operation().isEmpty()) {
                boolean finished = t.workers().equals(prev.targetWorkers());
                if (!finished) {
                    stats.aborts++;
                } else if (op.kind() == Operation.Kind.JOIN) {
                    stats.joins++;
                    if (!ackedMax.isEmpty()) {
                        stats.joinsWithData++;
                    }
                } else if (op.kind() == Operation.Kind.LEAVE) {
                    stats.leaves++;
                } else {
                    stats.removes++;
                }
                handover(prev, t);
            } else {
                stats.electorateSteps++;
            }
        }
        trace.add("committed", t.epoch(), t.workers().size());
        if (t.electorate().current().size() > Topology.ELECTORATE_SIZE || t.electorate().next().size() > Topology.ELECTORATE_SIZE) {
            violation(Check.ELECTORATE, "epoch " + t.epoch() + " grows the register's electorate beyond "
                    + Topology.ELECTORATE_SIZE + ": " + t + " (" + where + ")");
        }
        narrate("COMMITTED " + t + " (" + where + ")");
        if (opStarted) {
            script.started(t);
        }
        // the barrier of the epoch before: its holders must block the quorums it retired
        Topology p1 = committed.get(t.epoch() - 1), p2 = committed.get(t.epoch() - 2);
        if (p1 != null && p2 != null && !Barrier.passed(p2, p1, holders(p1.epoch()))) {
            violation(Check.BARRIER, "epoch " + t.epoch() + " committed while the holders of epoch " + p1.epoch() + " "
                    + holders(p1.epoch()) + " do not block the quorums it retired (" + p2 + " -> " + p1 + ")");
        }
    }

    /**
     * I5, handover completeness (TOPOLOGY.md §10), when the operation of {@code start} ends with {@code end}
     * (FINISH, or an abort): for every data key the operation moved, every quorum of its natural replicas
     * at {@code end} contains an acceptor whose committed or accepted ballot is at least the highest ballot
     * chosen on the key so far (durable state: what the stores hold now).
     */
    private void handover(Topology start, Topology end) {
        for (String key : tracked) {
            long tok = token(key);
            if (!start.placement(tok).moving()) {
                continue;
            }
            PaxosSafety.Id chosen = safety.highestChosen(key);
            if (chosen == null) {
                continue;
            }
            stats.handoverChecks++;
            List<Replica> natural = end.placement(tok).natural();
            Set<String> holders = new TreeSet<>();
            for (Replica r : natural) {
                KeyState st = byName.get(r.name()).store.keys.get(key);
                if (st != null && ((st.committed() != null && PaxosSafety.Id.of(st.committed()).compareTo(chosen) >= 0)
                        || (st.accepted() != null && PaxosSafety.Id.of(st.accepted()).compareTo(chosen) >= 0))) {
                    holders.add(r.name());
                }
            }
            Quorum q = Quorum.majority(Placement.names(natural));
            if (!q.blockedBy(holders)) {
                violation(Check.HANDOVER, "epoch " + end.epoch() + " ends " + start.operation().orElseThrow() + ": "
                        + key + "'s replicas are " + Placement.names(natural) + ", but only " + holders
                        + " hold the chosen proposal " + chosen.token() + " or a later one (moved from "
                        + Placement.names(start.placement(tok).natural()) + " to " + Placement.names(start.placement(tok).next()) + ")");
            }
        }
    }

    /**
     * The quorum system a proposal on {@code key} is chosen by, for a proposer at {@code epoch}: the key's
     * placement at that epoch (the real one, whatever a broken variant's coordinator counts), at QUORUM
     * — a majority of the natural replicas, or joint while the key moves. ALL quorums are QUORUM quorums.
     */
    private Quorum ghostQuorum(long epoch, String key) {
        Topology t = chosenTopologies.get(epoch);
        if (t == null) {
            throw new IllegalStateException("harness: a route at epoch " + epoch + ", which was never chosen");
        }
        return t.placement(token(key)).quorum(false);
    }

    private StreamPlan plan(Topology t) {
        return plans.computeIfAbsent(t, StreamPlan::of);
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
        /** Ghost (not the node's): per key, the newest epoch a Paxos request on it carried to this store (I6). */
        final Map<String, Long> requestEpochs = new HashMap<>();
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

    /** A cleanup's deletion of one row, decided on the writer (StreamService.cleanupPage's {@code store.update}). */
    private record CleanupTask(String key, Consumer<Boolean> done) implements Task {
    }

    /** A streamed row merged into the store ({@code KeyState.merge}, as StreamService's {@code store.update}). */
    private record MergeTask(String key, KeyState row, Runnable done) implements Task {
    }

    /** A receiver's copy for one START epoch (StreamService's {@code runs}): volatile. */
    static final class Run {
        boolean finished, failed;
        String why = "";
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
        /** Started once (a newcomer starts when the script says so); stopped for good; died for good (its store is lost). */
        boolean started, gone, dead;
        /** Epochs whose barrier this node saw pass (TopologyService.barrierPassed): volatile. */
        final Set<Long> barrierPassed = new HashSet<>();
        /** This receiver's copies by START epoch: volatile. */
        final Map<Long, Run> runs = new TreeMap<>();
        /** As the real coordinator: requests on one key run one after another on a node, in {@link KeyQueue}'s order. */
        KeyQueue<Flight> keyQueues = new KeyQueue<>(true);
        /** The coordinator's terms (in memory, as in the real coordinator: a crash loses them). */
        Terms terms = newTerms();
        final List<Flight> flights = new ArrayList<>();
        /** Client writes this node forwarded and has no answer for yet (a crash leaves their outcome unknown). */
        final List<Forwarded> forwarding = new ArrayList<>();
        /** StreamService's cleanedEpoch and cleaning, ReplicaService's newestRequestEpoch: volatile. */
        long cleanedEpoch, newestRequestEpoch;
        boolean cleaning;
        /** TopologyService.askForReplacement's replaceSince / replaceNotBefore / busy: volatile (-1: not yet). */
        long replaceSince = -1, replaceNotBefore;
        /** TopologyService.rounds: gossip rounds since this start (volatile). */
        long rounds;
        boolean replacing;
        int wipes;

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

        /** This node's gossip has an entry for {@code name} (heard of it since it started). */
        boolean gossipKnows(String name) {
            for (Member m : gossiper.members(loop.now())) {
                if (m.id().equals(name)) {
                    return true;
                }
            }
            return false;
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
            if (first && started) {
                return;
            }
            if (first && index == setupCrashNode) {
                loop.after(setupCrashAt, () -> ClusterSim.this.crash(this, setupCrashDown));
            }
            started = true;
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
            barrierPassed.clear();
            runs.clear();
            cleanedEpoch = 0;
            newestRequestEpoch = 0;
            cleaning = false;
            replaceSince = -1;
            replaceNotBefore = 0;
            rounds = 0;
            replacing = false;
            keyQueues = new KeyQueue<>(true);
            terms = newTerms();
            List<Flight> lost = new ArrayList<>(flights);
            flights.clear();
            for (Flight f : lost) {
                f.lost();
            }
            List<Forwarded> unanswered = new ArrayList<>(forwarding);
            forwarding.clear();
            for (Forwarded f : unanswered) {
                f.end(null);
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
            if (t != null && ++rounds % REGISTER_READ_EVERY_ROUNDS == 0) {
                readRegister(); // an epoch chosen but never installed (its driver crashed) is found this way
            }
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

        /** TopologyService.readRegister (since 03b275e): read the register at QUORUM and learn its value. */
        void readRegister() {
            if (fetching) {
                return;
            }
            Routing.Routed r = registerRoute();
            if (!(r instanceof Routing.Route route)) {
                return;
            }
            fetching = true;
            int inc = incarnation;
            coordinate(REGISTER, -1, new Coordination.Request.Read(), ConsistencyLevel.QUORUM, route, this::registerRoute, res -> {
                if (incarnation != inc) {
                    return;
                }
                if (res instanceof Result.Read read && read.committed() != null && !read.committed().isTombstone()) {
                    learn(TopologyCodec.decode(read.committed().value()), x -> {
                        if (incarnation == inc) {
                            fetching = false;
                        }
                    });
                } else {
                    fetching = false;
                }
            });
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
            if (!up) {
                return; // (a crash point inside an event: the rest of it runs in a dead process)
            }
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
                } else if (task instanceof CleanupTask ct) {
                    KeyState current = overlay.getOrDefault(ct.key(), store.keys.getOrDefault(ct.key(), KeyState.EMPTY));
                    boolean drop = current != KeyState.EMPTY && !current.equals(KeyState.EMPTY) && dropOnCleanup(staged, ct.key());
                    if (drop) {
                        noAmnesia(staged, ct.key());
                        overlay.put(ct.key(), KeyState.EMPTY);
                        String key = ct.key();
                        releases.add(() -> safety.forgotten(name, key));
                    }
                    releases.add(() -> ct.done().accept(drop));
                } else if (task instanceof MergeTask mt) {
                    KeyState current = overlay.getOrDefault(mt.key(), store.keys.getOrDefault(mt.key(), KeyState.EMPTY));
                    KeyState merged;
                    try {
                        merged = KeyState.merge(current, mt.row());
                    } catch (KeyState.CorruptStateException e) {
                        violation(Check.EXCEPTION, name + " merging a streamed row of " + mt.key() + ": " + e.getMessage());
                        merged = current;
                    }
                    if (!merged.equals(current)) {
                        overlay.put(mt.key(), merged);
                        if (tracked.contains(mt.key())) {
                            safety.transition(name, mt.key(), current, merged);
                        }
                    }
                    releases.add(mt.done());
                } else {
                    PaxosTask pt = (PaxosTask) task;
                    String key = pt.request().key();
                    KeyState current = overlay.getOrDefault(key, store.keys.getOrDefault(key, KeyState.EMPTY));
                    FencedAcceptor.Decision d = decide(staged, pt, current);
                    boolean tracked = ClusterSim.this.tracked.contains(key);
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
                    if (e.getValue().equals(KeyState.EMPTY)) {
                        store.keys.remove(e.getKey()); // a cleanup's deletion
                        continue;
                    }
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
            newestRequestEpoch = Math.max(newestRequestEpoch, epoch); // before the update is queued (ReplicaService.handle)
            store.requestEpochs.merge(req.key(), epoch, Math::max);
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

        // ---- a wiped store (TopologyService.askForReplacement / replaceRequested) ----

        /**
         * The operator wipes this worker's store and restarts it under its name: a new host id, nothing else
         * ({@link Variant#WIPED_NODE_KEEPS_IDENTITY}: the old host id).
         */
        void wipe() {
            narrate("WIPE " + name + " (host " + store.host + ")");
            trace.add("wipe", index);
            if (up) {
                stats.crashes++;
                crash();
            }
            stats.wipes++;
            wipedStores.add(new TreeMap<>(store.keys));
            store.keys.clear();
            store.topology = null;
            store.installed.clear();
            store.requestEpochs.clear();
            store.clock = new BallotClock(name, 0);
            if (variant != Variant.WIPED_NODE_KEEPS_IDENTITY) {
                store.host = new HostId(new UUID(seed, 0x1000L * ++wipes + index + 1));
                safety.forgotten(name); // a new acceptor: the old host's acknowledgements are not expected of it
            }
        }

        /** TopologyService.askForReplacement: after the failure time-out, ask a live member to remove the old host. */
        void askForReplacement(Topology t, Worker old) {
            long now = loop.now();
            if (replaceSince < 0) {
                replaceSince = now;
            }
            if (t.operation().isPresent() || now - replaceSince < REPLACE_AFTER_MS || now < replaceNotBefore || replacing) {
                return;
            }
            Worker member = Reachability.replacementHelper(t, old, down).orElse(null);
            if (member == null) {
                return;
            }
            replacing = true;
            replaceNotBefore = now + REPLACE_RETRY_MS;
            int inc = incarnation;
            narrate(name + " (host " + store.host + ") asks " + member.name() + " to remove " + old.name() + " (host " + old.host() + ")");
            ClusterSim.this.<String>rpc(this, byName.get(member.name()), "replace", true, 4 * PHASE_TIMEOUT_MS,
                    (target, answer) -> target.onReplace(old.host(), answer), said -> {
                        narrate(name + ": asked to remove " + old.name() + ": " + said);
                        if (incarnation == inc) {
                            replacing = false;
                        }
                    });
        }

        /** REPLACE (TopologyService.replaceRequested, then remove): remove the old host of a wiped store's name. */
        void onReplace(HostId oldHost, Consumer<String> reply) {
            if (!worker) {
                return;
            }
            Topology t = store.topology;
            Worker old = t == null ? null : t.workerWithHost(oldHost).orElse(null);
            if (old == null) {
                reply.accept("host " + oldHost + " is no member of epoch " + (t == null ? 0 : t.epoch()));
                return;
            }
            String victim = old.name();
            if (victim.equals(name) || heardAlive(victim)) {
                reply.accept("removal of " + victim + " not started: it is reachable (or this worker)");
                return;
            }
            transform(cur -> cur.startRemove(victim, name, this::eligible), 0,
                    ok -> reply.accept("removal of " + victim + (ok ? " started" : " not started")));
        }

        /** The shell's rule (Reachability.heardAlive) on this node's gossip view. */
        boolean heardAlive(String who) {
            return Reachability.heardAlive(who, gossiper.members(loop.now()), down);
        }

        // ---- cleanup (StreamService.cleanupIfDue / cleanupPage) ----

        /** The shell's rule (Reachability.upToDate) on this node's gossip view. */
        boolean upToDate(Topology t) {
            return Reachability.upToDate(t, name, gossiper.members(loop.now()), down);
        }

        /** This worker is natural or pending for {@code token} at {@code t} (StreamService.mine). */
        boolean mine(Topology t, long token) {
            Placement p = t.placement(token);
            List<Replica> rs = variant == Variant.EARLY_CLEANUP ? p.next() : p.replicas();
            for (Replica r : rs) {
                if (r.name().equals(name)) {
                    return true;
                }
            }
            return false;
        }

        /** The decision on the writer, against the topology held then (StreamService.cleanupPage's update). */
        boolean dropOnCleanup(Topology now, String key) {
            if (now == null || key.startsWith("\u0000")) {
                return false;
            }
            if (variant == Variant.EARLY_CLEANUP) {
                return !mine(now, token(key)); // the broken variant: under an operation, no request-epoch guard
            }
            return now.mayDropRow(name, token(key), newestRequestEpoch); // the shell's decision (Topology.mayDropRow)
        }

        /**
         * I6, no amnesia (TOPOLOGY.md §10): a deletion of {@code key}'s row, decided against {@code held}, must not
         * come while this acceptor is natural or pending for the key at an epoch it knows: the one it holds, or
         * any chosen one up to the newest a request on the key carried to it.
         */
        void noAmnesia(Topology held, String key) {
            long tok = token(key);
            long known = Math.max(held.epoch(), store.requestEpochs.getOrDefault(key, 0L));
            for (long e = held.epoch(); e <= known; e++) {
                Topology t = e == held.epoch() ? held : chosenTopologies.get(e);
                if (t == null) {
                    continue;
                }
                for (Replica r : t.placement(tok).replicas()) {
                    if (r.name().equals(name)) {
                        violation(Check.NO_AMNESIA, name + " deleted its row of " + printable(key) + " holding epoch "
                                + held.epoch() + ", but it is " + (t.placement(tok).natural().contains(r) ? "natural" : "pending")
                                + " for it at epoch " + e + " (a request on it carried epoch "
                                + store.requestEpochs.getOrDefault(key, 0L) + ")");
                        return;
                    }
                }
            }
        }

        /** StreamService.cleanupIfDue: once per epoch with no operation, the rows of ranges this worker no longer replicates. */
        void cleanupIfDue(Topology t) {
            if (!worker || (variant != Variant.EARLY_CLEANUP && t.operation().isPresent()) || t.epoch() <= cleanedEpoch || cleaning) {
                return;
            }
            cleaning = true;
            int inc = incarnation;
            cleanupPage(t, null, inc);
        }

        void cleanupPage(Topology t, String after, int inc) {
            if (!up || incarnation != inc) {
                return;
            }
            List<String> page = new ArrayList<>();
            boolean more = false;
            for (String key : (after == null ? store.keys : store.keys.tailMap(after, false)).keySet()) {
                if (key.startsWith("\u0000")) {
                    continue;
                }
                if (page.size() == CLEANUP_PAGE_ROWS) {
                    more = true;
                    break;
                }
                page.add(key);
            }
            List<String> gone = new ArrayList<>();
            for (String key : page) {
                if (!mine(t, token(key))) {
                    gone.add(key);
                }
            }
            boolean last = !more || page.isEmpty();
            String next = page.isEmpty() ? null : page.get(page.size() - 1);
            Runnable then = () -> {
                if (!up || incarnation != inc) {
                    return;
                }
                if (last) {
                    cleaning = false;
                    cleanedEpoch = t.epoch();
                    stats.cleanups++;
                } else {
                    cleanupPage(t, next, inc);
                }
            };
            if (gone.isEmpty()) {
                then.run();
                return;
            }
            int[] left = {gone.size()};
            for (String key : gone) {
                enqueue(new CleanupTask(key, dropped -> {
                    if (dropped) {
                        stats.rowsCleaned++;
                    } else {
                        stats.cleanupKept++;
                    }
                    if (--left[0] == 0) {
                        then.run();
                    }
                }));
            }
        }

        // ---- the topology driver (TopologyService.advanceMembership / transform / barrier) ----

        /** A worker this node can reach (itself included), as TopologyService.eligible. */
        boolean eligible(Replica r) {
            return r.equals(self()) || !down.contains(r.name());
        }

        void advanceMembership(Topology t) {
            Replica me = self();
            Operation op = t.operation().orElse(null);
            if (variant == Variant.EARLY_CLEANUP && upToDate(t)) {
                cleanupIfDue(t); // the broken variant: under an operation too
            }
            if (op != null) {
                // TopologyService.advanceMembership: the operation's driver moves it on; nothing else changes meanwhile
                if (op.driver().equals(name) && (t.holds(me) || t.isJoining(me))) {
                    drive(t, op);
                }
                return;
            }
            if (variant != Variant.EARLY_CLEANUP && upToDate(t)) {
                cleanupIfDue(t); // rows of ranges this worker no longer replicates (TopologyService.advanceMembership)
            }
            if (t.departed().contains(store.host)) {
                return;
            }
            Function<Topology, Topology> step;
            if (!t.holds(me)) {
                Worker existing = t.worker(name).orElse(null);
                if (existing != null) {
                    askForReplacement(t, existing); // a wiped store under a name the topology holds with another host
                    return;
                }
                step = cur -> cur.startJoin(new Worker(name, store.host, endpoint, 8080, cur.allocateTokens(name, TOKENS, offset())));
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

        /**
         * TopologyService.drive: pass the START epoch's barrier, have every receiver copy its ranges
         * (StreamService.awaitReceivers), then commit FINISH if the register still holds the START epoch.
         * Any failure ends this attempt; the next gossip round starts it again (a restarted driver too: the
         * operation stays in the register).
         */
        void drive(Topology t, Operation op) {
            driving = true;
            int inc = incarnation;
            narrate(name + " drives " + op + " at epoch " + t.epoch() + ": receivers " + plan(t).receivers());
            Consumer<Boolean> end = ok -> {
                narrate(name + " drive of " + op + " at epoch " + t.epoch() + (ok ? " finished" : " not finished yet"));
                if (incarnation == inc) {
                    driving = false;
                    Topology now = store.topology;
                    if (ok && worker && now != null && now.departed().contains(store.host)) {
                        // a decommissioned worker exits once its FINISH and that epoch's barrier are through (after a
                        // crash before that, it runs on as TopologyService does: passive, gossiping its epoch)
                        loop.after(0, () -> {
                            if (incarnation == inc) {
                                kill(this, "left the cluster at epoch " + now.epoch(), false);
                            }
                        });
                    }
                }
            };
            barrier(t, false, passed -> {
                if (!passed) {
                    end.accept(false);
                    return;
                }
                Runnable finish = () -> {
                    script.beforeFinish(this, t.epoch());
                    if (!up || incarnation != inc) {
                        return;
                    }
                    transform(cur -> {
                        if (cur.epoch() != t.epoch()) {
                            throw new TopologyChangeRefused("the topology moved from epoch " + t.epoch() + " to " + cur.epoch()
                                    + " while " + op + " was streaming");
                        }
                        return cur.finish();
                    }, 0, end);
                };
                if (variant == Variant.NO_STREAM) {
                    finish.run(); // the broken variant: FINISH right after START's barrier, nothing copied
                    return;
                }
                awaitReceivers(t, inc, ok -> {
                    if (ok) {
                        finish.run();
                    } else {
                        end.accept(false);
                    }
                });
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
                                narrate(name + ": topology change refused: " + e.getMessage());
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
                                            // chosen (a quorum accepted it) and acknowledged: since Step 8 this can come
                                            // before any replica applies its commit, so the ghost and the script's crash
                                            // points learn of it here, as the driver does, not only when a commit lands
                                            chosenTopologies.putIfAbsent(next.epoch(), next);
                                            topologyCommitted(next, name + ", its compare-and-set acknowledged");
                                            learn(next, x -> {
                                                if (variant == Variant.NO_BARRIER) {
                                                    barrierReported.add(next.epoch());
                                                    done.accept(true);
                                                } else {
                                                    barrier(next, true, done);
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
         * holders of {@code cur} must block the quorums it retired (they travel in {@code cur}).
         * Not in main's TopologyService as of a0937e4 ({@link Variant#SHELL_AS_IS}).
         */
        void barrierBefore(Topology cur, Consumer<Boolean> then) {
            if (variant == Variant.SHELL_AS_IS || variant == Variant.NO_BARRIER) {
                then.accept(true);
                return;
            }
            barrier(cur, false, then);
        }

        Routing.Routed registerRoute() {
            Topology t = topology();
            if (t == null) {
                return new Routing.Refused(new Result.NotReady("no topology"));
            }
            return Routing.register(t, self(), down);
        }

        /**
         * TopologyService.barrier: push {@code t} to its workers and its newcomer until those holding it durably
         * block every quorum system it retired; with {@code grace}, then wait a while for the other reachable ones.
         * Without grace, an epoch this node saw pass (or one that retired nothing) passes at once.
         */
        void barrier(Topology t, boolean grace, Consumer<Boolean> done) {
            if (!grace && (barrierPassed.contains(t.epoch()) || t.retired().isEmpty() || variant == Variant.NO_BARRIER)) {
                done.accept(true);
                return;
            }
            Set<String> targets = new TreeSet<>();
            for (Worker w : t.workers()) {
                targets.add(w.name());
            }
            for (Worker w : t.targetWorkers()) { // a joiner is pending before it is a member
                targets.add(w.name());
            }
            int inc = incarnation;
            pushRound(t, targets, new TreeSet<>(), acked -> Barrier.passed(t, acked), grace, loop.now(), inc, ok -> {
                if (ok && incarnation == inc) {
                    barrierPassed.add(t.epoch());
                }
                done.accept(ok);
            });
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

        // ---- streaming (StreamService) ----

        /** StreamService.awaitReceivers: ask every receiver of {@code t}'s plan to copy; done(true) once all report it done. */
        void awaitReceivers(Topology t, int inc, Consumer<Boolean> done) {
            List<String> receivers = plan(t).receivers();
            if (receivers.isEmpty()) {
                done.accept(true);
                return;
            }
            int[] left = {receivers.size()};
            boolean[] over = {false};
            for (String r : receivers) {
                poll(t, r, inc, ok -> {
                    if (over[0]) {
                        return;
                    }
                    if (!ok) {
                        over[0] = true;
                        done.accept(false);
                    } else if (--left[0] == 0) {
                        over[0] = true;
                        done.accept(true);
                    }
                });
            }
        }

        /** StreamService.poll: RUN at the receiver until it says DONE; fails once this node holds a later epoch. */
        void poll(Topology t, String receiver, int inc, Consumer<Boolean> done) {
            if (!up || incarnation != inc) {
                return;
            }
            Topology mine = topology();
            if (mine != null && mine.epoch() > t.epoch()) {
                done.accept(false);
                return;
            }
            Consumer<String> onStatus = st -> {
                if (!up || incarnation != inc) {
                    return;
                }
                if ("DONE".equals(st)) {
                    done.accept(true);
                    return;
                }
                loop.after(st == null || st.startsWith("FAILED") ? 2 * POLL_MS : POLL_MS, () -> poll(t, receiver, inc, done));
            };
            if (receiver.equals(name)) {
                onRun(t, onStatus);
            } else {
                ClusterSim.this.<String>rpc(this, byName.get(receiver), "run", true, PHASE_TIMEOUT_MS,
                        (target, answer) -> target.onRun(t, answer), onStatus);
            }
        }

        /** RUN (StreamService.status): learn {@code t}; start this receiver's copy unless it runs; say how it stands. */
        void onRun(Topology t, Consumer<String> reply) {
            if (!worker) {
                return;
            }
            learn(t, held -> {
                if (held == null || held.epoch() != t.epoch()) {
                    reply.accept("FAILED: this worker holds epoch " + (held == null ? 0 : held.epoch()));
                    return;
                }
                Run run = runs.get(t.epoch());
                if (run == null) {
                    run = new Run();
                    runs.put(t.epoch(), run);
                    copy(t, run);
                }
                if (!run.finished) {
                    reply.accept("RUNNING");
                } else if (run.failed) {
                    runs.remove(t.epoch()); // the next ask starts it again
                    reply.accept("FAILED: " + run.why);
                } else {
                    reply.accept("DONE");
                }
            });
        }

        /** StreamService.copy: every transfer of the plan to this worker, one after the other. */
        void copy(Topology t, Run run) {
            stats.copies++;
            List<StreamPlan.Transfer> mine = new ArrayList<>(plan(t).to(name));
            if (variant == Variant.STREAM_FROM_ANY_ONE_REPLICA) {
                // the broken variant (CASSANDRA-2434): one arbitrary old replica of the ranges as the only source
                for (int i = 0; i < mine.size(); i++) {
                    StreamPlan.Transfer tr = mine.get(i);
                    List<String> old = new ArrayList<>();
                    for (StreamPlan.Sources o : tr.options()) {
                        for (String from : o.from()) {
                            if (!old.contains(from)) {
                                old.add(from);
                            }
                        }
                    }
                    String one = old.get(random.nextInt(old.size()));
                    mine.set(i, new StreamPlan.Transfer(tr.receiver(), tr.ranges(), List.of(new StreamPlan.Sources(List.of(one), 1))));
                }
            }
            narrate(name + " copies for epoch " + t.epoch() + ": " + mine.size() + " transfer(s) " + mine);
            int inc = incarnation;
            transfer(t, mine, 0, inc, why -> {
                if (!up || incarnation != inc) {
                    return;
                }
                run.finished = true;
                run.failed = why != null;
                run.why = why == null ? "" : why;
                narrate(name + " copy for epoch " + t.epoch() + (why == null ? " done" : " failed: " + why));
                if (why == null) {
                    script.chunkMerged(this, t.epoch()); // a copy with no rows still ends before FINISH
                }
            });
        }

        private void transfer(Topology t, List<StreamPlan.Transfer> mine, int i, int inc, Consumer<String> done) {
            if (i == mine.size()) {
                done.accept(null);
                return;
            }
            option(t, mine.get(i), 0, "no option tried", inc, why -> {
                if (why != null) {
                    done.accept(why);
                } else {
                    transfer(t, mine, i + 1, inc, done);
                }
            });
        }

        /** The transfer's options in order: the first whose needed sources can all be copied completely. */
        private void option(Topology t, StreamPlan.Transfer tr, int i, String why, int inc, Consumer<String> done) {
            if (i >= tr.options().size()) {
                done.accept("no source option could be completed (" + tr.options() + "): " + why);
                return;
            }
            StreamPlan.Sources s = tr.options().get(i);
            List<String> candidates = new ArrayList<>();
            for (String n : s.from()) { // reachable ones first
                if (!down.contains(n)) {
                    candidates.add(n);
                }
            }
            for (String n : s.from()) {
                if (!candidates.contains(n)) {
                    candidates.add(n);
                }
            }
            sources(t, tr, candidates, 0, s.needed(), "", inc, w -> {
                if (w == null) {
                    done.accept(null);
                } else {
                    option(t, tr, i + 1, w, inc, done);
                }
            });
        }

        private void sources(Topology t, StreamPlan.Transfer tr, List<String> candidates, int next, int needed, String failures,
                             int inc, Consumer<String> done) {
            if (needed == 0) {
                done.accept(null);
                return;
            }
            if (candidates.size() - next < needed) {
                done.accept("too few sources could be copied from" + failures);
                return;
            }
            String source = candidates.get(next);
            pull(t, tr, source, null, 0, inc, why -> {
                if (why == null) {
                    sources(t, tr, candidates, next + 1, needed - 1, failures, inc, done);
                } else {
                    stats.sourceSwitches++;
                    sources(t, tr, candidates, next + 1, needed, failures + "; " + source + ": " + why, inc, done);
                }
            });
        }

        /** Every chunk after {@code after} from {@code source}, each merged (durably) before the next is asked. */
        private void pull(Topology t, StreamPlan.Transfer tr, String source, String after, int attempt, int inc,
                          Consumer<String> done) {
            Worker w = t.worker(source).orElse(null);
            if (w == null) {
                done.accept(source + " is not in epoch " + t.epoch());
                return;
            }
            ClusterSim.this.<Object[]>rpc(this, byName.get(source), "pull", true, PHASE_TIMEOUT_MS,
                    (target, answer) -> target.onPull(t.epoch(), w.host(), tr, after, answer),
                    page -> {
                        if (page == null || page.length == 1) {
                            if (attempt + 1 >= CHUNK_ATTEMPTS_MAX) {
                                done.accept("chunk after " + (after == null ? "the start" : after) + " failed " + (attempt + 1)
                                        + " time(s)" + (page == null ? "" : ": " + page[0]));
                                return;
                            }
                            loop.after(RETRY_PAUSE_MS, () -> {
                                if (up && incarnation == inc) {
                                    pull(t, tr, source, after, attempt + 1, inc, done);
                                }
                            });
                            return;
                        }
                        @SuppressWarnings("unchecked") List<Map.Entry<String, KeyState>> rows = (List<Map.Entry<String, KeyState>>) page[0];
                        boolean more = (Boolean) page[1];
                        mergeRows(rows, () -> {
                            if (!rows.isEmpty()) {
                                script.chunkMerged(this, t.epoch());
                            }
                            if (!up || incarnation != inc) {
                                return;
                            }
                            if (!more || rows.isEmpty()) {
                                done.accept(null);
                            } else {
                                pull(t, tr, source, rows.get(rows.size() - 1).getKey(), 0, inc, done);
                            }
                        });
                    });
        }

        /** StreamService.merge: each row through the writer queue; {@code then} once all are durable. */
        private void mergeRows(List<Map.Entry<String, KeyState>> rows, Runnable then) {
            if (rows.isEmpty()) {
                then.run();
                return;
            }
            int[] left = {rows.size()};
            for (Map.Entry<String, KeyState> row : rows) {
                enqueue(new MergeTask(row.getKey(), row.getValue(), () -> {
                    stats.rowsStreamed++;
                    if (--left[0] == 0) {
                        then.run();
                    }
                }));
            }
        }

        /**
         * PULL (StreamService.serve): the durable rows of the transfer's ranges after {@code after}, smallest
         * keys first, at most a chunk; the topology register is never streamed. Answers {@code {rows, more}},
         * or {@code {why}} when this store is not the source asked for.
         */
        void onPull(long epoch, HostId source, StreamPlan.Transfer tr, String after, Consumer<Object[]> reply) {
            if (!worker) {
                return;
            }
            if (!store.host.equals(source)) {
                reply.accept(new Object[]{"this store is host " + store.host + ", not " + source});
                return;
            }
            List<Map.Entry<String, KeyState>> rows = new ArrayList<>();
            boolean more = false;
            for (Map.Entry<String, KeyState> e : (after == null ? store.keys : store.keys.tailMap(after, false)).entrySet()) {
                if (e.getKey().startsWith("\u0000") || !tr.covers(token(e.getKey()))) {
                    continue;
                }
                if (rows.size() == chunkRows) {
                    more = true;
                    break;
                }
                KeyState row = e.getValue();
                if (row.accepted() != null && row.accepted().isAfter(row.committed())) {
                    stats.inFlightRowsServed++;
                }
                if (row.accepted() == null && row.committed() == null) {
                    stats.promiseOnlyRowsServed++;
                }
                if (variant == Variant.SKIP_TOMBSTONES && row.committed() != null && row.committed().isTombstone()) {
                    continue; // the broken variant: a deleted key's row is not streamed
                }
                if (variant == Variant.STREAM_COMMITTED_ONLY) {
                    // the broken variant: the committed value alone, without the accepted proposal and the promise
                    row = row.committed() == null ? KeyState.EMPTY : new KeyState(null, null, row.committed());
                }
                rows.add(Map.entry(e.getKey(), row));
            }
            stats.chunks++;
            reply.accept(new Object[]{List.copyOf(rows), more});
            script.pullServed(this, epoch);
        }

        // ---- the coordinator shell (Coordinator.run / Flight / send) ----

        Routing.Routed routeKey(String key, ConsistencyLevel level) {
            Topology t = topology();
            if (variant == Variant.RF_CAPPED_BY_LOCAL_VIEW && t != null) {
                return cappedRoute(t, key, level);
            }
            Routing.Routed r = Routing.key(t, self(), down, token(key), level, "no topology yet");
            if (variant == Variant.COUNT_PENDING_AS_NATURAL && r instanceof Routing.Route rt && level == ConsistencyLevel.QUORUM) {
                // the broken variant: while the key moves, a majority of the new set alone is taken for a quorum
                Placement p = t.placement(token(key));
                if (p.moving()) {
                    return new Routing.Route(rt.epoch(), rt.replicas(), rt.asked(), Quorum.majority(Placement.names(p.next())),
                            rt.localOnly(), rt.pending(), rt.leaving());
                }
            }
            return r;
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

        /** Terms checked against this node's own store, as the real coordinator checks its store's. */
        Terms newTerms() {
            return new Terms(64, worker ? name : null, key -> {
                KeyState st = worker && up ? store.keys.get(key) : null;
                return st == null ? null : st.promised();
            });
        }

        /** Runs one request: Paxos levels serialized per key on this node, as the Coordinator does. */
        void coordinate(String key, int origin, Coordination.Request request, ConsistencyLevel level, Routing.Route route,
                        java.util.function.Supplier<Routing.Routed> reroute, Consumer<Result> done) {
            Coordination c = new Coordination(key, request, level, route, RETRY, this::nextBallot, random.split(),
                    loop.now() + OP_DEADLINE_MS, terms);
            Flight f = new Flight(this, c, reroute, done, origin, level != ConsistencyLevel.ONE && tracked.contains(key));
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
        private Proposal ownProposal;
        /** This request's write in a term, if it made one. */
        private Proposal termProposal;

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
            } else if (r instanceof PaxosMessage.Propose p && !preparing && ownProposal == null
                    && c.proposer() != null && c.proposer().startedIn() != null) {
                // a write in this node's term, without a prepare: judged against the term's last write
                attempt = null;
                ownProposal = p.proposal();
                termProposal = p.proposal();
                stats.termWrites++;
                safety.proposed(c.key(), p.proposal(), origin, c.proposer().startedIn().last(),
                        ghostQuorum(c.route().epoch(), c.key()));
            }
        }

        void register(Proposal p) {
            Proposal newestCommit = null;
            for (PaxosMessage.Promised pm : promises.values()) {
                if (pm.committed() != null && pm.committed().isAfter(newestCommit)) {
                    newestCommit = pm.committed();
                }
            }
            if (c.proposer().proposesOwn() && termProposal != null && p.version().equals(termProposal.version())) {
                // a recovering attempt finishes this request's earlier write in a term
                ownProposal = p;
                safety.reproposed(c.key(), p, termProposal, ghostQuorum(c.route().epoch(), c.key()));
                return;
            }
            if (c.proposer().proposesOwn()) {
                ownProposal = p;
                safety.proposed(c.key(), p, origin, newestCommit, ghostQuorum(c.route().epoch(), c.key()));
                return;
            }
            Proposal inFlight = null;
            for (PaxosMessage.Promised pm : promises.values()) {
                Proposal a = pm.accepted();
                if (a != null && a.isAfter(newestCommit) && a.isAfter(inFlight)) {
                    inFlight = a;
                }
            }
            if (inFlight == null || !java.util.Arrays.equals(inFlight.value(), p.value())) {
                violation(Check.EXCEPTION, "harness: re-proposal " + p.ballot().token() + " matches no in-flight proposal");
            } else {
                safety.reproposed(c.key(), p, inFlight, ghostQuorum(c.route().epoch(), c.key()));
            }
        }

        /** The attempt ended with nothing of it written (restart or refresh): its proposal must never be chosen. */
        void abandon() {
            preparing = false;
            if (tracked && ownProposal != null && !c.recovering()) {
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
            if (commitCrashesLeft > 0 && faults && sendsOwnCommits(effects) && commitCrashDice.nextInt(8) == 0) {
                commitCrashesLeft--;
                stats.commitCrashes++;
                stats.crashes++;
                narrate("CRASH POINT: " + node.name + ", the coordinator of " + printable(c.key())
                        + ", between its accept quorum and its commits");
                for (Coordination.Effect e : effects) {
                    if (e instanceof Coordination.Effect.Done) {
                        carryOut(e); // a Paxos write is answered once chosen, with its commits: the answer left, they did not
                    }
                }
                node.crash();
                restartLater(node, 50 + commitCrashDice.nextInt(450));
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
                    if (d.result() instanceof Result.Written w && c.proposer() != null && c.proposer().term() != null) {
                        writtenUnder.put(w.version(), c.proposer().term().ballot());
                    }
                    done.accept(d.result());
                }
            }
        }

        /**
         * The effects send a write's own commits: a write at ONE's (not repairs), or a Paxos write's, which go out
         * fire-and-forget with its answer once a quorum accepted it.
         */
        private boolean sendsOwnCommits(List<Coordination.Effect> effects) {
            boolean written = false;
            boolean commits = false;
            for (Coordination.Effect e : effects) {
                if (e instanceof Coordination.Effect.Send s && s.envelope().request() instanceof PaxosMessage.Commit) {
                    if (!s.repair()) {
                        return true;
                    }
                    commits = true;
                } else if (e instanceof Coordination.Effect.Done d && d.result() instanceof Result.Written) {
                    written = true;
                }
            }
            return written && commits;
        }

        /** The coordinator crashed under this request. */
        void lost() {
            if (!ended) {
                ended = true;
                done.accept(null);
            }
        }
    }

    /** A forwarded client write at the node that forwarded it, until it ends (answered, unanswered, or its node crashed). */
    static final class Forwarded {
        final Node from;
        final Consumer<Result> done;
        boolean ended;

        Forwarded(Node from, Consumer<Result> done) {
            this.from = from;
            this.done = done;
        }

        void end(Result r) {
            if (!ended) {
                ended = true;
                from.forwarding.remove(this);
                done.accept(r);
            }
        }
    }

    Node byName(String name) {
        for (Node n : nodes) {
            if (n.name.equals(name)) {
                return n;
            }
        }
        return null;
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
        /** The loader: writes each cold key once (and deletes every other one right after), then stops. */
        boolean loader;
        int loaded;
        String deleting;
        String what = "";
        final Map<String, Ballot> known = new HashMap<>();

        Client(String name, int home, SplittableRandom random) {
            this.name = name;
            this.home = home;
            this.random = random;
        }

        void next() {
            if (loader) {
                load();
                return;
            }
            if (clientsStop || done >= 4 * rounds) {
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
            for (int i = 1; i < nodes.size() && (node.gone || !node.started); i++) {
                node = nodes.get((nodePick + i) % nodes.size()); // not yet started, or gone for good: another node
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

        /**
         * The loader's next cold key: one unconditional QUORUM write through a random node; cold-1, cold-3, ... are
         * deleted (unconditionally, at QUORUM) right after their write, so a tombstone is all that should be left of them.
         */
        void load() {
            if (clientsStop || (deleting == null && loaded >= coldKeys.size())) {
                return;
            }
            String key;
            ClientOp kind;
            if (deleting != null) {
                key = deleting;
                deleting = null;
                kind = ClientOp.DELETE;
            } else {
                key = coldKeys.get(loaded++);
                kind = ClientOp.WRITE;
                if (loaded % 2 == 0) {
                    deleting = key;
                }
            }
            int nodePick = random.nextInt(nodes.size());
            long think = random.nextInt(20);
            Node node = nodes.get(nodePick);
            for (int i = 1; i < nodes.size() && (node.gone || !node.started); i++) {
                node = nodes.get((nodePick + i) % nodes.size());
            }
            String value = kind.writesValue() ? name + "." + (++seq) : null;
            stats.ops++;
            busy = true;
            what = "load " + kind + " " + key + " at " + node.name;
            history.invoke(name, kind.historyOp(key, value, null), loop.now());
            trace.add("load", node.index, loaded, kind.ordinal());
            Node at = node;
            int opId = nextOpId++;
            issue(node, key, opId, kind.request(key, value, null), ConsistencyLevel.QUORUM,
                    res -> finish(at, key, kind, opId, res, think));
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
            Routing.Route route = (Routing.Route) r;
            Replica coordinator = forwardWrites && request instanceof Coordination.Request.Write && !key.equals(REGISTER)
                    ? Affinity.coordinator(route, node.self(), node.down, level) : null;
            Node to = coordinator == null ? null : byName(coordinator.name());
            if (to != null && to != node) {
                forward(node, to, key, opId, request, level, route, done);
                return;
            }
            node.coordinate(key, opId, request, level, route, () -> node.routeKey(key, level), done);
        }

        /**
         * A write forwarded to its key's coordinator, as Coordinator.forward: to a node that is down (its connection
         * refused) nothing is sent and the write is coordinated here; sent and not answered, its outcome is unknown.
         * The forward is not duplicated (one TCP request, never resent); it may be lost or delayed, its answer too.
         */
        void forward(Node from, Node to, String key, int opId, Coordination.Request request, ConsistencyLevel level,
                     Routing.Route route, Consumer<Result> done) {
            if (!to.up) {
                stats.forwardsNotSent++;
                from.coordinate(key, opId, request, level, route, () -> from.routeKey(key, level), done);
                return;
            }
            stats.forwards++;
            Forwarded f = new Forwarded(from, done);
            from.forwarding.add(f);
            ClusterSim.this.<Result>rpc(from, to, "fwd", false, FORWARD_TIMEOUT_MS, (target, answer) -> {
                Routing.Routed there = target.routeKey(key, level);
                if (there instanceof Routing.Refused refused) {
                    answer.accept(refused.result());
                } else {
                    target.coordinate(key, opId, request, level, (Routing.Route) there, () -> target.routeKey(key, level),
                            answer);
                }
            }, res -> {
                if (res == null && variant == Variant.FORWARD_UNANSWERED_RETRIED_HERE && from.up) {
                    // the broken variant: taken for not sent, the write is coordinated here as well
                    stats.forwardsUnanswered++;
                    from.forwarding.remove(f);
                    from.coordinate(key, opId, request, level, route, () -> from.routeKey(key, level), f::end);
                } else if (res == null) {
                    stats.forwardsUnanswered++;
                    f.end(variant == Variant.FORWARD_UNANSWERED_AS_NOT_WRITTEN
                            ? new Result.Unavailable("forwarded to " + to.name + ", no answer (taken for nothing written)")
                            : new Result.OutcomeUnknown("forwarded to " + to.name + ", no answer"));
                } else {
                    f.end(res);
                }
            });
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
                ackedMax.merge(key, new PaxosSafety.Id(writtenUnder.getOrDefault(w.version(), w.version()), w.version()),
                        (a, b) -> a.compareTo(b) >= 0 ? a : b);
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

    /**
     * Non-replicas hold no rows after cleanup (TOPOLOGY.md §10, end of run): once every running worker cleaned
     * up at the final epoch, no store holds a row of a key it is not a replica of at that epoch.
     */
    private void checkCleanup(Topology last) {
        long bound = loop.now() + 5_000;
        while (loop.now() < bound && !cleanedUp(last)) {
            runUntil(loop.now() + 50);
        }
        if (!cleanedUp(last)) {
            StringBuilder b = new StringBuilder();
            for (Node n : nodes) {
                if (n.worker && !n.gone) {
                    b.append(n.name).append(" cleaned ").append(n.cleanedEpoch).append("; ");
                }
            }
            violation(Check.LIVENESS, "no cleanup at the final epoch " + last.epoch() + " 5s after settling: " + b);
            return;
        }
        for (Node n : nodes) {
            if (!n.worker || n.gone) {
                continue;
            }
            for (String key : n.store.keys.keySet()) {
                if (key.startsWith("\u0000")) {
                    continue;
                }
                boolean replica = false;
                for (Replica r : last.placement(token(key)).replicas()) {
                    replica |= r.name().equals(n.name);
                }
                if (!replica) {
                    violation(Check.CLEANUP, n.name + " still holds a row of " + key + " after its cleanup at epoch "
                            + last.epoch() + ", whose replicas are " + last.placement(token(key)).names());
                    return;
                }
            }
        }
    }

    private boolean cleanedUp(Topology last) {
        for (Node n : nodes) {
            if (n.worker && !n.gone && (!n.up || n.cleanedEpoch < last.epoch())) {
                return false;
            }
        }
        return true;
    }

    /** A QUORUM read of every QUORUM key through every node, one at a time; each must answer and lose nothing. */
    private void finalReads() {
        for (String key : tracked) {
            for (Node n : nodes) {
                if (n.gone) {
                    continue;
                }
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
                PaxosSafety.Id acked = ackedMax.get(key);
                if (acked != null && (p == null || PaxosSafety.Id.of(p).compareTo(acked) < 0)) {
                    violation(Check.LOST_WRITE, "the final QUORUM read of " + key + " through " + n.name + " returned "
                            + (p == null ? "nothing" : PaxosSafety.Id.of(p).token()) + ", older than the acknowledged write "
                            + acked.token());
                }
            }
        }
    }

    /**
     * An acknowledged ONE write is held (or superseded) by at least one natural replica of the final topology
     * — unless every store that holds it died for good (a write at ONE is as durable as the one replica that
     * confirmed it: a removed worker takes what only it held). A decommissioned worker's store does not count
     * as dead: what only it held should have been handed over.
     */
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
            boolean onlyOnTheDead = false;
            for (Node n : nodes) {
                KeyState s = n.worker ? n.store.keys.get(key) : null;
                if (s != null && s.committed() != null && s.committed().ballot().compareTo(v) >= 0) {
                    if (!n.dead) {
                        onlyOnTheDead = false;
                        break;
                    }
                    onlyOnTheDead = true;
                }
            }
            if (!held && !onlyOnTheDead) {
                boolean live = false;
                for (Node n : nodes) {
                    KeyState s = n.worker && !n.dead ? n.store.keys.get(key) : null;
                    live |= s != null && s.committed() != null && s.committed().ballot().compareTo(v) >= 0;
                }
                for (Map<String, KeyState> w : wipedStores) {
                    KeyState s = w.get(key);
                    onlyOnTheDead |= !live && s != null && s.committed() != null && s.committed().ballot().compareTo(v) >= 0;
                }
            }
            if (!held && onlyOnTheDead) {
                stats.oneLostWithTheDead++;
            } else if (!held) {
                violation(Check.ONE_KEYS, "the acknowledged ONE write " + v.token() + " of " + key
                        + " is on no natural replica of epoch " + last.epoch());
            }
        }
    }
}
