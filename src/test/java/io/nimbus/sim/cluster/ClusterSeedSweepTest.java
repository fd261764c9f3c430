package io.nimbus.sim.cluster;

import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * The seed sweep of {@link ClusterSim} on the real policy ({@link Variant#CORRECT}): every seed must pass
 * every check. Default {@value #DEFAULT_SEEDS} seeds (see docs/PAXOS.md for the time it takes); {@code -Dsim.cluster.seeds=N}
 * runs N, {@code -Dsim.cluster.firstSeed=F} starts elsewhere, {@code -Dsim.seed=S} runs seed S alone; a failure
 * prints each failing seed's replay command.
 */
class ClusterSeedSweepTest {
    static final int DEFAULT_SEEDS = 2000;

    @Test
    void everySeedPassesEveryCheck() {
        String replay = System.getProperty("sim.seed");
        boolean one = replay != null && !replay.isBlank();
        long first = one ? Long.parseLong(replay.trim()) : Long.getLong("sim.cluster.firstSeed", 0);
        int count = one ? 1 : Integer.getInteger("sim.cluster.seeds", DEFAULT_SEEDS);
        List<ClusterSim.Outcome> failed = new ArrayList<>();
        long start = System.nanoTime();
        long cpuStart = java.lang.management.ManagementFactory.getThreadMXBean().getCurrentThreadCpuTime();
        long ops = 0, oneOps = 0, okOps = 0, indeterminate = 0, crashes = 0, partitions = 0, joins = 0, electorate = 0;
        long epochs = 0, fenced = 0, refreshes = 0, staleSends = 0, messages = 0, dropped = 0, slowest = 0;
        long opStarts = 0, joinsWithData = 0, leaves = 0, removes = 0, aborts = 0, rows = 0, inFlightRows = 0, switches = 0;
        long scripted = 0, handover = 0, oneLostWithTheDead = 0, cleaned = 0, cleanupKept = 0, wipes = 0, termWrites = 0;
        long forwards = 0, forwardsNotSent = 0, forwardsUnanswered = 0;
        Map<Integer, Integer> workers = new TreeMap<>();
        for (long seed = first; seed < first + count; seed++) {
            ClusterSim.Outcome o = ClusterSim.run(seed, Variant.CORRECT);
            ClusterSim.Stats s = o.stats();
            ops += s.ops;
            oneOps += s.oneOps;
            okOps += s.ok;
            indeterminate += s.indeterminate;
            crashes += s.crashes;
            partitions += s.partitions;
            joins += s.joins;
            electorate += s.electorateSteps;
            epochs += s.epochs;
            fenced += s.fenced;
            refreshes += s.refreshes;
            staleSends += s.staleSends;
            messages += s.messages;
            dropped += s.dropped;
            opStarts += s.opStarts;
            joinsWithData += s.joinsWithData;
            leaves += s.leaves;
            removes += s.removes;
            aborts += s.aborts;
            rows += s.rowsStreamed;
            inFlightRows += s.inFlightRowsServed;
            switches += s.sourceSwitches;
            scripted += s.scriptedCrashes;
            handover += s.handoverChecks;
            oneLostWithTheDead += s.oneLostWithTheDead;
            cleaned += s.rowsCleaned;
            cleanupKept += s.cleanupKept;
            wipes += s.wipes;
            termWrites += s.termWrites;
            forwards += s.forwards;
            forwardsNotSent += s.forwardsNotSent;
            forwardsUnanswered += s.forwardsUnanswered;
            slowest = Math.max(slowest, o.wallMs());
            workers.merge(s.workers, 1, Integer::sum);
            if (!o.ok()) {
                failed.add(o);
            }
        }
        long ms = (System.nanoTime() - start) / 1_000_000;
        long cpuMs = (java.lang.management.ManagementFactory.getThreadMXBean().getCurrentThreadCpuTime() - cpuStart) / 1_000_000;
        System.out.printf("Cluster sweep: %d seeds in %d ms (%d ms of CPU; slowest %d ms); workers per seed %s; ops %d (ok %d, "
                        + "indeterminate %d, at ONE %d); crashes %d, isolations %d, messages %d (dropped %d); joins %d, "
                        + "electorate steps %d, epochs %.1f per run; fenced replies %d, refreshes %d, requests at an older "
                        + "epoch than the replica's %d; writes in terms %d; writes forwarded to their key's coordinator %d (not sent "
                        + "%d, unanswered %d); failing %d%n", count, ms, cpuMs, slowest, workers, ops,
                okOps, indeterminate, oneOps, crashes, partitions, messages, dropped, joins, electorate, (double) epochs / count,
                fenced, refreshes, staleSends, termWrites, forwards, forwardsNotSent, forwardsUnanswered, failed.size());
        System.out.printf("Topology operations: %d started; joins finished %d (%d with client data present), decommissions %d, "
                        + "removals %d, aborts %d; rows streamed %d (%d served with an accepted proposal above the commit), "
                        + "sources given up for the next %d; scripted crash points %d; handover checks %d; acknowledged ONE "
                        + "writes lost with a worker that died for good %d; rows cleaned up %d (kept by the writer's decision %d); stores wiped and replaced %d%n",
                opStarts, joins, joinsWithData, leaves, removes, aborts, rows, inFlightRows, switches, scripted, handover,
                oneLostWithTheDead, cleaned, cleanupKept, wipes);
        if (!failed.isEmpty()) {
            StringBuilder b = new StringBuilder(failed.size() + " of " + count + " seeds failed:\n");
            failed.stream().limit(5).forEach(o -> b.append("seed ").append(o.seed()).append(' ').append(o.violations())
                    .append("\n  replay: ").append(o.replay()).append('\n'));
            b.append("all failing seeds: ");
            failed.forEach(o -> b.append(o.seed()).append(o.violations().keySet()).append(' '));
            fail(b.toString());
        }
        if (count >= 100) {
            // the sweep did what it claims: topology changes, stale coordinators turned away, faults, client work
            assertTrue(joins > 0 && electorate > 0 && fenced > 0 && refreshes > 0 && staleSends > 0, "no topology work");
            assertTrue(joinsWithData > 0 && leaves > 0 && removes > 0 && aborts > 0 && rows > 0 && switches > 0
                    && scripted > 0 && handover > 0 && cleaned > 0 && wipes > 0, "no topology operations under load");
            assertTrue(crashes > 0 && partitions > 0 && dropped > 0 && indeterminate > 0 && oneOps > 0, "no faults");
            assertTrue(termWrites > 0, "no writes in terms");
            assertTrue(forwards > 0 && forwardsNotSent > 0 && forwardsUnanswered > 0,
                    "no forwarded writes, or none that went unsent or unanswered");
        }
    }
}
