package io.nimbus.sim;

import io.nimbus.core.gossip.GossipSettings.Strategy;
import io.nimbus.core.gossip.NodeStatus;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A node that announced LEFT, stopped, and is later started again (same id and endpoint, generation + 1)
 * must rejoin: its new generation supersedes the LEFT state everywhere. Peers never spread to members
 * they hold as LEFT, so the restarted node has to reach them itself; two ways it fails to are bugs.
 */
class RejoinAfterLeftTest {
    static final int N = 8;

    private static Simulation convergedCluster(Strategy strategy) {
        Simulation sim = new Simulation(SimConfig.of(SimSeeds.seedOr(51), N, strategy));
        Await.converged(sim, 30, "cold start");
        return sim;
    }

    /** {@code k} leaves; once every running node but {@code cutOff} knows, it stops. */
    private static void leaveAndStop(Simulation sim, int k, int cutOff) {
        sim.leave(k);
        Await.until(sim, () -> allSee(sim, k, NodeStatus.LEFT, cutOff), 30_000, 100, "everyone learning LEFT",
                () -> Views.divergence(sim));
        sim.crash(k);
        sim.runRounds(5);
    }

    private static void assertRejoined(Simulation sim, int k) {
        Await.converged(sim, 60, "rejoin of " + sim.node(k).id + " after LEFT");
        assertEquals(N - 1, Views.holdingGeneration(sim, k, sim.node(k).generation), sim.where());
        Await.until(sim, () -> allSee(sim, k, NodeStatus.NORMAL, -1), 10_000, 100, "everyone seeing it NORMAL",
                () -> Views.divergence(sim));
    }

    private static boolean allSee(Simulation sim, int k, NodeStatus status, int except) {
        for (int o = 0; o < sim.size(); o++) {
            if (o != except && sim.node(o).up && Views.statusSeen(sim, o, k) != status) {
                return false;
            }
        }
        return true;
    }

    /** A node that is not the seed rejoins through the seed. */
    @ParameterizedTest
    @EnumSource(Strategy.class)
    void nonSeedNodeRejoinsAfterLeft(Strategy strategy) {
        Simulation sim = convergedCluster(strategy);
        leaveAndStop(sim, 5, -1);
        sim.restart(5);
        assertRejoined(sim, 5);
    }

    @ParameterizedTest
    @EnumSource(Strategy.class)
    void seedNodeRejoinsAfterLeft(Strategy strategy) {
        Simulation sim = convergedCluster(strategy);
        leaveAndStop(sim, 0, -1);
        sim.restart(0);
        assertRejoined(sim, 0);
    }

    @ParameterizedTest
    @EnumSource(Strategy.class)
    void restartedNodeWhoseFirstExchangeBreaksRejoinsAfterLeft(Strategy strategy) {
        int k = 3;
        int stale = 1;
        Simulation sim = convergedCluster(strategy);
        sim.network().isolate(stale); // keeps the pre-LEFT state of k
        leaveAndStop(sim, k, stale);
        assertEquals(NodeStatus.NORMAL, Views.statusSeen(sim, stale, k), sim.where());
        sim.network().partition(List.of(stale, k)); // k restarts where only the stale node can reach it
        boolean[] armed = {true};
        sim.watchOutbound((from, out) -> {
            if (armed[0] && from.index == stale && out.endpoint().equals(sim.node(k).endpoint)) {
                armed[0] = false;
                sim.after(0, () -> sim.crash(stale)); // its Syn is on the way; the Ack will find it dead
            }
        });
        sim.restart(k);
        Await.until(sim, () -> !armed[0] && !sim.node(stale).up, 60_000, 100, "the stale node's Syn on its way to "
                + sim.node(k).id, () -> "armed=" + armed[0]);
        sim.runRounds(5);
        // a Syn alone teaches nothing: k must not count as joined, so it keeps trying its seeds
        assertTrue(!sim.node(k).gossiper.joined() && sim.node(k).gossiper.size() == 1,
                sim.where() + ": joined=" + sim.node(k).gossiper.joined() + " knowing " + sim.node(k).gossiper.size());
        sim.network().heal();
        sim.restart(stale);
        assertRejoined(sim, k);
    }
}
