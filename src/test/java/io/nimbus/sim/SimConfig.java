package io.nimbus.sim;

import io.nimbus.core.gossip.Endpoint;
import io.nimbus.core.gossip.GossipSettings;
import io.nimbus.core.gossip.GossipSettings.Strategy;

import java.util.List;

/** Everything a simulation run is made of; the seed decides all the rest. Fluent setters. */
final class SimConfig {
    final long seed;
    final int nodes;
    final Strategy strategy;
    long intervalMs = 1000;
    long failureTimeoutMs = 5000;
    int missedAcksMax = 3;
    int statesPerMessageMax = 256;
    int digestsPerMessageMax = 4096;
    long generationJumpMax = Long.MAX_VALUE / 4;
    /** Generations are 1, 2, … on a virtual clock from 0: the real default bound never refuses them. */
    long generationAheadMaxMs = 3_600_000;
    long seedBackoffMaxMs = 8000;
    /** As the shell: {@code max(100, interval)}. */
    long requestTimeoutMs = 1000;
    /** Each node's next round starts {@code intervalMs} ± this after its last one. */
    long tickJitterMs = 50;
    Faults faults = Faults.none();
    /** Safety after every event: {@code FULL} rescans the acting node's whole view, see {@link SafetyChecker}. */
    SafetyChecker.Mode safety = SafetyChecker.Mode.FULL;
    /** Unless {@code FULL}, every node's whole view is also checked every this many rounds. */
    int sweepEveryRounds = 1;
    long maxEvents = 20_000_000;
    long maxTimeMs = 3_600_000;

    private SimConfig(long seed, int nodes, Strategy strategy) {
        this.seed = seed;
        this.nodes = nodes;
        this.strategy = strategy;
    }

    static SimConfig of(long seed, int nodes, Strategy strategy) {
        return new SimConfig(seed, nodes, strategy);
    }

    SimConfig faults(Faults f) {
        this.faults = f;
        return this;
    }

    SimConfig failureTimeoutMs(long ms) {
        this.failureTimeoutMs = ms;
        return this;
    }

    SimConfig messageCaps(int states, int digests) {
        this.statesPerMessageMax = states;
        this.digestsPerMessageMax = digests;
        return this;
    }

    SimConfig safety(SafetyChecker.Mode mode, int sweepEveryRounds) {
        this.safety = mode;
        this.sweepEveryRounds = sweepEveryRounds;
        return this;
    }

    static String nodeId(int i) {
        return String.format("n%04d", i);
    }

    static Endpoint endpoint(int i) {
        return new Endpoint("10.0." + (i / 250) + "." + (i % 250 + 1), 7000);
    }

    /** Every node starts knowing only node 0's endpoint as seed (node 0 skips itself). */
    GossipSettings settings() {
        return new GossipSettings(intervalMs, strategy, failureTimeoutMs, missedAcksMax, statesPerMessageMax,
                digestsPerMessageMax, generationJumpMax, generationAheadMaxMs, seedBackoffMaxMs, List.of(endpoint(0)));
    }

    @Override
    public String toString() {
        return "seed=" + seed + " nodes=" + nodes + " strategy=" + strategy + " faults=" + faults
                + " failureTimeoutMs=" + failureTimeoutMs + " caps=" + statesPerMessageMax + "/" + digestsPerMessageMax;
    }
}
