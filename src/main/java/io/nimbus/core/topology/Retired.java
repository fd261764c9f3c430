package io.nimbus.core.topology;

import io.nimbus.core.paxos.Quorum;

import java.util.ArrayList;
import java.util.List;

/**
 * The quorum systems an epoch retired, kept in the topology value itself so that whoever makes the next
 * change — any node, after any crash — can check the barrier first ({@link Barrier}): one majority per
 * distinct replica set of a range whose placement the epoch changed, and the register's previous
 * electorate if the epoch changed it.
 */
public record Retired(List<List<String>> majorities, Electorate electorate) {
    public static final Retired NONE = new Retired(List.of(), null);

    public Retired {
        List<List<String>> copy = new ArrayList<>(majorities.size());
        for (List<String> m : majorities) {
            if (m.isEmpty()) {
                throw new IllegalArgumentException("a retired replica set is empty");
            }
            copy.add(List.copyOf(m));
        }
        majorities = List.copyOf(copy);
    }

    public List<Quorum> quorums() {
        List<Quorum> out = new ArrayList<>(majorities.size() + 1);
        for (List<String> m : majorities) {
            out.add(Quorum.majority(m));
        }
        if (electorate != null) {
            out.add(electorate.quorum());
        }
        return out;
    }

    public boolean isEmpty() {
        return majorities.isEmpty() && electorate == null;
    }
}
