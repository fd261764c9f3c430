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

    /**
     * Gossip knows {@code name} and reaches it. A worker gossip never heard of since this start is not alive
     * to it (removenode may remove it).
     */
    public static boolean heardAlive(String name, List<Member> members, Set<String> down) {
        if (down.contains(name)) {
            return false;
        }
        for (Member m : members) {
            if (m.id().equals(name) && m.reachable()) {
                return true;
            }
        }
        return false;
    }

    /**
     * This node ({@code self}) holds the newest topology its reachable peers announce and has heard from most of
     * the other workers of {@code t} (reachable in its gossip view, not merely "not known to be down"): only then
     * may it judge which ranges it no longer replicates (cleanup). A node that has just restarted has heard from
     * nobody yet, so it does not clean up on the topology it loaded until its peers have told it their epochs (a
     * pending replica restarted on an older epoch would otherwise delete rows that a newer one's requests wrote:
     * cluster simulator seed 846).
     */
    public static boolean upToDate(Topology t, String self, List<Member> members, Set<String> down) {
        Set<String> heard = new java.util.HashSet<>();
        for (Member m : members) {
            if (!m.self() && m.reachable() && m.info().topologyEpoch() > t.epoch()) {
                return false;
            }
            if (!m.self() && m.reachable()) {
                heard.add(m.id());
            }
        }
        int reached = 0;
        for (Worker w : t.workers()) {
            if (!w.name().equals(self) && !down.contains(w.name()) && heard.contains(w.name())) {
                reached++;
            }
        }
        return reached * 2 >= t.workers().size() - 1 && (t.workers().size() == 1 || reached > 0);
    }

    /** The member a wiped store under {@code old}'s name asks to remove the old host: the first reachable other worker. */
    public static java.util.Optional<Worker> replacementHelper(Topology t, Worker old, Set<String> down) {
        for (Worker w : t.workers()) {
            if (!w.name().equals(old.name()) && !down.contains(w.name())) {
                return java.util.Optional.of(w);
            }
        }
        return java.util.Optional.empty();
    }
}
