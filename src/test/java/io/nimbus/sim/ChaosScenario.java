package io.nimbus.sim;

import io.nimbus.core.gossip.GossipSettings.Strategy;
import io.nimbus.core.gossip.NodeStatus;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

/**
 * A small cluster (10..20 nodes) under random faults, all drawn from one seed: lossy, slow, duplicating
 * links; partitions (one node isolated, or a random side split off) that come and go; crashes and
 * restarts (generation + 1); now and then a node that announces LEFT (and keeps running). Then everything
 * heals (partitions gone, loss 0, every crashed node restarted) and the cluster must converge.
 *
 * <p>Message caps are sometimes tiny (3 states, 4 digests) to exercise the capping paths; then the
 * failure timeout is 60 s, because so few states per message refresh heartbeats too slowly for 5 s
 * (and even 30 s) — the cluster would never look all-reachable.
 */
final class ChaosScenario {
    static final int CHAOS_ROUNDS = 40;
    static final int HEAL_ROUNDS_MAX = 300;

    final Simulation sim;
    private final SplittableRandom r;

    private ChaosScenario(Simulation sim) {
        this.sim = sim;
        this.r = sim.scenario();
    }

    /** The run's shape (size, strategy, faults, message caps), drawn from the seed. */
    static SimConfig config(long seed) {
        SplittableRandom p = new SplittableRandom(Trace.mix(seed, 0xC4A05L));
        int n = 10 + p.nextInt(11);
        Strategy strategy = p.nextBoolean() ? Strategy.RANDOM : Strategy.ROUND_ROBIN;
        long minDelay = 1 + p.nextInt(20);
        Faults faults = new Faults(p.nextDouble() * 0.15, minDelay, minDelay + p.nextInt(600), p.nextDouble() * 0.1);
        int[] states = {3, 256};
        int[] digests = {4, 4096};
        int stateCap = states[p.nextInt(states.length)];
        int digestCap = digests[p.nextInt(digests.length)];
        return SimConfig.of(seed, n, strategy).faults(faults).messageCaps(stateCap, digestCap)
                .failureTimeoutMs(stateCap < n || digestCap < n ? 60_000 : 5_000);
    }

    static ChaosScenario start(long seed) {
        return new ChaosScenario(new Simulation(config(seed)));
    }

    /** The chaos phase: one random fault decision per round. */
    ChaosScenario chaos() {
        sim.runRounds(3);
        for (int round = 0; round < CHAOS_ROUNDS; round++) {
            int n = sim.size();
            double x = r.nextDouble();
            if (x < 0.12) {
                int i = r.nextInt(n);
                sim.network().isolate(i);
                sim.narrate("isolate " + sim.node(i));
            } else if (x < 0.20) {
                List<Integer> side = new ArrayList<>();
                for (int i = 0; i < n; i++) {
                    if (r.nextInt(3) == 0) {
                        side.add(i);
                    }
                }
                sim.network().partition(side);
                sim.narrate("partition " + side);
            } else if (x < 0.32) {
                sim.network().heal();
                sim.narrate("heal");
            }
            double y = r.nextDouble();
            int i = r.nextInt(n);
            SimNode node = sim.node(i);
            // A node that announced LEFT keeps running and is never crashed, so it never restarts: rejoining
            // after LEFT has known bugs (RejoinAfterLeftTest).
            if (y < 0.10 && node.up && node.status() != NodeStatus.LEFT && Views.running(sim) > n * 3 / 4) {
                sim.crash(i);
            } else if (y < 0.25 && !node.up) {
                sim.restart(i);
            } else if (y < 0.28 && node.up && node.status() != NodeStatus.LEFT) {
                sim.leave(i);
            }
            if (r.nextDouble() < 0.05) {
                sim.network().setFaults(sim.network().faults().withLoss(r.nextDouble() * 0.25));
                sim.narrate("faults " + sim.network().faults());
            }
            sim.runFor(sim.config.intervalMs / 2 + r.nextLong(sim.config.intervalMs));
        }
        return this;
    }

    /** Heals everything: no partitions, no loss (delays and duplicates stay), all stopped nodes restarted. */
    ChaosScenario heal() {
        sim.narrate("heal everything");
        sim.network().heal();
        sim.network().setFaults(sim.network().faults().withLoss(0));
        for (int i = 0; i < sim.size(); i++) {
            if (!sim.node(i).up) {
                sim.restart(i);
            }
        }
        return this;
    }

    /** Rounds until converged after healing, or -1 if not within {@link #HEAL_ROUNDS_MAX}. */
    long roundsToConverge() {
        long start = sim.now();
        long t = sim.runUntil(() -> Views.converged(sim), HEAL_ROUNDS_MAX * sim.config.intervalMs,
                sim.config.intervalMs);
        return t < 0 ? -1 : (t - start) / sim.config.intervalMs;
    }
}
