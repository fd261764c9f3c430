package io.nimbus.it;

import io.nimbus.lin.LinearizabilityChecker;
import io.nimbus.lin.Operation;
import io.nimbus.lin.Result;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.EnumMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;

import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * A Jepsen-style test: 3 workers and a proxy (RF 3), concurrent clients doing QUORUM reads, writes,
 * compare-and-sets, creates and deletes on a few hot keys through all four nodes, while a seeded nemesis
 * kills and restarts workers, pauses nodes and partitions the network; then everything is healed and
 * every key read once more. Every operation goes into an {@link io.nimbus.lin.History} (the ETag is the version) and
 * the project's {@link LinearizabilityChecker} judges it.
 *
 * <p>System properties: {@code jepsen.seconds} (workload length; default: what fits a run of about 3
 * minutes including start-up), {@code jepsen.faults} (comma-separated subset of {@code kill,pause,partition};
 * default all), {@code jepsen.seed}, {@code jepsen.clients} (10), {@code jepsen.keys} (5),
 * {@code jepsen.key-seconds} (60: every that many seconds the clients move on to a fresh set of keys,
 * as Jepsen's independent keys do, so that no key's history outgrows what the checker can decide; each
 * key is still checked in full, and every key ever used is read at the end). Output under
 * {@code target/jepsen/<run>/}: {@code history.txt}, {@code nemesis.txt}, {@code summary.txt}.
 */
class JepsenIT {
    enum Fault { KILL, PAUSE, PARTITION }

    private static final Duration DEFAULT_BUDGET = Duration.ofSeconds(180);
    /** Time kept from the budget for the quiet period, the final reads and the check. */
    private static final Duration RESERVED = Duration.ofSeconds(45);
    private static final String SERVER_WRITE_TIMEOUT_MS = "2000";

    private final ConcurrentLinkedQueue<String> nemesisLog = new ConcurrentLinkedQueue<>();
    private final Map<Fault, Integer> faults = Collections.synchronizedMap(new EnumMap<>(Fault.class));
    /** The clients, their history and counters (shared with {@link TopologyJepsenIT}). */
    private JepsenClients work;

    @Test
    void quorumOperationsStayLinearizableUnderFaults() throws Exception {
        long wallStart = System.nanoTime();
        long seed = Long.getLong("jepsen.seed", new Random().nextLong());
        List<Fault> kinds = parseFaults(System.getProperty("jepsen.faults", "kill,pause,partition"));
        int clients = Integer.getInteger("jepsen.clients", 10);
        work = new JepsenClients("jk", Integer.getInteger("jepsen.keys", 5),
                Duration.ofSeconds(Long.getLong("jepsen.key-seconds", 60)));
        String run = DateTimeFormatter.ofPattern("yyyyMMdd-HHmmss").withZone(ZoneOffset.UTC).format(Instant.now())
                + "-" + Long.toUnsignedString(seed, 36);
        Path runDir = NodeProcess.targetDir().resolve("jepsen").resolve(run);
        Files.createDirectories(runDir);
        System.out.printf("[jepsen] run %s seed %d faults %s clients %d keys %d, fresh every %d s "
                + "(rerun with -Djepsen.seed=%d)%n", run, seed, kinds, clients, work.keyCount(),
                TimeUnit.NANOSECONDS.toSeconds(work.keyPeriodNanos()), seed);

        LocalCluster.Builder builder = LocalCluster.builder().label("jep").workers(3).withProxy().replicationFactor(3)
                .property("nimbus.gossip.interval=200ms").property("nimbus.gossip.failure-timeout=2s")
                .property("nimbus.limits.write-timeout-ms=" + SERVER_WRITE_TIMEOUT_MS)
                // as deployed (k8s): peers prove a shared secret and every cluster frame carries a MAC
                .property("nimbus.cluster.secret=jepsen-cluster-secret");
        if (kinds.contains(Fault.PARTITION)) {
            assertTrue(LoopbackPartitions.nftAvailable(),
                    "partitions need the nft tool and root: apt-get install -y nftables (.ci/run does)");
            builder.partitionable();
        }
        String verdictLine;
        Result result;
        try (LocalCluster cluster = builder.start()) {
            long startupMs = elapsedMs(wallStart);
            Duration workload = System.getProperty("jepsen.seconds") != null
                    ? Duration.ofSeconds(Long.getLong("jepsen.seconds"))
                    : Duration.ofMillis(Math.max(30_000, DEFAULT_BUDGET.minus(RESERVED).toMillis() - startupMs));
            System.out.printf("[jepsen] cluster up after %d ms; workload %d s%n", startupMs, workload.toSeconds());
            work.startClock();

            long end = System.nanoTime() + workload.toNanos();
            List<Thread> threads = new ArrayList<>();
            for (int c = 0; c < clients; c++) {
                List<LocalCluster.Node> nodes = cluster.nodes();
                JepsenClients.Client client = work.client("c" + c, new Random(seed + 1 + c), () -> nodes, end);
                Thread t = new Thread(client::run, "jepsen-" + client.name);
                t.start();
                threads.add(t);
            }
            Throwable nemesisError = null;
            try {
                nemesis(cluster, new Random(seed), kinds, end);
            } catch (Throwable t) {
                nemesisError = t;
            }
            for (Thread t : threads) {
                t.join(JepsenClients.CLIENT_TIMEOUT.toMillis() + 10_000);
            }
            if (nemesisError != null) {
                work.stopRecording();
                work.writeHistory(runDir);
                throw new AssertionError("nemesis failed (seed " + seed + "); history " + runDir.resolve("history.txt")
                        + "\n" + cluster.describeState(), nemesisError);
            }

            log("quiet period: heal, resume, restart all");
            cluster.restoreAll(Duration.ofSeconds(90));
            Thread.sleep(2000);
            List<String> keys = work.usedKeys();
            Map<String, String> finals = work.finalReads(cluster.nodes(), keys);
            work.stopRecording();
            work.writeHistory(runDir);
            Files.write(runDir.resolve("nemesis.txt"), nemesisLog);

            long checkStart = System.nanoTime();
            result = LinearizabilityChecker.check(work.history());
            long checkMs = elapsedMs(checkStart);
            List<Operation> ops = work.history().operations();
            Map<Operation.Outcome, Long> byOutcome = ops.stream()
                    .collect(Collectors.groupingBy(Operation::outcome, () -> new EnumMap<>(Operation.Outcome.class),
                            Collectors.counting()));
            long writes = work.countOf("write-attempts");
            double unknownRate = writes == 0 ? 0 : 100.0 * work.countOf("504-outcome-unknown") / writes;
            verdictLine = String.format(Locale.ROOT,
                    "[jepsen] summary: seed=%d faults=%s ops=%d ok=%d rejected=%d failed=%d indeterminate=%d | "
                            + "injected kill=%d pause=%d partition=%d | verdict=%s | outcome-unknown=%.1f%% of %d writes "
                            + "(client timeouts %d, connection errors %d, 503 %d) | workload %ds, wall %ds, check %d ms",
                    seed, kinds, ops.size(), byOutcome.getOrDefault(Operation.Outcome.OK, 0L),
                    byOutcome.getOrDefault(Operation.Outcome.REJECTED, 0L),
                    byOutcome.getOrDefault(Operation.Outcome.FAILED, 0L),
                    byOutcome.getOrDefault(Operation.Outcome.INDETERMINATE, 0L),
                    faults.getOrDefault(Fault.KILL, 0), faults.getOrDefault(Fault.PAUSE, 0),
                    faults.getOrDefault(Fault.PARTITION, 0), result.verdict(), unknownRate, writes,
                    work.countOf("client-timeout"), work.countOf("client-io-error"), work.countOf("503"), workload.toSeconds(), elapsedMs(wallStart) / 1000, checkMs);
            String details = "counts " + new java.util.TreeMap<>(work.snapshotCounts()) + "\nfinal reads " + finals
                    + "\nhistory " + runDir.resolve("history.txt") + "\nnemesis " + runDir.resolve("nemesis.txt")
                    + "\nnode logs:" + cluster.nodes().stream().map(n -> "\n  " + n.name + " " + n.logs()
                    + " (earlier processes of the node: " + NodeProcess.targetDir().resolve("it-logs") + "/" + n.name
                    + "-*.log)").collect(Collectors.joining());
            Files.writeString(runDir.resolve("summary.txt"), verdictLine + "\n" + details + "\n\nchecker: "
                    + result.explanation() + "\n");
            System.out.println(details);
            if (!result.isLinearizable()) {
                System.out.println("[jepsen] checker: " + result.explanation());
            }
            System.out.println(verdictLine);

            assertTrue(work.countOf("client-crash") == 0, "a client thread crashed (see the stack trace above)");
            assertTrue(finals.size() == keys.size(), "after the quiet period every key must be readable at QUORUM: "
                    + finals + "\n" + verdictLine);
            for (Fault f : kinds) {
                assertTrue(faults.getOrDefault(f, 0) > 0, "the nemesis injected no " + f + " fault: " + verdictLine);
            }
            assertTrue(byOutcome.getOrDefault(Operation.Outcome.OK, 0L) >= 10L * keys.size(),
                    "too few operations succeeded to judge anything: " + verdictLine);
            if (result.isUnknown()) {
                fail("the checker could not decide within its limits (not a pass): " + result.explanation() + "\n"
                        + verdictLine);
            }
            if (!result.isLinearizable()) {
                fail("NOT LINEARIZABLE (seed " + seed + ", history " + runDir.resolve("history.txt")
                        + "; find the operations by #id there, each line ends with the node asked):\n"
                        + result.explanation() + "\n" + verdictLine);
            }
        }
    }

    // ---------------------------------------------------------------------------------------- nemesis

    private void nemesis(LocalCluster cluster, Random random, List<Fault> kinds, long end) throws Exception {
        List<LocalCluster.Node> all = cluster.nodes();
        List<LocalCluster.Node> workers = cluster.workers();
        List<Fault> round = new ArrayList<>();
        while (System.nanoTime() < end) {
            sleepUntilAtMost(end, 1000 + random.nextInt(2000));
            if (System.nanoTime() >= end) {
                break;
            }
            if (round.isEmpty()) { // every kind once per round, in a seeded order
                round.addAll(kinds);
                Collections.shuffle(round, random);
            }
            Fault f = round.remove(0);
            long hold = switch (f) {
                case KILL -> 2000 + random.nextInt(4000);
                case PAUSE -> 2000 + random.nextInt(4000);
                case PARTITION -> 3000 + random.nextInt(5000);
            };
            switch (f) {
                case KILL -> {
                    LocalCluster.Node victim = workers.get(random.nextInt(workers.size()));
                    log("kill -9 " + victim.name + " pid " + victim.process().pid());
                    cluster.kill9(victim);
                    faults.merge(Fault.KILL, 1, Integer::sum);
                    sleepUntilAtMost(Long.MAX_VALUE, hold);
                    cluster.restart(victim);
                    log("restarted " + victim.name + " pid " + victim.process().pid() + " (ready)");
                }
                case PAUSE -> {
                    LocalCluster.Node victim = all.get(random.nextInt(all.size()));
                    log("SIGSTOP " + victim.name);
                    cluster.pause(victim);
                    faults.merge(Fault.PAUSE, 1, Integer::sum);
                    sleepUntilAtMost(Long.MAX_VALUE, hold);
                    cluster.resume(victim);
                    log("SIGCONT " + victim.name);
                }
                case PARTITION -> {
                    List<LocalCluster.Node> shuffled = new ArrayList<>(all);
                    Collections.shuffle(shuffled, random);
                    if (random.nextBoolean()) {
                        cluster.partition(shuffled.subList(0, 1), shuffled.subList(1, shuffled.size()));
                    } else {
                        cluster.partition(shuffled.subList(0, 2), shuffled.subList(2, shuffled.size()));
                    }
                    log("partition " + cluster.currentCut());
                    faults.merge(Fault.PARTITION, 1, Integer::sum);
                    sleepUntilAtMost(Long.MAX_VALUE, hold);
                    cluster.heal();
                    log("heal");
                }
            }
        }
    }

    private static void sleepUntilAtMost(long deadline, long ms) throws InterruptedException {
        long left = TimeUnit.NANOSECONDS.toMillis(deadline - System.nanoTime());
        Thread.sleep(Math.max(0, Math.min(ms, left)));
    }

    // ---------------------------------------------------------------------------------------- output

    private void log(String what) {
        String line = String.format(Locale.ROOT, "%8.3f s %s", work.seconds(), what);
        nemesisLog.add(line);
        System.out.println("[jepsen] " + line);
    }

    private static long elapsedMs(long since) {
        return TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - since);
    }

    private static List<Fault> parseFaults(String text) {
        List<Fault> kinds = new ArrayList<>();
        for (String s : text.split(",")) {
            if (!s.isBlank()) {
                kinds.add(Fault.valueOf(s.trim().toUpperCase(Locale.ROOT)));
            }
        }
        if (kinds.isEmpty()) {
            throw new IllegalArgumentException("jepsen.faults names no fault; use e.g. kill,pause,partition: "
                    + Arrays.toString(Fault.values()));
        }
        return kinds;
    }
}
