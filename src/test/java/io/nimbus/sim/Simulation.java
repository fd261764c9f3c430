package io.nimbus.sim;

import io.nimbus.core.gossip.GossipSettings;
import io.nimbus.core.gossip.Gossiper;
import io.nimbus.core.gossip.Member;
import io.nimbus.core.gossip.NodeState;
import io.nimbus.core.gossip.NodeStatus;
import io.nimbus.core.gossip.Outbound;

import java.util.List;
import java.util.SplittableRandom;
import java.util.function.BiConsumer;
import java.util.function.BooleanSupplier;

/**
 * A deterministic discrete-event simulation of N gossiping nodes, driven by one seed.
 *
 * <p>Each node runs the pure {@link Gossiper} core inside a {@link SimShell} (rounds, requests and
 * answers, as {@code ClusterService} does); this class owns the clock, the run loop, and the nodes'
 * life cycle (start, crash, restart with generation + 1, leave).
 *
 * <p>Every random choice comes from {@code new SplittableRandom(seed)} and its children: one for the
 * network, one for the test's scenario, one per node (the round timer, and a fresh child for the core
 * of each incarnation). After every event the {@link SafetyChecker} runs; any failure message starts
 * with {@code seed=... step=...} so it can be replayed with {@code -Dsim.seed=...}.
 */
final class Simulation {
    final SimConfig config;
    private final GossipSettings settings;
    private final EventQueue queue = new EventQueue();
    private final Trace trace = new Trace();
    private final SimNetwork network;
    private final SplittableRandom scenario;
    private final SimNode[] nodes;
    private final SafetyChecker checker;
    private final SimShell shell;
    private final boolean narrate = Boolean.getBoolean("sim.narrate");
    private long steps;

    Simulation(SimConfig config) {
        this.config = config;
        this.settings = config.settings();
        SplittableRandom root = new SplittableRandom(config.seed);
        this.network = new SimNetwork(queue, root.split(), trace, config.nodes, config.faults);
        this.scenario = root.split();
        this.nodes = new SimNode[config.nodes];
        for (int i = 0; i < nodes.length; i++) {
            nodes[i] = new SimNode(i, root.split());
        }
        this.checker = new SafetyChecker(this, config.safety);
        this.shell = new SimShell(this, queue, network, trace, checker);
        for (SimNode n : nodes) {
            n.generation = 1;
            start(n, n.timer.nextLong(config.intervalMs));
        }
        if (config.safety != SafetyChecker.Mode.FULL) {
            scheduleSweep();
        }
    }

    // ---- accessors -------------------------------------------------------------------------------

    long now() {
        return queue.now();
    }

    long steps() {
        return steps;
    }

    long seed() {
        return config.seed;
    }

    int size() {
        return nodes.length;
    }

    SimNode node(int i) {
        return nodes[i];
    }

    SimNetwork network() {
        return network;
    }

    Trace trace() {
        return trace;
    }

    /** The scenario's own random stream (which node to crash, when to partition...). */
    SplittableRandom scenario() {
        return scenario;
    }

    List<Member> view(int i) {
        return nodes[i].gossiper.members(now());
    }

    /** Runs {@code watcher} on every spread a node's core asks for (before the network sees it). */
    void watchOutbound(BiConsumer<SimNode, Outbound> watcher) {
        shell.watchOutbound(watcher);
    }

    /** "seed=S step=N t=Tms" — the prefix of every failure, enough to replay it. */
    String where() {
        return "seed=" + config.seed + " step=" + steps + " t=" + now() + "ms";
    }

    /** With {@code -Dsim.narrate=true}, prints what the scenario does (crashes, partitions...). */
    void narrate(String what) {
        if (narrate) {
            System.out.println(where() + ": " + what);
        }
    }

    AssertionError failure(String message) {
        return new AssertionError(where() + ": " + message + " [" + config + "; replay with -Dsim.seed="
                + config.seed + "]");
    }

    // ---- running -----------------------------------------------------------------------------------

    /** Schedules a scenario action (a crash, a partition...) as an event {@code delayMs} from now. */
    void after(long delayMs, Runnable action) {
        queue.at(now() + delayMs, action);
    }

    /** Runs every event up to and including time {@code t}; the clock then reads {@code t}. */
    void runUntil(long t) {
        while (queue.nextTime() <= t) {
            step();
        }
        queue.advanceTo(t);
    }

    void runFor(long ms) {
        runUntil(now() + ms);
    }

    void runRounds(int rounds) {
        runFor(rounds * config.intervalMs);
    }

    /**
     * Runs until {@code condition} holds, checking it every {@code everyMs}; returns the time it first
     * held, or -1 if it did not within {@code maxMs}.
     */
    long runUntil(BooleanSupplier condition, long maxMs, long everyMs) {
        long deadline = now() + maxMs;
        while (!condition.getAsBoolean()) {
            if (now() >= deadline) {
                return -1;
            }
            runUntil(Math.min(now() + everyMs, deadline));
        }
        return now();
    }

    private void step() {
        if (steps >= config.maxEvents || queue.nextTime() > config.maxTimeMs) {
            throw failure("simulation bound exceeded (maxEvents=" + config.maxEvents + ", maxTimeMs="
                    + config.maxTimeMs + ")");
        }
        steps++;
        queue.runNext();
    }

    // ---- node life cycle ---------------------------------------------------------------------------

    private void start(SimNode n, long firstTickDelayMs) {
        n.info = n.initialInfo();
        n.gossiper = new Gossiper(n.id, n.generation, n.info, settings, n.nextGossiperRandom());
        n.up = true;
        trace.add("start", n.index, n.generation);
        checker.started(n.index);
        shell.startRounds(n, firstTickDelayMs);
    }

    /** Stops node {@code i}: it no longer ticks, and messages to it are dropped. */
    void crash(int i) {
        SimNode n = nodes[i];
        if (!n.up) {
            throw new IllegalStateException(n + " is already down");
        }
        checker.stopping(i);
        n.up = false;
        n.incarnation++;
        n.gossiper = null;
        trace.add("crash", i, n.generation);
        narrate("crash " + n);
    }

    /** Starts node {@code i} again: same id and endpoint, generation + 1, a fresh core. */
    void restart(int i) {
        SimNode n = nodes[i];
        if (n.up) {
            throw new IllegalStateException(n + " is up");
        }
        n.generation++;
        start(n, 0);
        narrate("restart " + n);
    }

    /** Node {@code i} announces LEFT (its core's {@code updateSelf}); it keeps running until crashed. */
    void leave(int i) {
        shell.announce(nodes[i], nodes[i].info.withStatus(NodeStatus.LEFT));
        narrate("leave " + nodes[i]);
    }

    private void scheduleSweep() {
        queue.at(now() + config.sweepEveryRounds * config.intervalMs, () -> {
            checker.sweep();
            scheduleSweep();
        });
    }

    /** Checks every running node's whole view now (also done periodically unless {@code FULL}). */
    void checkAll() {
        checker.sweep();
    }

    /** Test hook: feeds {@code state} to node {@code i}'s merge, as if it had arrived by gossip. */
    Gossiper.MergeResult inject(int i, NodeState state) {
        Gossiper.MergeResult r = nodes[i].gossiper.merge(state, now());
        trace.add("inject", i, r.ordinal());
        checker.afterEvent(i, List.of(state));
        return r;
    }
}
