package io.nimbus.core.topology;

import io.nimbus.core.paxos.Quorum;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;

/**
 * When may the epoch after {@code next} be committed (TOPOLOGY.md §3)? When, for every range whose
 * placement {@code next} changed (and for the register, if its electorate changed), the workers known
 * to hold {@code next} durably form a blocking set of that range's quorums under {@code previous}:
 * then no request at the older epoch can gather a quorum (those members refuse it), so at most two
 * neighbouring epochs are ever live for a range.
 */
public final class Barrier {
    private Barrier() {
    }

    /**
     * The quorum systems of {@code previous} that {@code next} retired: one per distinct natural replica
     * set of a range {@code next} changed, plus the register's if its electorate changed.
     */
    public static List<Quorum> retired(Topology previous, Topology next) {
        Set<Set<String>> seen = new HashSet<>();
        List<Quorum> out = new ArrayList<>();
        for (long b : Topology.boundaries(previous, next)) {
            if (next.changedAt(b) == next.epoch()) {
                Placement before = previous.placement(b);
                Set<String> names = new TreeSet<>(before.names());
                if (seen.add(names)) {
                    out.add(Quorum.majority(names));
                }
            }
        }
        if (next.electorateChangedAt() == next.epoch()) {
            out.add(previous.electorate().quorum());
        }
        return out;
    }

    /** True when {@code acked} (workers that hold {@code next} or newer, durably) blocks every retired quorum. */
    public static boolean passed(Topology previous, Topology next, Set<String> acked) {
        for (Quorum q : retired(previous, next)) {
            if (!q.blockedBy(acked)) {
                return false;
            }
        }
        return true;
    }
}
