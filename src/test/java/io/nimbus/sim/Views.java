package io.nimbus.sim;

import io.nimbus.core.gossip.Member;
import io.nimbus.core.gossip.NodeState;
import io.nimbus.core.gossip.NodeStatus;

import java.util.List;

/** Liveness predicates over all nodes' views (the convergence checks of the tests). */
final class Views {
    private Views() {
    }

    static int index(String id) {
        return Integer.parseInt(id.substring(1));
    }

    /**
     * Null when converged, else the first reason why not. Converged: every running node (that did not
     * leave) knows all N
     * nodes; it holds every running node at that node's current generation and sees it reachable
     * (unless it announced LEFT); it sees every node that announced LEFT as LEFT and unreachable.
     */
    static String divergence(Simulation sim) {
        int n = sim.size();
        for (int o = 0; o < n; o++) {
            SimNode observer = sim.node(o);
            if (!observer.up || observer.status() == NodeStatus.LEFT) {
                continue; // a node that left stops spreading; its view may stay partial
            }
            List<Member> view = sim.view(o);
            if (view.size() != n) {
                return observer.id + " knows " + view.size() + "/" + n + " nodes";
            }
            for (Member m : view) {
                if (m.self()) {
                    continue;
                }
                SimNode s = sim.node(index(m.id()));
                boolean left = s.info.status() == NodeStatus.LEFT;
                if (left) {
                    if (m.info().status() != NodeStatus.LEFT || m.reachable()) {
                        return observer.id + " sees " + s.id + " (LEFT) as " + m.info().status()
                                + (m.reachable() ? ", reachable" : "");
                    }
                } else if (s.up) {
                    if (m.generation() != s.generation) {
                        return observer.id + " holds " + s.id + " at generation " + m.generation() + ", not "
                                + s.generation;
                    }
                    if (!m.reachable()) {
                        return observer.id + " sees " + s.id + " unreachable";
                    }
                }
            }
        }
        return null;
    }

    static boolean converged(Simulation sim) {
        return divergence(sim) == null;
    }

    /** How many running nodes other than {@code subject} see it reachable. */
    static int reachableBy(Simulation sim, int subject) {
        int count = 0;
        String id = sim.node(subject).id;
        for (int o = 0; o < sim.size(); o++) {
            if (o != subject && sim.node(o).up && sim.node(o).gossiper.isReachable(id, sim.now())) {
                count++;
            }
        }
        return count;
    }

    /** How many running nodes other than {@code subject} hold it at generation {@code gen}. */
    static int holdingGeneration(Simulation sim, int subject, long gen) {
        int count = 0;
        String id = sim.node(subject).id;
        for (int o = 0; o < sim.size(); o++) {
            NodeState st = o == subject || !sim.node(o).up ? null : sim.node(o).gossiper.state(id);
            if (st != null && st.generation() == gen) {
                count++;
            }
        }
        return count;
    }

    static int running(Simulation sim) {
        int count = 0;
        for (int o = 0; o < sim.size(); o++) {
            if (sim.node(o).up) {
                count++;
            }
        }
        return count;
    }

    /** The status {@code observer} holds for {@code subject}, or null if it does not know it. */
    static NodeStatus statusSeen(Simulation sim, int observer, int subject) {
        NodeState st = sim.node(observer).gossiper.state(sim.node(subject).id);
        return st == null ? null : st.info().status();
    }
}
