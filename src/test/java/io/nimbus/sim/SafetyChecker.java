package io.nimbus.sim;

import io.nimbus.core.gossip.Gossiper;
import io.nimbus.core.gossip.NodeInfo;
import io.nimbus.core.gossip.NodeState;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Safety invariants, checked after every event on the node that handled it:
 * <ul>
 *   <li>per observer (per incarnation), the (generation, maxVersion) it holds for any node never goes
 *       backwards, nor within a generation the info version, and a known node is never forgotten;</li>
 *   <li>nobody holds a generation for a node higher than that node ever had, nor a version that node
 *       never produced in that generation, nor an info it never announced at that version;</li>
 *   <li>a node's own entry is its own: its generation and the info its shell last announced.</li>
 * </ul>
 * Each change of a held state is also appended to the trace.
 *
 * <p>{@link Mode#FULL} rescans the acting node's whole view after each event (O(N) per event).
 * {@link Mode#TOUCHED} checks its own entry and the entries named in the message just handled (the only
 * ones the core's API can change on that call), plus a full sweep of all nodes every few rounds.
 * {@link Mode#SAMPLED} (the 1000-node runs) is TOUCHED for every tenth node only, the own entry of every
 * node after each of its events, and the same periodic full sweep: it costs a few percent instead of a
 * third of the run. The invariants are local to one observer and do not depend on N; FULL covers them
 * exhaustively in the smaller runs.
 */
final class SafetyChecker {
    enum Mode { FULL, TOUCHED, SAMPLED }

    /** In {@code SAMPLED} mode, one node in this many is an observer checked entry by entry after each event. */
    static final int SAMPLE_STRIDE = 10;

    private record Announcement(long generation, long infoVersion, NodeInfo info) {
    }

    private final Simulation sim;
    private final Mode mode;
    private final int n;
    private final String[] ids;
    /** Per observer, per subject: the (generation, maxVersion, infoVersion) last seen, 3 longs each. */
    private final long[][] seen;
    private final long[] maxGenEver;
    private final List<Map<Long, Long>> finalMaxVersion = new ArrayList<>();
    private final List<List<Announcement>> announcements = new ArrayList<>();

    SafetyChecker(Simulation sim, Mode mode) {
        this.sim = sim;
        this.mode = mode;
        this.n = sim.size();
        this.ids = new String[n];
        this.seen = new long[n][3 * n];
        this.maxGenEver = new long[n];
        for (int i = 0; i < n; i++) {
            ids[i] = SimConfig.nodeId(i);
            finalMaxVersion.add(new HashMap<>());
            announcements.add(new ArrayList<>());
        }
    }

    /** Node {@code i} (re)started: its memory is new, its generation may be higher. */
    void started(int i) {
        Arrays.fill(seen[i], -1);
        maxGenEver[i] = Math.max(maxGenEver[i], sim.node(i).generation);
        announced(i);
        afterEvent(i, List.of());
    }

    /** Node {@code i} is about to stop: remember the last version of this generation. */
    void stopping(int i) {
        SimNode node = sim.node(i);
        finalMaxVersion.get(i).put(node.generation, node.gossiper.self().maxVersion());
    }

    /** Node {@code i}'s shell changed what it announces. */
    void announced(int i) {
        NodeState self = sim.node(i).gossiper.self();
        announcements.get(i).add(new Announcement(self.generation(), self.infoVersion(), self.info()));
    }

    void afterEvent(int observer, List<NodeState> touched) {
        checkSelf(observer);
        Gossiper g = sim.node(observer).gossiper;
        if (mode == Mode.SAMPLED && observer % SAMPLE_STRIDE != 0) {
            return;
        }
        if (mode == Mode.FULL) {
            for (int s = 0; s < n; s++) {
                if (s != observer) {
                    checkEntry(observer, s, g.state(ids[s]));
                }
            }
        } else {
            for (NodeState t : touched) {
                int s = index(observer, t.id());
                if (s != observer) {
                    checkEntry(observer, s, g.state(t.id()));
                }
            }
        }
    }

    /** A full check of every node that is up. */
    void sweep() {
        for (int o = 0; o < n; o++) {
            if (sim.node(o).up) {
                checkSelf(o);
                Gossiper g = sim.node(o).gossiper;
                for (int s = 0; s < n; s++) {
                    if (s != o) {
                        checkEntry(o, s, g.state(ids[s]));
                    }
                }
            }
        }
    }

    private void checkSelf(int o) {
        SimNode node = sim.node(o);
        NodeState self = node.gossiper.self();
        if (self == null || !self.id().equals(node.id) || self.generation() != node.generation
                || !self.info().equals(node.info) || node.gossiper.state(node.id) != self) {
            throw sim.failure(node.id + "'s own entry was overwritten: " + self + ", expected generation "
                    + node.generation + " and info " + node.info);
        }
        checkEntry(o, o, self);
    }

    private int index(int observer, String id) {
        try {
            int s = Integer.parseInt(id, 1, id.length(), 10);
            if (s >= 0 && s < n && ids[s].equals(id)) {
                return s;
            }
        } catch (RuntimeException ignored) {
            // falls through
        }
        throw sim.failure(ids[observer] + " got a state for unknown node '" + id + "'");
    }

    private void checkEntry(int o, int s, NodeState st) {
        long[] row = seen[o];
        int b = 3 * s;
        long pg = row[b];
        if (st == null) {
            if (pg >= 0) {
                throw sim.failure(ids[o] + " forgot " + ids[s] + " (held generation " + pg + ")");
            }
            return;
        }
        long g = st.generation();
        long mv = st.maxVersion();
        long iv = st.infoVersion();
        long pv = row[b + 1];
        long piv = row[b + 2];
        if (g == pg && mv == pv && iv == piv) {
            return;
        }
        if (!st.id().equals(ids[s])) {
            throw sim.failure(held(o, s, st) + " under the wrong id " + st.id());
        }
        if (g < pg || (g == pg && mv < pv)) {
            throw sim.failure(held(o, s, st) + " after (gen " + pg + ", maxVersion " + pv + "): went backwards");
        }
        if (g == pg && iv < piv) {
            throw sim.failure(held(o, s, st) + " after infoVersion " + piv + ": info went backwards");
        }
        if (g > maxGenEver[s]) {
            throw sim.failure(held(o, s, st) + " but " + ids[s] + " never had a generation above " + maxGenEver[s]);
        }
        long bound = versionBound(s, g);
        if (mv > bound) {
            throw sim.failure(held(o, s, st) + " but " + ids[s] + " never went beyond version " + bound
                    + " in that generation");
        }
        if (g != pg || iv != piv) {
            Announcement a = find(s, g, iv);
            if (a == null || !a.info().equals(st.info())) {
                throw sim.failure(held(o, s, st) + " with info " + st.info() + " that " + ids[s]
                        + " never announced at that version" + (a == null ? "" : " (it announced " + a.info() + ")"));
            }
        }
        row[b] = g;
        row[b + 1] = mv;
        row[b + 2] = iv;
        sim.trace().add("state", o, s, g, mv, iv);
    }

    private String held(int o, int s, NodeState st) {
        return ids[o] + " holds " + ids[s] + " at (gen " + st.generation() + ", maxVersion " + st.maxVersion()
                + ", infoVersion " + st.infoVersion() + ")";
    }

    private long versionBound(int s, long g) {
        SimNode node = sim.node(s);
        if (node.up && node.generation == g) {
            return node.gossiper.self().maxVersion();
        }
        Long last = finalMaxVersion.get(s).get(g);
        return last == null ? -1 : last;
    }

    private Announcement find(int s, long g, long iv) {
        for (Announcement a : announcements.get(s)) {
            if (a.generation() == g && a.infoVersion() == iv) {
                return a;
            }
        }
        return null;
    }
}
