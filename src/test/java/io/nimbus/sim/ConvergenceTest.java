package io.nimbus.sim;

import io.nimbus.core.gossip.GossipSettings.Strategy;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A cold start: N nodes all knowing only node 0's endpoint as seed must converge (everyone knows all N
 * nodes and sees all reachable). Prints "strategy N rounds log2(N)" for both strategies.
 *
 * <p>Bound: push-pull gossip spreads a rumour to all N nodes in about log2(N) + O(log log N) rounds
 * w.h.p. (Karp et al., "Randomized rumor spreading", 2000); joining through the seed costs a round or
 * two, and the last stragglers more: with N above statesPerMessageMax (256) an answer carries a random
 * 256 of all states newer than the peer's, so heartbeat refreshes crowd out members it has never seen:
 * a long tail (ROUND_ROBIN at N = 1000: 19-26 rounds for seeds 1 and 3-7, 34 for seed 2; 6 with
 * the cap lifted). So we allow {@code 4·log2(N) + 10} rounds (24, 37, 50 for 10, 100, 1000). A protocol
 * that learned only through the seed, or spread along a fixed ring, needs Θ(N) rounds and fails this at
 * N = 100 and 1000; one that lost members or generations never converges at all.
 */
class ConvergenceTest {
    private record Row(Strategy strategy, int n, long knowAllRounds, long rounds, long failureTimeoutMs) {
    }

    private static final List<Row> ROWS = new ArrayList<>();

    static int bound(int n) {
        return (int) Math.ceil(4 * log2(n)) + 10;
    }

    static double log2(int n) {
        return Math.log(n) / Math.log(2);
    }

    static Stream<Arguments> smallClusters() {
        return Stream.of(Strategy.values()).flatMap(s -> Stream.of(Arguments.of(s, 10), Arguments.of(s, 100)));
    }

    /** Runs one cold start, checking every round; returns the table row. */
    static Row coldStart(SimConfig config) {
        Simulation sim = new Simulation(config);
        int n = config.nodes;
        long interval = config.intervalMs;
        long knowAll = -1;
        for (int round = 1; round <= bound(n); round++) {
            sim.runUntil(round * interval);
            if (knowAll < 0 && everyoneKnowsEveryone(sim)) {
                knowAll = round;
            }
            if (Views.converged(sim)) {
                sim.checkAll();
                return new Row(config.strategy, n, knowAll, round, config.failureTimeoutMs);
            }
        }
        throw sim.failure(config.strategy + " N=" + n + " did not converge within " + bound(n) + " rounds: "
                + Views.divergence(sim));
    }

    private static boolean everyoneKnowsEveryone(Simulation sim) {
        for (int i = 0; i < sim.size(); i++) {
            if (sim.node(i).gossiper.size() != sim.size()) {
                return false;
            }
        }
        return true;
    }

    private static synchronized void record(Row row) {
        ROWS.add(row);
        assertTrue(row.rounds() <= bound(row.n()), row.toString());
    }

    @ParameterizedTest(name = "{0} N={1}")
    @MethodSource("smallClusters")
    void smallClusterConvergesFromOneSeed(Strategy strategy, int n) {
        record(coldStart(SimConfig.of(SimSeeds.seedOr(1), n, strategy)));
    }

    /**
     * 1000 nodes, both strategies in parallel (two independent simulations, still deterministic).
     * Cheaper config, to stay affordable (a round of 1000 nodes costs ~0.7 s of CPU in the core alone):
     * no faults; safety in {@link SafetyChecker.Mode#SAMPLED} mode (every node's own entry after each of
     * its events, every entry a message touched for one node in ten, a full sweep of all nodes every 5
     * rounds and at convergence). Failure timeout 30 s instead of 5 s: at N = 1000
     * (with 256 states per message) a heartbeat can go 15+ rounds without reaching a given node, so
     * with 5 s about 2% of all pairs are falsely unreachable at any moment and the cluster never
     * converges (see FalseSuspicionTest); with 10 s still about a hundred pairs.
     */
    @Test
    void thousandNodesConvergeFromOneSeed() throws Exception {
        ExecutorService pool = Executors.newFixedThreadPool(2);
        try {
            List<Future<Row>> runs = new ArrayList<>();
            for (Strategy strategy : Strategy.values()) {
                runs.add(pool.submit(() -> coldStart(SimConfig.of(SimSeeds.seedOr(1), 1000, strategy)
                        .failureTimeoutMs(30_000).safety(SafetyChecker.Mode.SAMPLED, 5))));
            }
            for (Future<Row> run : runs) {
                try {
                    record(run.get());
                } catch (ExecutionException e) {
                    if (e.getCause() instanceof Error err) {
                        throw err;
                    }
                    throw e;
                }
            }
        } finally {
            pool.shutdownNow();
        }
    }

    @AfterAll
    static void printTable() {
        ROWS.sort((a, b) -> a.strategy() != b.strategy() ? a.strategy().compareTo(b.strategy())
                : Integer.compare(a.n(), b.n()));
        StringBuilder sb = new StringBuilder("\nCold-start convergence (seed " + SimSeeds.seedOr(1)
                + "; rounds of 1 s until every node knows all N and sees all reachable)\n");
        sb.append(String.format("%-12s %5s %7s %7s %8s %6s %s%n", "strategy", "N", "rounds", "log2(N)",
                "knowAll", "bound", "failureTimeout"));
        for (Row r : ROWS) {
            sb.append(String.format("%-12s %5d %7d %7.2f %8d %6d %ds%n", r.strategy(), r.n(), r.rounds(), log2(r.n()),
                    r.knowAllRounds(), bound(r.n()), r.failureTimeoutMs() / 1000));
        }
        System.out.println(sb);
    }
}
