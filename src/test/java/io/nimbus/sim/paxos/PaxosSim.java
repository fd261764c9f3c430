package io.nimbus.sim.paxos;

import io.nimbus.sim.ClientOp;
import io.nimbus.sim.Trace;
import io.nimbus.core.coordinator.KeyQueue;
import io.nimbus.sim.EventQueue;

import io.nimbus.core.kv.Ballot;
import io.nimbus.core.kv.ConsistencyLevel;
import io.nimbus.core.kv.KeyState;
import io.nimbus.core.coordinator.RetryPolicy;
import io.nimbus.core.coordinator.Routing;
import io.nimbus.core.topology.HostId;
import io.nimbus.core.topology.Replica;
import io.nimbus.core.kv.Proposal;
import io.nimbus.core.paxos.Acceptor;
import io.nimbus.core.paxos.PaxosMessage;
import io.nimbus.core.paxos.Proposer;
import io.nimbus.lin.History;
import io.nimbus.lin.LinearizabilityChecker;
import io.nimbus.lin.Observed;
import io.nimbus.lin.Op;
import io.nimbus.lin.Output;
import io.nimbus.lin.Result;

import java.nio.charset.StandardCharsets;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.EnumSet;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.TreeMap;
import java.util.function.BooleanSupplier;
import java.util.function.Consumer;

/**
 * A deterministic simulation of per-key Paxos on a small cluster, driven by one seed, that tries hard to
 * break the protocol: the real {@link Acceptor} and {@link Proposer} (or a deliberately broken
 * {@link Variant}) under message loss, delay, reordering, duplication, partitions and crash-restarts, with
 * concurrent clients whose history goes to the linearizability checker.
 *
 * <p>Messages are lost, delayed (which reorders them), held back past their time-out, duplicated (every
 * kind but {@code Propose} requests, see {@link #duplicateProposals()}) and cut by partitions. Each node
 * is an acceptor (its registers durable before any reply leaves, with a random group-commit
 * delay; a crash loses the rest) and a coordinator for the clients attached to it: the real
 * {@link io.nimbus.core.coordinator.Coordination} per operation on a fixed route (the key's replicas, epoch
 * 1; its {@link Proposer}, {@link RetryPolicy} backoff, attempt and deadline bounds, repairs sent and
 * forgotten), per-request time-outs fed back as {@code onNoReply}. A run: the chaos phase (clients busy, faults at random
 * times, and crash points: an acceptor bounced right after deciding a transition, inside its group-commit
 * window or just after its reply left), then everything heals (partitions gone, no loss or duplicates,
 * crashed nodes restarted). Each client runs a few more operations, which must answer unless another
 * operation on their key ran at the same time; then, one at a time, a write and a QUORUM read at every node
 * of every key must answer, and once the network is quiet every key's replicas must hold the same commit.
 * {@link PaxosSafety} checks every event; the history is checked at the end.
 *
 * <p>All randomness flows from the seed through {@link SplittableRandom} streams (config, network,
 * scenario, one per node, one per client); nothing iterates a hash-ordered collection where order matters.
 */
final class PaxosSim {
    static final long MAX_EVENTS = 5_000_000;
    static final String REPLAY = "./mvnw -B -q -ntp test -Dtest='io.nimbus.sim.paxos.PaxosSeedSweepTest'"
            + " -Dsurefire.failIfNoSpecifiedTests=false -Dsim.seed=";

    final PaxosSimConfig cfg;
    final Variant variant;
    private final Set<Check> enabled;
    private final EventQueue loop = new EventQueue();
    private final Trace trace = new Trace();
    private final SplittableRandom net;
    private final SplittableRandom scenario;
    /** Decides the crash points (crashes right after an acceptor transition). */
    private final SplittableRandom crashPoints;
    private final PaxosNode[] nodes;
    private final Map<String, Integer> nodeIndex = new TreeMap<>();
    private final List<Client> clients = new ArrayList<>();
    private final History history = new History();
    /** The same history with every version named by the write that made it ("w" + op id). */
    private final History byWrite = new History();
    private final PaxosSafety safety;
    /** Per key, the operations running now (started, not ended), to tell contention from unavailability. */
    private final Map<String, Set<Coordination>> active = new TreeMap<>();
    private final int[] group;
    private final boolean narrate = Boolean.getBoolean("sim.narrate");
    private int nextGroup = 1;
    private double loss;
    private double duplicate;
    private boolean healed;
    private int nextOpId;
    private boolean duplicateProposals;
    private final Stats stats = new Stats();

    /** Counters for the report. */
    static final class Stats {
        int ops;
        int ok;
        int rejected;
        int failed;
        int indeterminate;
        int restarts;
        /** Writes proposed in their coordinator's term, without a prepare; attempts that settled one partly accepted. */
        int termWrites;
        int recoveries;
        /** Operations after healing that ended without an answer because a competing request pre-empted them. */
        int contentionLosses;
        /** 412s whose "current" was another version of the very write the client named (version instability). */
        int aliasRejections;
        long messages;
        long lost;
        long cut;
        long duplicated;
        int crashes;
        int crashPoints;
        int partitions;
        long healedAt;
        long endedAt;
        boolean convergedAfterQuorumReads;

        @Override
        public String toString() {
            return "ops=" + ops + " (ok=" + ok + " rejected=" + rejected + " failed=" + failed + " indeterminate="
                    + indeterminate + ") restarts=" + restarts + " termWrites=" + termWrites + " recoveries=" + recoveries + " contentionLossesAfterHeal=" + contentionLosses + " aliasRejections=" + aliasRejections + " messages=" + messages + " (lost=" + lost + " cut=" + cut
                    + " dup=" + duplicated + ") crashes=" + crashes + " (at crash points " + crashPoints + ") partitions=" + partitions + " healedAt="
                    + healedAt + "ms endedAt=" + endedAt + "ms";
        }
    }

    PaxosSim(PaxosSimConfig cfg, Variant variant, Set<Check> enabled) {
        this.cfg = cfg;
        this.variant = variant;
        this.enabled = EnumSet.copyOf(enabled);
        SplittableRandom root = new SplittableRandom(cfg.seed());
        this.net = root.split();
        this.scenario = root.split();
        this.crashPoints = root.split();
        this.nodes = new PaxosNode[cfg.nodes()];
        this.group = new int[cfg.nodes()];
        for (int i = 0; i < nodes.length; i++) {
            nodes[i] = new PaxosNode(i, root.split());
            nodeIndex.put(nodes[i].id, i);
        }
        for (int c = 0; c < cfg.clients(); c++) {
            SplittableRandom r = root.split();
            clients.add(new Client("c" + c, nodes[r.nextInt(nodes.length)], r, cfg.postHealOps()));
        }
        this.loss = cfg.loss();
        this.duplicate = cfg.duplicate();
        this.safety = new PaxosSafety(() -> "seed=" + cfg.seed() + " t=" + loop.now() + "ms");
        for (int k = 0; k < cfg.keys(); k++) {
            safety.key(PaxosSimConfig.key(k), cfg.replicationFactor(k));
        }
    }

    /**
     * Lets the network duplicate {@code Propose} requests too. Off by default, as over the real cluster
     * transport, which never re-sends a request: the proposer's "every replica refused, nothing was
     * written" relies on each proposal reaching a replica at most once (see {@code Proposer}).
     */
    PaxosSim duplicateProposals() {
        this.duplicateProposals = true;
        return this;
    }

    static SeedResult run(long seed, Variant variant, Set<Check> enabled) {
        return new PaxosSim(PaxosSimConfig.forSeed(seed), variant, enabled).run();
    }

    /** The real core, gated as the sweep is ({@link Check#gate()}). */
    static SeedResult run(long seed) {
        return run(seed, Variant.CORRECT, Check.gate());
    }

    SeedResult run() {
        long wall = System.nanoTime();
        Result lin = null;
        Result.Verdict linByWrite = null;
        try {
            for (Client c : clients) {
                loop.at(c.random.nextLong(20), c::next);
            }
            scheduleFault();
            loop.at(cfg.chaosMs(), this::heal);
            long bound = cfg.chaosMs() + (cfg.postHealOps() + 2L) * (cfg.opDeadlineMs() + 100) + 5_000;
            if (!runUntil(() -> clients.stream().allMatch(c -> c.done), bound)) {
                safety.violation(Check.LIVENESS, "clients still busy " + (bound - cfg.chaosMs()) + "ms after healing: "
                        + clients.stream().filter(c -> !c.done).map(c -> c.name).toList());
            } else {
                finalWritesAndReads();
                runUntil(() -> false, Long.MAX_VALUE);
                stats.convergedAfterQuorumReads = checkConvergence();
            }
            stats.endedAt = loop.now();
            Result byWriteResult = LinearizabilityChecker.check(byWrite);
            linByWrite = byWriteResult.verdict();
            if (!byWriteResult.isLinearizable()) {
                safety.violation(Check.LINEARIZABILITY_BY_WRITE, byWriteResult.verdict() + ": " + byWriteResult.explanation());
            }
            lin = LinearizabilityChecker.check(history);
            List<String> reversioned = safety.reversioned();
            if (!lin.isLinearizable()) {
                boolean explained = byWriteResult.isLinearizable() && !reversioned.isEmpty();
                safety.violation(explained ? Check.VERSION_STABILITY : Check.LINEARIZABILITY, lin.verdict() + ": "
                        + lin.explanation() + (reversioned.isEmpty() ? "" : "\nWrites chosen under several ballots: "
                        + String.join("; ", reversioned)) + (explained ? "\n(The history by write is linearizable.)" : ""));
            } else if (stats.aliasRejections > 0) {
                safety.violation(Check.VERSION_STABILITY, stats.aliasRejections + " compare-and-set(s) refused with another"
                        + " version of the very write they named: " + String.join("; ", reversioned));
            }
        } catch (RuntimeException | Error e) {
            StringBuilder why = new StringBuilder(e.toString());
            for (StackTraceElement f : Arrays.copyOf(e.getStackTrace(), Math.min(6, e.getStackTrace().length))) {
                why.append("\n    at ").append(f);
            }
            safety.violation(Check.EXCEPTION, why.toString());
        }
        Map<Check, String> found = new LinkedHashMap<>();
        safety.violations().forEach((check, message) -> {
            if (enabled.contains(check)) {
                found.put(check, message);
            }
        });
        return new SeedResult(cfg, variant, found, Map.copyOf(safety.violations()), Map.copyOf(safety.counts()), stats,
                safety.chosenCount(), safety.reversioned(), lin == null ? null : lin.verdict(), linByWrite, trace.hash(),
                trace.entries(), history.operations().toString(), (System.nanoTime() - wall) / 1_000_000);
    }

    // ---- running -------------------------------------------------------------------------------------

    private boolean runUntil(BooleanSupplier done, long maxTime) {
        while (!done.getAsBoolean()) {
            if (loop.isEmpty() || loop.nextTime() > maxTime) {
                return done.getAsBoolean();
            }
            if (loop.executed() >= MAX_EVENTS) {
                throw new IllegalStateException("simulation bound exceeded: " + MAX_EVENTS + " events");
            }
            loop.runNext();
        }
        return true;
    }

    private void narrate(String what) {
        if (narrate) {
            System.out.println("seed=" + cfg.seed() + " t=" + loop.now() + "ms " + what);
        }
    }

    // ---- faults --------------------------------------------------------------------------------------

    private void scheduleFault() {
        loop.after(1 + scenario.nextLong(2 * cfg.faultEveryMs()), () -> {
            if (!healed) {
                fault();
                scheduleFault();
            }
        });
    }

    /** One random fault; the same numbers are drawn whatever the branch, so every variant sees the same faults. */
    private void fault() {
        double x = scenario.nextDouble();
        int i = scenario.nextInt(nodes.length);
        double y = scenario.nextDouble();
        long downtime = y < 0.3 ? 1 + scenario.nextLong(10) : y < 0.8 ? 10 + scenario.nextLong(300) : 300 + scenario.nextLong(1200);
        double level = scenario.nextDouble();
        int[] sides = new int[nodes.length];
        for (int n = 0; n < sides.length; n++) {
            sides[n] = scenario.nextInt(3);
        }
        if (x < 0.35) {
            crash(i);
            loop.after(downtime, () -> restart(i));
        } else if (x < 0.50) {
            for (int n = 0; n < sides.length; n++) {
                group[n] = nextGroup + sides[n];
            }
            nextGroup += 3;
            stats.partitions++;
            trace.add("partition", Arrays.hashCode(sides));
            narrate("partition " + Arrays.toString(sides));
        } else if (x < 0.60) {
            group[i] = nextGroup++;
            stats.partitions++;
            trace.add("isolate", i);
            narrate("isolate " + nodes[i].id);
        } else if (x < 0.80) {
            Arrays.fill(group, 0);
            trace.add("heal-partitions");
            narrate("heal partitions");
        } else if (x < 0.90) {
            loss = level * 0.3;
            trace.add("loss", Double.doubleToLongBits(loss));
            narrate("loss " + loss);
        } else {
            duplicate = level * 0.2;
            trace.add("duplicate", Double.doubleToLongBits(duplicate));
            narrate("duplicate " + duplicate);
        }
    }

    private void crash(int i) {
        PaxosNode n = nodes[i];
        if (!n.up) {
            return;
        }
        stats.crashes++;
        for (Coordination c : List.copyOf(n.coordinating)) {
            c.end(c.mayHaveWritten(), "its coordinator " + n.id + " crashed");
        }
        n.crash();
        trace.add("crash", i);
        narrate("crash " + n.id);
    }

    private void restart(int i) {
        PaxosNode n = nodes[i];
        if (n.up) {
            return;
        }
        n.restart(loop.now());
        safety.restarted(n.id, n.working);
        trace.add("restart", i);
        narrate("restart " + n.id);
    }

    private void heal() {
        healed = true;
        stats.healedAt = loop.now();
        Arrays.fill(group, 0);
        loss = 0;
        duplicate = 0;
        for (int i = 0; i < nodes.length; i++) {
            restart(i);
        }
        trace.add("heal");
        narrate("heal everything");
    }

    // ---- network -------------------------------------------------------------------------------------

    private void send(int from, int to, long hash, boolean mayDuplicate, Runnable onArrival) {
        stats.messages++;
        // the same numbers per message whatever its fate, so fates stay aligned
        boolean isLost = net.nextDouble() < loss;
        boolean twice = net.nextDouble() < duplicate;
        long d1 = delay();
        long d2 = delay();
        long held = net.nextLong(4 * cfg.requestTimeoutMs());
        if (!healed && net.nextDouble() < cfg.slow()) {
            d1 += held;
        }
        if (group[from] != group[to]) {
            stats.cut++;
            trace.add("cut", from, to, hash);
            return;
        }
        if (isLost) {
            stats.lost++;
            trace.add("lost", from, to, hash);
            return;
        }
        loop.after(d1, () -> arrive(from, to, hash, onArrival));
        if (twice && mayDuplicate) {
            stats.duplicated++;
            loop.after(d2, () -> arrive(from, to, hash, onArrival));
        }
    }

    private long delay() {
        return cfg.minDelayMs() + net.nextLong(cfg.maxDelayMs() - cfg.minDelayMs() + 1);
    }

    private void arrive(int from, int to, long hash, Runnable onArrival) {
        if (group[from] != group[to] || !nodes[to].up) {
            trace.add("dropped", from, to, hash);
            return;
        }
        trace.add("arrive", from, to, hash);
        onArrival.run();
    }

    private static long hash(PaxosMessage m) {
        long h = m.getClass().getSimpleName().hashCode();
        if (m instanceof PaxosMessage.Prepare p) {
            h = Trace.mix(h, p.ballot().counter());
        } else if (m instanceof PaxosMessage.Propose p) {
            h = Trace.mix(Trace.mix(h, p.proposal().ballot().counter()), Arrays.hashCode(p.proposal().value()));
        } else if (m instanceof PaxosMessage.Commit c) {
            h = Trace.mix(h, c.proposal().ballot().counter());
        } else if (m instanceof PaxosMessage.Promised p) {
            h = Trace.mix(Trace.mix(h, p.ballot().counter()), p.accepted() == null ? 0 : p.accepted().ballot().counter());
        } else if (m instanceof PaxosMessage.Rejected r) {
            h = Trace.mix(h, r.promised().counter());
        }
        return h;
    }

    /** Sends {@code env} from {@code c}'s node; the reply (unless a repair) goes back to {@code c}. */
    private void request(Coordination c, Proposer.Envelope env, boolean repair) {
        PaxosNode from = c.node;
        int inc = from.incarnation;
        int to = nodeIndex.get(env.to());
        boolean mayDuplicate = duplicateProposals || !(env.request() instanceof PaxosMessage.Propose);
        send(from.index, to, hash(env.request()), mayDuplicate, () -> acceptor(nodes[to], env.request(), reply -> {
            if (!repair) {
                send(to, from.index, hash(reply), true, () -> {
                    if (from.incarnation == inc) {
                        c.onReply(env, reply);
                    }
                });
            }
        }));
    }

    // ---- acceptor ------------------------------------------------------------------------------------

    /** Is {@code p} a write in its coordinator's term (its version a later ballot of its ballot's owner)? */
    private static boolean inTerm(Proposal p) {
        return p.version().compareTo(p.ballot()) > 0 && p.version().nodeId().equals(p.ballot().nodeId());
    }

    /** The replica shell: a pure transition, durable (after a group-commit delay) before the reply leaves. */
    private void acceptor(PaxosNode n, PaxosMessage.Request req, Consumer<PaxosMessage> reply) {
        String key = req.key();
        KeyState cur = n.state(key);
        KeyState next;
        PaxosMessage out;
        if (req instanceof PaxosMessage.Prepare p) {
            Acceptor.Transition<PaxosMessage.PrepareReply> t = Acceptor.prepare(cur, p.ballot());
            next = t.next();
            out = t.reply();
        } else if (variant == Variant.TERM_WRITE_IGNORES_PROMISE && req instanceof PaxosMessage.Propose p && inTerm(p.proposal())
                && cur.promised() != null && p.proposal().ballot().compareTo(cur.promised()) < 0) {
            // a write in a term taken although a higher ballot was promised since (the promise is kept)
            next = new KeyState(cur.promised(), p.proposal(), cur.committed());
            out = new PaxosMessage.Accepted(p.proposal().ballot());
        } else if (req instanceof PaxosMessage.Propose p) {
            Acceptor.Transition<PaxosMessage.AcceptReply> t = Acceptor.accept(cur, p.proposal());
            next = t.next();
            out = t.reply();
        } else if (req instanceof PaxosMessage.Commit c) {
            next = Acceptor.commit(cur, c.proposal());
            out = new PaxosMessage.Committed();
        } else {
            next = cur;
            out = new PaxosMessage.State(cur);
        }
        int inc = n.incarnation;
        long release;
        if (next != cur) {
            safety.transition(n.id, key, cur, next);
            n.working.put(key, next);
            if (next.promised() != null) {
                n.observe(next.promised());
            }
            long flushAt = Math.max(n.lastFlush, loop.now() + n.random.nextLong(cfg.fsyncMaxMs() + 1));
            n.lastFlush = flushAt;
            KeyState persisted = variant == Variant.FORGETS_PROMISE_ON_RESTART ? withoutPromise(next) : next;
            loop.at(flushAt, () -> {
                if (n.incarnation == inc) {
                    n.durable.put(key, persisted);
                }
            });
            release = flushAt;
            boolean crashHere = crashPoints.nextDouble() < cfg.crashPoint();
            // before the state is durable, or just after the reply left
            long crashAt = loop.now() + crashPoints.nextLong(cfg.fsyncMaxMs() + cfg.maxDelayMs() / 2 + 2);
            long down = 1 + crashPoints.nextLong(20);
            if (crashHere && !healed) {
                stats.crashPoints++;
                loop.at(crashAt, () -> {
                    if (!healed && n.incarnation == inc) {
                        crash(n.index);
                        loop.after(down, () -> restart(n.index));
                    }
                });
            }
        } else {
            release = Math.max(n.lastFlush, loop.now());
        }
        Runnable send = () -> {
            if (n.incarnation == inc) {
                safety.replied(n.id, req, out);
                reply.accept(out);
            }
        };
        if (variant == Variant.REPLIES_BEFORE_DURABLE) {
            send.run();
        } else {
            loop.at(release, send);
        }
    }

    /** What {@link Variant#FORGETS_PROMISE_ON_RESTART} persists: the promise rebuilt from the stored proposals. */
    private static KeyState withoutPromise(KeyState s) {
        Ballot a = s.accepted() == null ? null : s.accepted().ballot();
        Ballot c = s.committed() == null ? null : s.committed().ballot();
        Ballot promised = a == null ? c : c == null ? a : a.compareTo(c) >= 0 ? a : c;
        return new KeyState(promised, s.accepted(), s.committed());
    }

    // ---- clients -------------------------------------------------------------------------------------

    /** A client: one operation at a time, at the node it is attached to. */
    final class Client {
        final String name;
        final PaxosNode node;
        final SplittableRandom random;
        /** The newest version this client has seen per key (for compare-and-set and conditional delete). */
        final Map<String, Ballot> known = new TreeMap<>();
        int postHealLeft;
        int seq;
        boolean done;

        Client(String name, PaxosNode node, SplittableRandom random, int postHealOps) {
            this.name = name;
            this.node = node;
            this.random = random;
            this.postHealLeft = postHealOps;
        }

        void next() {
            if (done) {
                return;
            }
            if (!node.up) {
                loop.after(10 + random.nextLong(40), this::next);
                return;
            }
            if (healed && postHealLeft-- == 0) {
                done = true;
                return;
            }
            String key = PaxosSimConfig.key(random.nextInt(cfg.keys()));
            boolean all = random.nextDouble() < cfg.allShare();
            double x = random.nextDouble();
            Ballot v = known.get(key);
            ClientOp kind = x < 0.30 ? ClientOp.READ : x < 0.50 ? ClientOp.WRITE : x < 0.70 ? (v == null ? ClientOp.CREATE : ClientOp.CAS)
                    : x < 0.80 ? ClientOp.CREATE : x < 0.90 ? ClientOp.DELETE : (v == null ? ClientOp.DELETE : ClientOp.DELETE_IF);
            coordinate(this, key, kind, all ? ConsistencyLevel.ALL : ConsistencyLevel.QUORUM, v);
        }

        void opEnded() {
            if (!done) {
                loop.after(random.nextLong(30), this::next);
            }
        }
    }

    private Coordination coordinate(Client client, String key, ClientOp kind, ConsistencyLevel level, Ballot expected) {
        int k = Integer.parseInt(key.substring(1));
        List<String> replicas = cfg.replicasPerKey().get(k);
        String value = kind.writesValue() ? client.name + "." + (++client.seq) : null;
        Op linOp = kind.historyOp(key, value, expected);
        io.nimbus.core.coordinator.Coordination.Request request = kind.request(key, value, expected);
        int opId = nextOpId++;
        Coordination c = new Coordination(opId, client, key, kind, request,
                kind == ClientOp.CAS || kind == ClientOp.DELETE_IF ? expected : null, replicas, level.required(replicas.size()));
        stats.ops++;
        history.invoke(client.name, linOp, loop.now());
        Op byWriteOp = switch (kind) {
            case CAS -> Op.cas(key, writeOf(key, expected), value);
            case DELETE_IF -> Op.deleteIf(key, writeOf(key, expected));
            default -> linOp;
        };
        byWrite.invoke(client.name, byWriteOp, loop.now());
        trace.add("invoke", opId, client.node.index, kind.ordinal(), (value == null ? 0 : value.hashCode()));
        c.arrive();
        return c;
    }

    /** A store identity per node name (the acceptors here are not fenced; the route needs one). */
    private static HostId hostOf(String node) {
        return new HostId(new java.util.UUID(0x5EEDL, node.hashCode()));
    }

    /** A version named by the write that made it: "w" + the op id whose value the proposal carries. */
    private String writeOf(String key, Ballot version) {
        int origin = safety.originOf(key, version);
        if (origin < 0) {
            safety.violation(Check.EXCEPTION, "harness: version " + version.token() + " of " + key + " was never proposed");
            return "?" + version.token();
        }
        return "w" + origin;
    }

    // ---- coordinator ---------------------------------------------------------------------------------

    /**
     * One client operation coordinated at one node: the real {@link io.nimbus.core.coordinator.Coordination}
     * on a fixed route (the key's replicas, all asked, epoch 1), its effects carried out over the simulated
     * network. The ghost bookkeeping observes what it sends (a new prepare ballot is a new attempt, the
     * first proposal after the prepares is registered with {@link PaxosSafety}) and the replies fed back.
     */
    final class Coordination {
        final int opId;
        final Client client;
        final PaxosNode node;
        final String key;
        final ClientOp kind;
        /** The version a compare-and-set or conditional delete names, else null. */
        final Ballot expected;
        final io.nimbus.core.coordinator.Coordination core;
        final int quorum;
        final boolean afterHeal;
        final long deadline;
        int attempts;
        boolean ended;
        /** Ghost bookkeeping of the running attempt: its ballot and the promises the proposer counted. */
        private Ballot attempt;
        private boolean preparing;
        private final Map<String, PaxosMessage.Promised> promises = new TreeMap<>();
        private final Set<String> answeredPrepare = new HashSet<>();
        private Proposal ownProposal;
        /** The term this operation's write was proposed in without a prepare, and that proposal (null: none). */
        private Proposer.Term termUsed;
        private Proposal termProposal;
        /** Ended with an answer (Done), so late replies may still earn repairs. */
        private boolean answered;
        /** Another operation on the same key was running (anywhere) while this one was. */
        private boolean contended;

        Coordination(int opId, Client client, String key, ClientOp kind, io.nimbus.core.coordinator.Coordination.Request request,
                     Ballot expected, List<String> replicas, int quorum) {
            this.opId = opId;
            this.client = client;
            this.node = client.node;
            this.key = key;
            this.kind = kind;
            this.expected = expected;
            this.quorum = quorum;
            this.afterHeal = healed;
            boolean impatient = !healed && client.random.nextBoolean();
            this.deadline = loop.now() + (impatient ? (2 + client.random.nextInt(5)) * cfg.requestTimeoutMs() : cfg.opDeadlineMs());
            List<Replica> route = new ArrayList<>(replicas.size());
            for (String r : replicas) {
                route.add(new Replica(r, hostOf(r)));
            }
            boolean all = quorum == replicas.size();
            io.nimbus.core.paxos.Quorum q = all ? io.nimbus.core.paxos.Quorum.all(replicas) : io.nimbus.core.paxos.Quorum.majority(replicas);
            this.core = new io.nimbus.core.coordinator.Coordination(key, request, all ? ConsistencyLevel.ALL : ConsistencyLevel.QUORUM,
                    new Routing.Route(1, route, route, q, false),
                    new RetryPolicy(cfg.attemptsMax(), cfg.backoffBaseMs(), 16 * cfg.backoffBaseMs()),
                    above -> {
                        if (above != null) {
                            node.observe(above);
                        }
                        return node.nextBallot(loop.now());
                    }, node.random, deadline, node.terms);
        }

        /** Whether this operation's own value may have been proposed (what a crash or deadline leaves open). */
        boolean mayHaveWritten() {
            return kind != ClientOp.READ && (core.recovering() || core.proposer() != null && core.proposer().mayHaveWritten());
        }

        /** Arrives at its node: waits behind earlier requests on the same key, as in the real coordinator. */
        void arrive() {
            node.coordinating.add(this);
            loop.at(deadline, () -> {
                if (!ended) {
                    handle(core.onDeadline(loop.now()));
                }
            });
            for (Coordination ahead : node.perKey.held(key)) {
                // waiting behind another request on the key is contention, even if this one never gets to start
                // (its deadline counts from arrival): seed 15937 of the 20,000-seed sweep
                ahead.contended = true;
                contended = true;
            }
            if (node.perKey.arrive(key, this, KeyQueue.kindOf(core.request()))) {
                begin();
            }
        }

        /** Leaves its node: the next request on the key (if any) starts, in the real coordinator's order. */
        private void leave() {
            node.coordinating.remove(this);
            active.getOrDefault(key, Set.of()).remove(this);
            Coordination next = node.perKey.leave(key, this);
            if (next != null) {
                next.begin();
            }
        }

        private void begin() {
            Set<Coordination> running = active.computeIfAbsent(key, k -> new LinkedHashSet<>());
            for (Coordination other : running) {
                other.contended = true;
                contended = true;
            }
            running.add(this);
            handle(core.start(loop.now()));
        }

        void onReply(Proposer.Envelope env, PaxosMessage reply) {
            if (variant == Variant.PROPOSER_IGNORES_ACCEPTED && reply instanceof PaxosMessage.Promised p && p.accepted() != null) {
                reply = new PaxosMessage.Promised(p.ballot(), null, p.committed());
            }
            if (variant == Variant.READ_IGNORES_ACCEPTED && reply instanceof PaxosMessage.State st && st.state().accepted() != null) {
                reply = new PaxosMessage.State(new KeyState(st.state().promised(), null, st.state().committed()));
            }
            if (ended) {
                handle(core.onReply(env, reply, loop.now())); // late replies may earn repairs
                return;
            }
            if (preparing && env.request() instanceof PaxosMessage.Prepare pr && pr.ballot().equals(attempt)
                    && answeredPrepare.add(env.to()) && reply instanceof PaxosMessage.Promised pm) {
                promises.put(env.to(), pm);
            }
            handle(core.onReply(env, reply, loop.now()));
            if (variant == Variant.ACKS_BEFORE_ACCEPT_QUORUM && !ended && ownProposal != null && reply instanceof PaxosMessage.Accepted a
                    && env.request() instanceof PaxosMessage.Propose pp && pp.proposal().equals(ownProposal)
                    && a.ballot().equals(ownProposal.ballot())) {
                // one replica accepted: answered as if chosen (the core runs on, its own ending ignored)
                finish(new Proposer.Outcome.Written(pp.proposal().version()));
            }
        }

        private void onNoReply(Proposer.Envelope env) {
            if (ended) {
                return;
            }
            if (preparing && env.request() instanceof PaxosMessage.Prepare pr && pr.ballot().equals(attempt)) {
                answeredPrepare.add(env.to());
            }
            handle(core.onNoReply(env, loop.now()));
        }

        /** Carries out the core's effects, observing them for the ghost. */
        private void handle(List<io.nimbus.core.coordinator.Coordination.Effect> effects) {
            for (io.nimbus.core.coordinator.Coordination.Effect effect : effects) {
                if (effect instanceof io.nimbus.core.coordinator.Coordination.Effect.Send s) {
                    Proposer.Envelope e = s.envelope();
                    if (s.repair()) {
                        request(this, e, true);
                        continue;
                    }
                    PaxosMessage.Request r = e.request();
                    if (r instanceof PaxosMessage.Prepare pr && !pr.ballot().equals(attempt)) {
                        // a new attempt: its prepares
                        attempts++;
                        attempt = pr.ballot();
                        preparing = true;
                        promises.clear();
                        answeredPrepare.clear();
                        ownProposal = null;
                    } else if (preparing && !(r instanceof PaxosMessage.Prepare)) {
                        // the prepare phase of this attempt is over: an accept phase begins
                        if (r instanceof PaxosMessage.Propose p) {
                            register(p.proposal());
                        }
                        preparing = false;
                    } else if (r instanceof PaxosMessage.Propose p && !preparing && ownProposal == null
                            && core.proposer().startedIn() != null) {
                        // a write in this node's term, without a prepare: judged against the term's last write
                        attempts++;
                        attempt = null;
                        ownProposal = p.proposal();
                        termProposal = p.proposal();
                        termUsed = core.proposer().startedIn();
                        stats.termWrites++;
                        narrate("op #" + opId + " at " + node.id + " proposes " + p.proposal() + " in its term " + termUsed);
                        safety.proposed(key, p.proposal(), opId, termUsed.last());
                    }
                    request(this, e, false);
                    loop.after(cfg.requestTimeoutMs(), () -> onNoReply(e));
                } else if (effect instanceof io.nimbus.core.coordinator.Coordination.Effect.Wake w) {
                    // the attempt restarts above a rival (nothing of it written) after the policy's backoff
                    preparing = false;
                    stats.restarts++;
                    if (core.recovering()) {
                        stats.recoveries++;
                    } else if (ownProposal != null) {
                        safety.abandoned(key, ownProposal);
                    }
                    loop.at(Math.max(loop.now(), w.atMs()), () -> {
                        if (!ended) {
                            handle(core.onWake(loop.now()));
                        }
                    });
                } else if (effect instanceof io.nimbus.core.coordinator.Coordination.Effect.Refresh r) {
                    safety.violation(Check.EXCEPTION, "harness: a refresh to epoch " + r.epoch() + " with unfenced acceptors");
                } else if (effect instanceof io.nimbus.core.coordinator.Coordination.Effect.Done d) {
                    preparing = false;
                    if (ended) {
                        continue;
                    }
                    io.nimbus.core.coordinator.Result res = d.result();
                    if (res instanceof io.nimbus.core.coordinator.Result.Read rd) {
                        finish(new Proposer.Outcome.Read(rd.committed()));
                    } else if (res instanceof io.nimbus.core.coordinator.Result.Written w) {
                        finish(new Proposer.Outcome.Written(w.version()));
                    } else if (res instanceof io.nimbus.core.coordinator.Result.PreconditionFailed f) {
                        finish(new Proposer.Outcome.PreconditionFailed(f.current()));
                    } else if (res instanceof io.nimbus.core.coordinator.Result.NotFound) {
                        finish(new Proposer.Outcome.NotFound());
                    } else {
                        String why = res.toString();
                        if (res.outcomeUnknown() && attempt != null && ownProposal == null && !mayHaveWritten()) {
                            safety.violation(Check.EXCEPTION, "harness: outcome unknown without a proposal of its own: " + why);
                        }
                        end(res.outcomeUnknown(), why);
                    }
                }
            }
        }

        /** The proposer moved from prepare to accept: tell the ghost what is proposed and on top of what. */
        private void register(Proposal p) {
            if (promises.size() != quorum) {
                safety.violation(Check.EXCEPTION, "harness: counted " + promises.size() + " promises, the proposer needs " + quorum);
            }
            Proposal newestCommit = null;
            for (PaxosMessage.Promised pm : promises.values()) {
                if (pm.committed() != null && pm.committed().isAfter(newestCommit)) {
                    newestCommit = pm.committed();
                }
            }
            boolean own = core.proposer().proposesOwn();
            narrate("op #" + opId + " at " + node.id + " proposes " + p + (own ? " (own value)" : " (re-proposal)")
                    + " promises " + promises);
            if (own && termProposal != null && p.version().equals(termProposal.version())) {
                // a recovering attempt finishes this operation's earlier write in a term
                ownProposal = p;
                safety.reproposed(key, p, termProposal);
                return;
            }
            if (own) {
                ownProposal = p;
                safety.proposed(key, p, opId, newestCommit);
                return;
            }
            Proposal inFlight = null;
            for (PaxosMessage.Promised pm : promises.values()) {
                Proposal a = pm.accepted();
                if (a != null && a.isAfter(newestCommit) && a.isAfter(inFlight)) {
                    inFlight = a;
                }
            }
            if (inFlight == null || !Arrays.equals(inFlight.value(), p.value())) {
                safety.violation(Check.EXCEPTION, "harness: re-proposal " + p.ballot().token() + " matches no in-flight proposal");
            } else {
                safety.reproposed(key, p, inFlight);
            }
        }

        private void finish(Proposer.Outcome outcome) {
            ended = true;
            answered = true;
            leave();
            long now = loop.now();
            String name = client.name;
            if (outcome instanceof Proposer.Outcome.Read r) {
                Proposal p = r.committed();
                if (p == null || p.isTombstone()) {
                    history.okNotFound(name, now);
                    byWrite.okNotFound(name, now);
                    client.known.remove(key);
                } else {
                    String value = new String(p.value(), StandardCharsets.UTF_8);
                    history.okFound(name, value, p.version().token(), now);
                    byWrite.okFound(name, value, writeOf(key, p.version()), now);
                    client.known.put(key, p.version());
                }
                stats.ok++;
            } else if (outcome instanceof Proposer.Outcome.Written w) {
                if (kind == ClientOp.DELETE || kind == ClientOp.DELETE_IF) {
                    history.ok(name, new Output.Deleted(w.version().token()), now);
                    byWrite.ok(name, new Output.Deleted(writeOf(key, w.version())), now);
                    client.known.remove(key);
                } else {
                    history.okWritten(name, w.version().token(), now);
                    byWrite.okWritten(name, writeOf(key, w.version()), now);
                    client.known.put(key, w.version());
                }
                stats.ok++;
            } else if (outcome instanceof Proposer.Outcome.PreconditionFailed pf) {
                Ballot current = pf.current();
                history.rejected(name, current == null ? Observed.absent() : Observed.version(current.token()), now);
                if (current != null && expected != null && !current.equals(expected)
                        && writeOf(key, current).equals(writeOf(key, expected))) {
                    // the write the client named is current, under another ballot: a version-stability failure,
                    // and by write it had no effect
                    byWrite.fail(name, now);
                    stats.aliasRejections++;
                } else {
                    byWrite.rejected(name, current == null ? Observed.absent() : Observed.version(writeOf(key, current)), now);
                }
                if (current == null) {
                    client.known.remove(key);
                } else {
                    client.known.put(key, current);
                }
                stats.rejected++;
            } else {
                history.rejected(name, Observed.absent(), now);
                byWrite.rejected(name, Observed.absent(), now);
                client.known.remove(key);
                stats.rejected++;
            }
            trace.add("done", opId, outcome.getClass().getSimpleName().hashCode(), now);
            narrate("op #" + opId + " " + name + "@" + node.id + " " + kind + " " + key + " -> " + outcome);
            client.opEnded();
        }

        /** The operation ends without an outcome: {@code unknown} if its value may have been accepted. */
        void end(boolean unknown, String why) {
            ended = true;
            leave();
            if (variant == Variant.TERM_KEPT_AFTER_UNKNOWN && unknown && termUsed != null && node.up) {
                node.terms.put(key, 1, termUsed); // as if the write in the term had not happened
            }
            if (unknown) {
                history.indeterminate(client.name);
                byWrite.indeterminate(client.name);
                stats.indeterminate++;
            } else {
                history.fail(client.name, loop.now());
                byWrite.fail(client.name, loop.now());
                stats.failed++;
                if (kind != ClientOp.READ) {
                    safety.failed(key, opId);
                }
            }
            trace.add("end", opId, unknown ? 1 : 0, loop.now());
            narrate("op #" + opId + " " + client.name + "@" + node.id + " " + kind + " " + key + " -> "
                    + (unknown ? "indeterminate" : "failed") + ": " + why);
            if (afterHeal && contended && !client.name.startsWith("final")) {
                stats.contentionLosses++;
            } else if (afterHeal) {
                safety.violation(Check.LIVENESS, "op #" + opId + " " + kind + " " + key + " at " + node.id
                        + ", invoked after healing, ended " + (unknown ? "indeterminate" : "failed")
                        + (contended ? "" : " with no other operation on the key running") + ": " + why);
            }
            client.opEnded();
        }
    }

    // ---- the end -------------------------------------------------------------------------------------

    /**
     * One after another, nothing else running: for every key an unconditional write at one node, then a
     * QUORUM read at every node. Each must answer (they are checked with the history, too).
     */
    private void finalWritesAndReads() {
        for (int k = 0; k < cfg.keys(); k++) {
            String key = PaxosSimConfig.key(k);
            PaxosNode writer = nodes[k % nodes.length];
            runAlone(new Client("final-" + writer.id, writer, new SplittableRandom(k), 0), key, ClientOp.WRITE);
            for (PaxosNode n : nodes) {
                runAlone(new Client("final-" + n.id, n, new SplittableRandom(k), 0), key, ClientOp.READ);
            }
        }
    }

    private void runAlone(Client client, String key, ClientOp kind) {
        client.done = true;
        Coordination c = coordinate(client, key, kind, ConsistencyLevel.QUORUM, null);
        runUntil(() -> c.ended, c.deadline);
    }

    /** Every replica of every key holds the same committed proposal. */
    private boolean checkConvergence() {
        boolean converged = true;
        for (int k = 0; k < cfg.keys(); k++) {
            String key = PaxosSimConfig.key(k);
            Map<String, String> committed = new TreeMap<>();
            for (String id : cfg.replicasPerKey().get(k)) {
                Proposal p = nodes[nodeIndex.get(id)].state(key).committed();
                committed.put(id, p == null ? "none" : p.ballot().token());
            }
            if (new HashSet<>(committed.values()).size() > 1) {
                converged = false;
                safety.violation(Check.CONVERGENCE, key + ": replicas disagree after the final reads: " + committed);
            }
        }
        return converged;
    }
}
