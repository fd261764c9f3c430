package io.nimbus.core.topology;

import io.nimbus.core.paxos.Quorum;

import java.util.List;
import java.util.Set;

/**
 * May the epoch after {@code t} be committed (TOPOLOGY.md §3)? Only once the workers known to hold
 * {@code t} durably (past their writer's fence point) form a blocking set of every quorum system
 * {@code t} retired ({@link Topology#retired()}): then no request of the epoch before can gather a quorum
 * (those members refuse it), so at most two neighbouring epochs are ever live for a range or for the
 * topology register. The retired systems travel in the topology value, so whoever makes the next change
 * checks this first, even after the previous change's driver crashed or gave up.
 */
public final class Barrier {
    private Barrier() {
    }

    /** The quorum systems {@code t} retired. */
    public static List<Quorum> retired(Topology t) {
        return t.retired().quorums();
    }

    /** True when {@code acked} (workers that hold {@code t} or newer, durably) blocks every retired quorum. */
    public static boolean passed(Topology t, Set<String> acked) {
        for (Quorum q : retired(t)) {
            if (!q.blockedBy(acked)) {
                return false;
            }
        }
        return true;
    }

    /** The same, for a {@code next} that was made from {@code previous} (its retired systems are recorded in it). */
    public static boolean passed(Topology previous, Topology next, Set<String> acked) {
        if (next.epoch() != previous.epoch() + 1 || !next.clusterId().equals(previous.clusterId())) {
            throw new IllegalArgumentException("epoch " + next.epoch() + " does not follow " + previous.epoch());
        }
        return passed(next, acked);
    }
}
