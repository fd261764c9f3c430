package io.nimbus.sim.paxos;

import io.nimbus.core.kv.Ballot;
import io.nimbus.core.coordinator.KeyQueue;
import io.nimbus.core.coordinator.Terms;
import io.nimbus.core.kv.BallotClock;
import io.nimbus.core.kv.KeyState;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.TreeMap;

/**
 * One simulated worker: an acceptor for the keys it replicates and a coordinator for its clients.
 *
 * <p>What survives a crash ({@code durable*}) is kept apart from what does not ({@code working}, the
 * pending group commit, the clock object, the coordinations). The ballot clock is time-based, like the
 * store's: {@code max(last + 1, now µs)}, with this node's clock skew; its high-water mark is persisted
 * every time it moves, so a restarted node never reuses a ballot.
 */
final class PaxosNode {
    final int index;
    final String id;
    /** This node's clock is off by this much (may be negative). */
    final long skewMs;
    final SplittableRandom random;

    boolean up = true;
    /** Bumped on every crash and restart: events of an earlier incarnation find it changed and do nothing. */
    int incarnation;

    final Map<String, KeyState> durable = new TreeMap<>();
    long durableHighWater;

    final Map<String, KeyState> working = new TreeMap<>();
    BallotClock clock;
    /** When the last scheduled group commit completes; replies are released in order after it. */
    long lastFlush;
    final List<PaxosSim.Coordination> coordinating = new ArrayList<>();
    /** As the real coordinator: requests on one key run one after another on a node; the head is running. */
    KeyQueue<PaxosSim.Coordination> perKey = new KeyQueue<>(true);
    /** The coordinator's terms (in memory, as in the real coordinator: a crash loses them). */
    Terms terms = newTerms();
    static final int TERMS_MAX = 64;

    PaxosNode(int index, SplittableRandom random) {
        this.index = index;
        this.id = PaxosSimConfig.nodeId(index);
        this.random = random;
        this.skewMs = random.nextLong(201) - 100;
        this.clock = new BallotClock(id, 0);
    }

    /** Terms checked against this node's own (working) registers, as the real coordinator checks its store's. */
    private Terms newTerms() {
        return new Terms(TERMS_MAX, id, key -> up ? state(key).promised() : null);
    }

    KeyState state(String key) {
        return working.getOrDefault(key, KeyState.EMPTY);
    }

    /** A fresh ballot from this node's clock; the high-water mark is durable before the ballot is used. */
    Ballot nextBallot(long nowMs) {
        Ballot b = clock.next((nowMs + skewMs + 1000) * 1000);
        durableHighWater = clock.highWaterMark();
        return b;
    }

    void observe(Ballot seen) {
        clock.observe(seen);
        durableHighWater = clock.highWaterMark();
    }

    /** Loses everything not durable. */
    void crash() {
        up = false;
        incarnation++;
        working.clear();
        coordinating.clear();
        perKey = new KeyQueue<>(true);
        terms = newTerms();
        clock = null;
    }

    /** Starts again from the durable state. */
    void restart(long nowMs) {
        up = true;
        incarnation++;
        working.clear();
        working.putAll(durable);
        clock = new BallotClock(id, durableHighWater);
        lastFlush = nowMs;
    }

    @Override
    public String toString() {
        return id + (up ? "" : "(down)");
    }
}
