package io.nimbus.core.topology;

import io.nimbus.core.paxos.Quorum;

import java.util.ArrayList;
import java.util.List;

/**
 * Where one key lives at one epoch: its natural replicas in ring order, and the epoch of the last
 * change of its range's placement (requests from coordinators older than that are fenced).
 */
public record Placement(List<Replica> natural, long changedAt) {
    public Placement {
        natural = List.copyOf(natural);
    }

    public List<String> names() {
        List<String> out = new ArrayList<>(natural.size());
        for (Replica r : natural) {
            out.add(r.name());
        }
        return out;
    }

    /** The level's quorum over the natural replicas ({@code all}: every one of them). */
    public Quorum quorum(boolean all) {
        return all ? Quorum.all(names()) : Quorum.majority(names());
    }
}
