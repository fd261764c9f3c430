package io.nimbus.sim;

import io.nimbus.core.gossip.GossipSettings.Strategy;
import io.nimbus.core.gossip.Member;
import io.nimbus.core.gossip.NodeState;
import io.nimbus.core.gossip.NodeStatus;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * A node that announced LEFT and then stopped for good is not resurrected by stale gossip: a node cut
 * off while it still held the old (pre-LEFT) state rejoins, and afterwards everyone shows LEFT for it,
 * nobody sees it reachable, and nobody who knows it left ever spreads to it.
 */
class LeftNodeTest {
    static final int N = 10;
    static final int STALE = 3;
    static final int LEAVER = 6;

    @ParameterizedTest
    @EnumSource(Strategy.class)
    void leftNodeIsNotResurrectedByStaleState(Strategy strategy) {
        Simulation sim = new Simulation(SimConfig.of(SimSeeds.seedOr(31), N, strategy));
        String leaver = sim.node(LEAVER).id;
        // Nodes still probe a LEFT node now and then (so one that comes back with a new generation is
        // found again); what must never happen is that the stale state brings it back.
        long[] spreadsToLeft = {0};
        long[] spreads = {0};
        sim.watchOutbound((from, out) -> {
            spreads[0]++;
            NodeState held = from.gossiper.state(leaver);
            if (out.endpoint().equals(sim.node(LEAVER).endpoint) && held != null
                    && held.info().status() == NodeStatus.LEFT) {
                spreadsToLeft[0]++;
            }
        });
        Await.converged(sim, 30, "cold start");
        Await.until(sim, () -> allButStaleSee(sim, NodeStatus.NORMAL)
                        && Views.statusSeen(sim, STALE, LEAVER) == NodeStatus.NORMAL, 30_000, 100,
                "everyone seeing " + leaver + " NORMAL", () -> Views.divergence(sim));

        sim.network().isolate(STALE);
        sim.leave(LEAVER);
        Await.until(sim, () -> allButStaleSee(sim, NodeStatus.LEFT), 30_000, 100, "everyone learning LEFT",
                () -> Views.divergence(sim));
        sim.runRounds(3);
        sim.crash(LEAVER);
        sim.runRounds(10);
        assertEquals(NodeStatus.NORMAL, Views.statusSeen(sim, STALE, LEAVER),
                sim.where() + ": the cut-off node still holds the pre-LEFT state");

        sim.network().heal();
        Await.until(sim, () -> Views.statusSeen(sim, STALE, LEAVER) == NodeStatus.LEFT, 60_000, 100,
                "the stale node learning LEFT", () -> "it holds " + Views.statusSeen(sim, STALE, LEAVER));
        for (int round = 0; round < 30; round++) {
            sim.runRounds(1);
            for (int o = 0; o < N; o++) {
                if (o == LEAVER) {
                    continue;
                }
                Member m = sim.view(o).stream().filter(x -> x.id().equals(leaver)).findFirst().orElseThrow();
                if (m.info().status() != NodeStatus.LEFT || m.reachable()) {
                    throw sim.failure(sim.node(o).id + " resurrected " + leaver + ": " + m);
                }
            }
        }
        Await.converged(sim, 100, "convergence after healing");
        // probes of a LEFT node are rare: nothing like the 1-in-(N-1) share a live peer gets
        org.junit.jupiter.api.Assertions.assertTrue(spreadsToLeft[0] * 4 * (N - 1) < spreads[0],
                sim.where() + ": " + spreadsToLeft[0] + " of " + spreads[0] + " spreads went to the LEFT node");
    }

    private static boolean allButStaleSee(Simulation sim, NodeStatus status) {
        for (int o = 0; o < sim.size(); o++) {
            if (o != STALE && o != LEAVER && Views.statusSeen(sim, o, LEAVER) != status) {
                return false;
            }
        }
        return true;
    }
}
