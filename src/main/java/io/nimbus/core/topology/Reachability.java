package io.nimbus.core.topology;

import io.nimbus.core.gossip.Member;
import io.nimbus.core.gossip.NodeRole;

import java.util.List;
import java.util.Set;
import java.util.TreeSet;

/**
 * What a node's gossip view means for routing under its topology: which workers count as down, and
 * who announces the newest topology epoch. A worker is down when gossip considers it unreachable, or when
 * gossip's member of that name is another store than the topology's (a wiped worker under an old name
 * is not the replica the topology names).
 */
public final class Reachability {
    private Reachability() {
    }

    /** The names to treat as down (never this node itself). */
    public static Set<String> down(Topology t, List<Member> members) {
        Set<String> down = new TreeSet<>();
        for (Member m : members) {
            if (m.self()) {
                continue;
            }
            boolean otherStore = t != null && m.info().role() == NodeRole.WORKER && !m.info().hostId().isEmpty()
                    && t.worker(m.id()).map(w -> !w.host().toString().equals(m.info().hostId())).orElse(false);
            if (!m.reachable() || otherStore) {
                down.add(m.id());
            }
        }
        return down;
    }

    /** The reachable peer announcing the newest topology epoch (null if none announces one). */
    public static Member newestAnnouncer(List<Member> members) {
        Member newest = null;
        for (Member m : members) {
            if (!m.self() && m.reachable() && m.info().topologyEpoch() > 0
                    && (newest == null || m.info().topologyEpoch() > newest.info().topologyEpoch())) {
                newest = m;
            }
        }
        return newest;
    }
}
