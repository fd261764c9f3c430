package io.nimbus.core.topology;

import io.nimbus.core.paxos.Quorum;

import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * The acceptors of the topology register itself. It changes one member at a time in two epochs, as a
 * key's replica set does: first joint ({@code next} not empty: a majority of {@code current} and a
 * majority of {@code next}), then {@code next} alone. Each step is its own epoch, and the register's
 * fence ({@link Topology#electorateChangedAt()}) plus the barrier keep at most two neighbouring
 * configurations live, whose quorums intersect.
 */
public record Electorate(List<Replica> current, List<Replica> next) {
    public Electorate {
        current = List.copyOf(current);
        next = List.copyOf(next);
        if (current.isEmpty()) {
            throw new IllegalArgumentException("an electorate needs a member");
        }
        if (new LinkedHashSet<>(current).size() != current.size() || new LinkedHashSet<>(next).size() != next.size()) {
            throw new IllegalArgumentException("electorate members repeat: " + current + " / " + next);
        }
    }

    public static Electorate of(Replica... members) {
        return new Electorate(List.of(members), List.of());
    }

    public boolean isJoint() {
        return !next.isEmpty();
    }

    /** Everyone who takes part now: {@code current ∪ next}. */
    public List<Replica> members() {
        Set<Replica> all = new LinkedHashSet<>(current);
        all.addAll(next);
        return List.copyOf(all);
    }

    public boolean contains(Replica r) {
        return current.contains(r) || next.contains(r);
    }

    public Quorum quorum() {
        Quorum now = Quorum.majority(names(current));
        return next.isEmpty() ? now : new Quorum.Joint(now, Quorum.majority(names(next)));
    }

    static List<String> names(List<Replica> rs) {
        List<String> out = new ArrayList<>(rs.size());
        for (Replica r : rs) {
            out.add(r.name());
        }
        return out;
    }
}
