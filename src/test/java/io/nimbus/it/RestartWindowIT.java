package io.nimbus.it;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.net.http.HttpClient;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Queue;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ConcurrentSkipListMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

import static io.nimbus.it.KvClient.ms;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * The restart window: three workers (RF 3, fixed ports, each seeded with the others). Each of
 * {@value #RESTARTS} rounds kills one worker with {@code kill -9}, restarts it on the same data
 * directory and ports, polls its HTTP port with TCP connects every {@value #PORT_POLL_MS} ms and, the
 * instant it accepts, sends it QUORUM writes of fresh keys for {@value #WRITE_FOR_MS} ms (and on,
 * bounded, until {@value #MIN_ACKED_PER_RESTART} were acknowledged) from {@code WRITERS} threads, each
 * with one write in flight ({@code -Drestart-window.writers=1}: strictly sequential). Every
 * acknowledged write must then read back at QUORUM, with its value and ETag, through each of the two
 * other workers.
 *
 * <p>A 503 means nothing was written (counted, not checked further); a 504 or a client time-out means
 * the outcome is unknown (counted, not checked). Any other answer to a write is a contract violation.
 * A round in which fewer than {@value #MIN_ACKED_PER_RESTART} writes were acknowledged fails the
 * test: it would have checked nothing.
 *
 * <p>Until a restarted worker has heard from its peers its gossip ring holds only itself, so on code
 * that derives the replication factor from that ring the writes it takes in that window are
 * acknowledged by it alone (RF capped at 1), and a QUORUM read through another worker misses such a
 * write when its quorum of promises leaves the restarted worker out. Whether any write lands in the
 * window is a race between the fresh JVM's first answers (~100-500 ms after its port opens) and its
 * first gossip answer. Measured on a loaded 2-core machine with today's code: 4 writers put 2-12
 * writes there in ~64% of restarts (1 writer: one write in ~55%), the QUORUM reads missed ~62% of
 * those writes, and ~61% of restarts lost a write; with 9 restarts every run failed. The ONE-read
 * "on no other worker" figure printed per restart is that diagnosis; it asserts nothing.
 */
class RestartWindowIT {
    private static final int WORKERS = 3;
    private static final int RESTARTS = 9; // each worker three times
    /** Writer threads, each with one QUORUM write in flight (1: strictly sequential writes). */
    private static final int WRITERS = Integer.getInteger("restart-window.writers", 4);
    private static final long PORT_POLL_MS = 2;
    private static final long WRITE_FOR_MS = 1500;
    /** Keep writing past WRITE_FOR_MS until this many writes were acknowledged ... */
    private static final int MIN_ACKED_PER_RESTART = 20;
    /** ... but no longer than this after the port opened. */
    private static final Duration WRITE_AT_MOST = Duration.ofSeconds(20);
    private static final Duration WRITE_TIMEOUT = Duration.ofSeconds(2);
    private static final Duration READ_TIMEOUT = Duration.ofSeconds(5);
    /**
     * Through one reader in one round: reads answered 503/504 or cut off (no verdict on the key) are
     * retried for this long in all; after READ_TOTAL the keys left are reported unread.
     */
    private static final Duration READ_RETRYING = Duration.ofSeconds(15);
    private static final Duration READ_TOTAL = Duration.ofSeconds(60);
    /** Diagnosis: how many of the first acknowledged keys are checked for copies on the other workers. */
    private static final int LONE_CHECK = 60;
    private static final Duration START = Duration.ofSeconds(60);
    private static final Duration CONVERGE = Duration.ofSeconds(30);

    private LocalCluster cluster;

    @AfterEach
    void killNodes() {
        if (cluster != null) {
            cluster.close();
        }
    }

    /** One acknowledged write: value, ETag, and when the 204 came (ms after the port opened). */
    private record Ack(String value, String etag, long atMs) {
    }

    /** One restart's figures; written by the writer threads, read by the test thread after they stopped. */
    private static final class Round {
        final int number;
        final int victim;
        long oldGeneration;
        long startToPortMs;
        long writeMs;
        final AtomicLong firstAckMs = new AtomicLong(Long.MAX_VALUE); // from the port opening
        final AtomicInteger ackedIn500ms = new AtomicInteger();
        final AtomicInteger refused = new AtomicInteger();
        final AtomicInteger indeterminate = new AtomicInteger();
        final Map<String, Integer> refusedByType = new ConcurrentSkipListMap<>();
        final Map<String, Ack> acked = new ConcurrentSkipListMap<>(); // key -> acknowledged write
        final Queue<String> violations = new ConcurrentLinkedQueue<>(); // answers no write may get
        final Map<String, List<String>> missing = new TreeMap<>(); // reading node -> what was wrong, per key
        final Set<String> missingKeys = new TreeSet<>();
        int readsMissing;
        /** Diagnosis only: of the first LONE_CHECK acknowledged keys, those no other worker held after the writes. */
        final Set<String> lone = new TreeSet<>();
        int loneChecked;

        Round(int number, int victim) {
            this.number = number;
            this.victim = victim;
        }

        String firstAck() {
            long f = firstAckMs.get();
            return f == Long.MAX_VALUE ? "-" : Long.toString(f);
        }

        /** When the missing keys were acknowledged, ms after the port opened. */
        String missingAckedAt() {
            if (missingKeys.isEmpty()) {
                return "";
            }
            long min = Long.MAX_VALUE;
            long max = 0;
            for (String k : missingKeys) {
                min = Math.min(min, acked.get(k).atMs());
                max = Math.max(max, acked.get(k).atMs());
            }
            return " (acknowledged " + min + ".." + max + " ms after the port opened)";
        }
    }

    @Test
    void everyWriteAcknowledgedRightAfterARestartReadsBackAtQuorumThroughEveryOtherWorker() throws Exception {
        cluster = LocalCluster.builder().label("rw").workers(WORKERS).seededByAll()
                .property("nimbus.gossip.interval=200ms").property("nimbus.gossip.failure-timeout=1s")
                .property("nimbus.gossip.seed-backoff-max=1s").build();
        cluster.startAll("nimbus.replication-factor=3");
        cluster.awaitReady(START);
        long convergeMs = cluster.awaitConverged(CONVERGE);
        for (NodeProcess n : cluster.processes()) {
            assertEquals(3, KvClient.ring(n).get("replicationFactor").asInt(), n + " ring: RF");
        }
        System.out.printf("[it] %d workers converged (all reachable, ring of %d) in %d ms%n", WORKERS, WORKERS,
                convergeMs);

        // Every worker takes QUORUM writes (503s retried: a node may refuse until it is ready for them).
        long writableMs = cluster.awaitWritable("rw-warm-", CONVERGE);
        System.out.printf("[it] every worker acknowledged a QUORUM write (%d ms)%n", writableMs);

        List<Round> rounds = new ArrayList<>();
        for (int r = 0; r < RESTARTS; r++) {
            Round round = new Round(r + 1, r % WORKERS);
            rounds.add(round);
            restartAndWrite(round);
            findLoneCopies(round);
            verify(round);
            print(round);
            // Before the next kill: everyone sees everyone again, the restarted worker with its new generation.
            long[] above = new long[WORKERS];
            java.util.Arrays.fill(above, -1);
            above[round.victim] = round.oldGeneration;
            cluster.awaitConverged(CONVERGE, above);
        }

        StringBuilder summary = new StringBuilder();
        int failedRounds = 0;
        int missingKeys = 0;
        int acked = 0;
        int lone = 0;
        for (Round round : rounds) {
            acked += round.acked.size();
            lone += round.lone.size();
            if (!round.missingKeys.isEmpty()) {
                failedRounds++;
                missingKeys += round.missingKeys.size();
            }
            summary.append(String.format("%n  restart %d (%s): first 204 %s ms after port open, %d acked in the first "
                            + "500 ms; acked %d / refused %d %s / indeterminate %d; on no other worker %d; keys "
                            + "missing %d%s",
                    round.number, cluster.id(round.victim), round.firstAck(), round.ackedIn500ms.get(),
                    round.acked.size(), round.refused.get(), round.refusedByType, round.indeterminate.get(),
                    round.lone.size(), round.missingKeys.size(), round.missingAckedAt()));
        }
        System.out.printf("[it] RestartWindowIT summary (%d writer threads): %d restarts, %d writes acknowledged; of the "
                + "first %d per restart, %d found on no other worker right after (ONE); %d restarts with missing keys, "
                + "%d keys missing (QUORUM) in all:%s%n", WRITERS, RESTARTS, acked, LONE_CHECK, lone, failedRounds,
                missingKeys, summary);

        List<String> problems = new ArrayList<>();
        for (Round round : rounds) {
            String who = "restart " + round.number + " (" + cluster.id(round.victim) + ")";
            if (!round.violations.isEmpty()) {
                problems.add(who + ": writes answered outside the contract: "
                        + head(new ArrayList<>(round.violations)));
            }
            if (round.acked.size() < MIN_ACKED_PER_RESTART) {
                problems.add(who + ": only " + round.acked.size() + " writes acknowledged within " + WRITE_AT_MOST
                        + " of the port opening (need " + MIN_ACKED_PER_RESTART + " for this test to mean anything); "
                        + "refused " + round.refusedByType + ", indeterminate " + round.indeterminate);
            }
            for (Map.Entry<String, List<String>> e : round.missing.entrySet()) {
                problems.add(who + ": " + e.getValue().size() + " of " + round.acked.size() + " acknowledged writes "
                        + "not read back at QUORUM through " + e.getKey() + ":\n      " + head(e.getValue()));
            }
        }
        if (!problems.isEmpty()) {
            fail(problems.size() + " problem(s) over " + RESTARTS + " restarts (" + failedRounds + " restarts lost "
                    + "acknowledged writes, " + missingKeys + " keys in all):\n  " + String.join("\n  ", problems)
                    + "\nsummary:" + summary);
        }
    }

    /**
     * kill -9, restart on the same directory and ports, and from the instant its port accepts, write
     * to it from {@link #WRITERS} threads, each sending one QUORUM write at a time.
     */
    private void restartAndWrite(Round round) throws Exception {
        int v = round.victim;
        NodeProcess old = cluster.process(v);
        round.oldGeneration = cluster.generationOf(v, (v + 1) % WORKERS);
        old.killHard();
        long startNanos = System.nanoTime();
        NodeProcess node = cluster.startWorker(v, "-restart" + round.number, "nimbus.replication-factor=3");
        HttpClient http = KvClient.newClient(); // no pooled connection to the dead process
        CountDownLatch go = new CountDownLatch(1);
        AtomicLong openAt = new AtomicLong();
        AtomicInteger seq = new AtomicInteger();
        ExecutorService pool = Executors.newFixedThreadPool(WRITERS);
        List<Future<?>> writers = new ArrayList<>();
        try {
            for (int w = 0; w < WRITERS; w++) {
                writers.add(pool.submit(() -> {
                    go.await();
                    write(round, http, node, openAt.get(), seq);
                    return null;
                }));
            }
            long open = KvClient.awaitPortOpen(node, node.port(), PORT_POLL_MS, START);
            openAt.set(open);
            go.countDown();
            round.startToPortMs = ms(open - startNanos);
            pool.shutdown();
            long bound = WRITE_AT_MOST.toMillis() + WRITE_TIMEOUT.toMillis() + 5_000;
            if (!pool.awaitTermination(bound, TimeUnit.MILLISECONDS)) {
                fail("writer threads did not stop within " + bound + " ms");
            }
            for (Future<?> f : writers) {
                f.get(); // surfaces an exception thrown by a writer
            }
            round.writeMs = ms(System.nanoTime() - open);
        } finally {
            go.countDown();
            pool.shutdownNow();
        }
    }

    /** One writer: sequential QUORUM writes of fresh keys until the round has written long and enough. */
    private void write(Round round, HttpClient http, NodeProcess node, long open, AtomicInteger seq)
            throws InterruptedException {
        long deadline = open + WRITE_AT_MOST.toNanos();
        while (true) {
            long now = System.nanoTime();
            boolean enough = now - open >= WRITE_FOR_MS * 1_000_000L && round.acked.size() >= MIN_ACKED_PER_RESTART;
            if (now > deadline || enough) {
                return;
            }
            int n = seq.getAndIncrement();
            String key = String.format("rw-r%d-%s-k%05d", round.number, cluster.id(round.victim), n);
            String value = "value-" + round.number + "-" + n + "-" + Long.toHexString(System.nanoTime());
            HttpResponse<String> r;
            try {
                r = KvClient.put(http, node, key, value, "QUORUM", WRITE_TIMEOUT);
            } catch (IOException e) { // time-out or connection cut: the outcome is unknown
                round.indeterminate.incrementAndGet();
                continue;
            }
            long atMs = ms(System.nanoTime() - open);
            int status = r.statusCode();
            String etag = r.headers().firstValue("ETag").orElse(null);
            if (status == 204 && etag != null) {
                round.acked.put(key, new Ack(value, etag, atMs));
                round.firstAckMs.accumulateAndGet(atMs, Math::min);
                if (atMs <= 500) {
                    round.ackedIn500ms.incrementAndGet();
                }
            } else if (status == 503) {
                round.refused.incrementAndGet();
                round.refusedByType.merge(KvClient.problemType(r), 1, Integer::sum);
            } else if (status == 504) {
                round.indeterminate.incrementAndGet();
            } else {
                round.indeterminate.incrementAndGet();
                if (round.violations.size() < 20) {
                    round.violations.add("PUT " + key + " -> " + status + " ETag " + etag + " " + r.body());
                }
            }
        }
    }

    /**
     * Diagnosis only (no assertion): which of the first {@link #LONE_CHECK} acknowledged keys neither
     * other worker holds in its own replica, by a {@code ONE} read (served by the receiving worker's own
     * replica; it repairs nothing). Run before the QUORUM reads, which repair what they find. It tells
     * how many writes were acknowledged by the restarted worker alone, against which the QUORUM reads'
     * catch can be judged.
     */
    private void findLoneCopies(Round round) {
        HttpClient http = KvClient.newClient();
        for (String key : round.acked.keySet()) {
            if (round.loneChecked >= LONE_CHECK) {
                break;
            }
            round.loneChecked++;
            boolean elsewhere = false;
            for (int j = 0; j < WORKERS && !elsewhere; j++) {
                if (j == round.victim) {
                    continue;
                }
                try {
                    HttpResponse<String> r = KvClient.get(http, cluster.process(j), key, "ONE", READ_TIMEOUT);
                    elsewhere = r.statusCode() != 404;
                } catch (Exception e) {
                    elsewhere = true; // unknown: do not count it as lone
                }
            }
            if (!elsewhere) {
                round.lone.add(key);
            }
        }
    }

    /** Reads every acknowledged key at QUORUM through each worker that was not restarted. */
    private void verify(Round round) throws Exception {
        HttpClient http = KvClient.newClient();
        for (int j = 0; j < WORKERS; j++) {
            if (j == round.victim) {
                continue;
            }
            NodeProcess reader = cluster.process(j);
            KvClient.ReadBudget budget = new KvClient.ReadBudget(READ_RETRYING, READ_TOTAL);
            List<String> wrong = new ArrayList<>();
            for (Map.Entry<String, Ack> e : round.acked.entrySet()) {
                String key = e.getKey();
                String value = e.getValue().value();
                String etag = e.getValue().etag();
                String outcome = KvClient.readBack(http, reader, key, value, etag, READ_TIMEOUT, budget);
                if (outcome != null) {
                    round.missingKeys.add(key);
                    round.readsMissing++;
                    if (wrong.size() < 10) {
                        outcome += " [local copies: " + cluster.localCopies(http, key) + "]";
                    }
                    wrong.add(key + " (acknowledged " + e.getValue().atMs() + " ms after the port opened): " + outcome);
                }
            }
            if (!wrong.isEmpty()) {
                round.missing.put(cluster.id(j), wrong);
            }
        }
    }

    private void print(Round round) {
        System.out.printf("[it] restart %d: kill -9 %s, restarted, HTTP port open after %d ms; first 204 %s ms after "
                        + "the port opened; writes for %d ms: acknowledged %d (%d in the first 500 ms), refused (503) %d "
                        + "%s, indeterminate %d; on no other worker (ONE, first %d keys): %d; QUORUM reads through "
                        + "the other two: %d keys missing (%d reads)%s%s%n",
                round.number, cluster.id(round.victim), round.startToPortMs,
                round.firstAck(), round.writeMs, round.acked.size(), round.ackedIn500ms.get(), round.refused.get(),
                round.refusedByType, round.indeterminate.get(), round.loneChecked, round.lone.size(),
                round.missingKeys.size(), round.readsMissing,
                round.missingAckedAt(), round.missing.isEmpty() ? "" : "; by reader: " + firstKeys(round.missing));
    }

    private static String firstKeys(Map<String, List<String>> missing) {
        StringBuilder b = new StringBuilder();
        missing.forEach((reader, items) -> b.append(b.length() == 0 ? "" : "; ").append(reader).append(' ')
                .append(items.size()).append(": ").append(items.subList(0, Math.min(3, items.size())))
                .append(items.size() > 3 ? " ..." : ""));
        return b.toString();
    }

    private static String head(List<String> items) {
        return String.join("\n      ", items.subList(0, Math.min(10, items.size())))
                + (items.size() > 10 ? "\n      ... and " + (items.size() - 10) + " more" : "");
    }
}
