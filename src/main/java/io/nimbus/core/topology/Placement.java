package io.nimbus.core.topology;

import io.nimbus.core.paxos.Quorum;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * Where one key lives at one epoch (TOPOLOGY.md §2, §4): its natural replicas in ring order, the set it
 * will have when the topology operation in progress finishes ({@code next}; the natural set when none
 * moves the key), and the epoch of the last change of its range's placement (requests from coordinators
 * older than that are fenced). The replicas in {@code next} but not natural are <em>pending</em>: they
 * receive every write, and count only toward the new set's majority.
 */
public record Placement(List<Replica> natural, List<Replica> next, long changedAt) {
    public Placement {
        natural = List.copyOf(natural);
        next = List.copyOf(next);
    }

    /** A placement no operation moves. */
    public Placement(List<Replica> natural, long changedAt) {
        this(natural, natural, changedAt);
    }

    /** True while an operation changes this key's replica set. */
    public boolean moving() {
        return !natural.equals(next) && !new HashSet<>(natural).equals(new HashSet<>(next));
    }

    /** The replicas in the new set only: they hold nothing until streamed. */
    public List<Replica> pending() {
        if (natural.equals(next)) {
            return List.of();
        }
        List<Replica> out = new ArrayList<>();
        for (Replica r : next) {
            if (!natural.contains(r)) {
                out.add(r);
            }
        }
        return out;
    }

    /** Every replica a request goes to: the natural ones (ring order), then the pending ones. */
    public List<Replica> replicas() {
        if (natural.equals(next)) {
            return natural;
        }
        Set<Replica> all = new LinkedHashSet<>(natural);
        all.addAll(next);
        return List.copyOf(all);
    }

    /** The natural replicas' names, in ring order. */
    public List<String> names() {
        return names(natural);
    }

    public static List<String> names(List<Replica> rs) {
        List<String> out = new ArrayList<>(rs.size());
        for (Replica r : rs) {
            out.add(r.name());
        }
        return out;
    }

    /**
     * The level's quorum: a majority of the natural set, or while the key moves, a majority of the old
     * set <em>and</em> of the new one (joint); {@code all}: every natural and pending replica.
     */
    public Quorum quorum(boolean all) {
        if (all) {
            return Quorum.all(names(replicas()));
        }
        Quorum old = Quorum.majority(names(natural));
        return moving() ? new Quorum.Joint(old, Quorum.majority(names(next))) : old;
    }

    /** {@code name} is a natural or a pending replica of this key. */
    public boolean includes(String name) {
        for (Replica r : natural) {
            if (r.name().equals(name)) {
                return true;
            }
        }
        for (Replica r : next) {
            if (r.name().equals(name)) {
                return true;
            }
        }
        return false;
    }
}
