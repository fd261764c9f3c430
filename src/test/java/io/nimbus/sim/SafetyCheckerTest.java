package io.nimbus.sim;

import io.nimbus.core.gossip.GossipSettings.Strategy;
import io.nimbus.core.gossip.NodeState;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The invariants are not vacuous: states no node ever produced are caught, with a replayable message. */
class SafetyCheckerTest {

    private static Simulation converged() {
        Simulation sim = new Simulation(SimConfig.of(SimSeeds.seedOr(99), 5, Strategy.RANDOM));
        Await.converged(sim, 20, "5 nodes converging");
        return sim;
    }

    private static void assertReplayable(AssertionError e, Simulation sim) {
        assertTrue(e.getMessage().startsWith("seed=" + sim.seed() + " step="), e.getMessage());
        assertTrue(e.getMessage().contains("-Dsim.seed=" + sim.seed()), e.getMessage());
    }

    @Test
    void aGenerationNobodyHadIsCaught() {
        Simulation sim = converged();
        NodeState real = sim.node(1).gossiper.state(sim.node(3).id);
        NodeState invented = new NodeState(real.id(), real.generation() + 5, 1, 1, real.info());
        AssertionError e = assertThrows(AssertionError.class, () -> sim.inject(1, invented));
        assertTrue(e.getMessage().contains("never had a generation above"), e.getMessage());
        assertReplayable(e, sim);
    }

    @Test
    void aVersionTheNodeNeverReachedIsCaught() {
        Simulation sim = converged();
        NodeState real = sim.node(1).gossiper.state(sim.node(3).id);
        NodeState invented = new NodeState(real.id(), real.generation(), real.heartbeat() + 1000,
                real.infoVersion(), real.info());
        AssertionError e = assertThrows(AssertionError.class, () -> sim.inject(1, invented));
        assertTrue(e.getMessage().contains("never went beyond version"), e.getMessage());
        assertReplayable(e, sim);
    }

    @Test
    void anInfoNeverAnnouncedIsCaught() {
        Simulation sim = converged();
        NodeState real = sim.node(1).gossiper.state(sim.node(3).id);
        NodeState invented = new NodeState(real.id(), real.generation(), real.heartbeat(), real.infoVersion() + 1,
                real.info().withTokens(java.util.List.of(-1L)));
        assertThrows(AssertionError.class, () -> sim.inject(1, invented));
    }
}
