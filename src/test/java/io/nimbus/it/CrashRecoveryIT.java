package io.nimbus.it;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * Acknowledged writes survive {@code kill -9}: a node is killed while 8 clients are writing, restarted
 * on the same data directory, and every key must hold its last acknowledged value or the value of
 * the one write that was in flight for it (never an older value, never missing once acknowledged).
 * The cycle runs twice on the same directory (crash, verify, write more, crash, verify), then the
 * recovered node is killed once more before it takes any write and must come back with the same data.
 */
class CrashRecoveryIT {
    private static final int THREADS = 8;
    private static final int KEYS_PER_THREAD = 50;
    private static final int MAX_WRITES_PER_THREAD = 20_000;
    private static final Duration WRITE_FOR = Duration.ofSeconds(3);
    private static final Duration CLIENTS_STOP_TIMEOUT = Duration.ofSeconds(30);
    private static final int MIN_ACKED_PER_CYCLE = 100;
    private static final Pattern VALUE = Pattern.compile("t(\\d+)-k(\\d+)-v(\\d+)");
    private static final Pattern REPLAYED = Pattern.compile("replayed (\\d+) write-ahead log records");

    private final List<NodeProcess> nodes = new ArrayList<>();

    @AfterEach
    void killNodes() {
        NodeProcess.closeAll(nodes);
    }

    private NodeProcess startReady(String name, Path dir, String... props) throws Exception {
        NodeProcess node = NodeProcess.startReady(name, dir, props);
        nodes.add(node);
        return node;
    }

    /** What a key may hold after a crash: its last acknowledged value, or any write whose outcome is unknown. */
    private static final class KeyModel {
        final String key;
        String acked; // last acknowledged (or verified durable) value; null = never
        final List<String> unknown = new ArrayList<>(); // writes sent after `acked` whose outcome is unknown

        KeyModel(String key) {
            this.key = key;
        }

        boolean allows(String found) {
            if (found == null) {
                return acked == null;
            }
            return found.equals(acked) || unknown.contains(found);
        }
    }

    /** One client thread's keys and the next value number (distinct across cycles). */
    private static final class Client {
        final int id;
        final KeyModel[] keys = new KeyModel[KEYS_PER_THREAD];
        long nextValue;
        // per cycle
        int acked;
        int inFlightAtKill;
        final List<String> unexpected = new ArrayList<>();

        Client(int id) {
            this.id = id;
            for (int k = 0; k < KEYS_PER_THREAD; k++) {
                keys[k] = new KeyModel("t" + id + "-k" + k);
            }
        }
    }

    private record Cycle(CycleReport report, NodeProcess recovered) {
    }

    private record CycleReport(int cycle, long ackedWrites, int inFlightAtKill, long writeMillis, int keysOnAcked,
                               int keysOnInFlight, int keysAbsent, String replayed) {
    }

    @Test
    void acknowledgedWritesSurviveKillMinus9TwiceOnTheSameDirectory() throws Exception {
        Path dir = NodeProcess.newDataDir("crash-recovery");
        List<Client> clients = new ArrayList<>();
        for (int t = 0; t < THREADS; t++) {
            clients.add(new Client(t));
        }
        List<CycleReport> reports = new ArrayList<>();

        // Cycle 1: default checkpoint interval (1 s), so the kill may land during a MapDB checkpoint.
        // The node that recovers from it keeps checkpoints off for cycle 2, so that the second restart has
        // to replay every write of cycle 2 from the write-ahead log, on a directory that was recovered once.
        NodeProcess writer = startReady("crash-c1-writer", dir);
        Cycle first = crashAndVerify(1, writer, dir, clients, "nimbus.storage.checkpoint-interval-ms=600000");
        reports.add(first.report());

        // Cycle 2: write more on the recovered node, crash it again, recover again.
        Cycle second = crashAndVerify(2, first.recovered(), dir, clients);
        reports.add(second.report());

        // Kill the node that just recovered before it takes any write: the next start must find exactly the same data.
        second.recovered().killHard();
        NodeProcess idle = startReady("crash-c3-idle-restart", dir);
        List<String> violations = new ArrayList<>();
        verify(idle, clients, violations);
        assertTrue(violations.isEmpty(), "after kill -9 of a freshly recovered node that took no writes, "
                + violations.size() + " keys changed (log " + idle.logFile() + "): " + head(violations));

        StringBuilder summary = new StringBuilder("[it] CrashRecoveryIT summary:\n");
        for (CycleReport r : reports) {
            summary.append(String.format("  cycle %d: %d acked writes in %d ms (%.0f/s), %d in flight at kill -9; "
                            + "after restart %d keys on last acked value, %d on the in-flight value, %d absent; %s%n",
                    r.cycle(), r.ackedWrites(), r.writeMillis(), r.ackedWrites() * 1000.0 / Math.max(1, r.writeMillis()),
                    r.inFlightAtKill(), r.keysOnAcked(), r.keysOnInFlight(), r.keysAbsent(), r.replayed()));
        }
        System.out.print(summary);
    }

    /** Writes from all clients until {@link #WRITE_FOR} passes, kills the node mid-write, restarts and verifies. */
    private Cycle crashAndVerify(int cycle, NodeProcess node, Path dir, List<Client> clients, String... restartProps)
            throws Exception {
        AtomicBoolean killing = new AtomicBoolean();
        AtomicLong deadAtNanos = new AtomicLong(Long.MAX_VALUE);
        CountDownLatch nearLimit = new CountDownLatch(1);
        ExecutorService pool = Executors.newFixedThreadPool(THREADS);
        long start = System.nanoTime();
        long writeMillis;
        try {
            List<Future<?>> running = new ArrayList<>();
            for (Client c : clients) {
                c.acked = 0;
                c.inFlightAtKill = 0;
                c.unexpected.clear();
                running.add(pool.submit(() -> write(node, c, killing, deadAtNanos, nearLimit)));
            }
            // Kill after WRITE_FOR, or earlier if a client nears its write cap, so clients are always still writing.
            nearLimit.await(WRITE_FOR.toMillis(), TimeUnit.MILLISECONDS);
            writeMillis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
            killing.set(true);
            int exit = node.killHard();
            deadAtNanos.set(System.nanoTime());
            System.out.printf("[it] cycle %d: kill -9 of %s after %d ms of writes, exit %d%n", cycle, node,
                    writeMillis, exit);
            pool.shutdown();
            if (!pool.awaitTermination(CLIENTS_STOP_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS)) {
                fail("client threads did not stop within " + CLIENTS_STOP_TIMEOUT + " of the kill");
            }
            for (Future<?> f : running) {
                f.get(1, TimeUnit.SECONDS); // surfaces an exception thrown by a client
            }
        } finally {
            pool.shutdownNow();
        }

        long acked = clients.stream().mapToLong(c -> c.acked).sum();
        int inFlight = clients.stream().mapToInt(c -> c.inFlightAtKill).sum();
        List<String> unexpected = new ArrayList<>();
        clients.forEach(c -> unexpected.addAll(c.unexpected));
        System.out.printf("[it] cycle %d: %d acked writes (%s per client), %d writes in flight at kill -9%n",
                cycle, acked, clients.stream().map(c -> String.valueOf(c.acked)).toList(), inFlight);
        assertTrue(unexpected.isEmpty(), "cycle " + cycle + ": " + unexpected.size()
                + " unexpected responses or errors before the kill (of " + acked + " acked writes): " + head(unexpected));
        assertTrue(acked >= MIN_ACKED_PER_CYCLE, "cycle " + cycle + ": only " + acked + " writes were acknowledged in "
                + writeMillis + " ms; the node is too slow for this test to mean anything. Log " + node.logFile());
        assertTrue(inFlight > 0, "cycle " + cycle + ": no write was in flight when the node was killed, so the "
                + "kill did not happen mid-write (" + acked + " acked)");

        NodeProcess restarted = startReady("crash-c" + cycle + "-recovered", dir, restartProps);
        List<String> violations = new ArrayList<>();
        int[] counts = verify(restarted, clients, violations);
        String replayed = replayedLine(restarted);
        assertTrue(violations.isEmpty(), "cycle " + cycle + ": " + violations.size() + " of "
                + THREADS * KEYS_PER_THREAD + " keys lost an acknowledged write after kill -9 (" + acked
                + " acked writes, " + inFlight + " in flight; " + replayed + "; logs " + node.logFile() + ", "
                + restarted.logFile() + "): " + head(violations));
        System.out.printf("[it] cycle %d: all %d keys verified (%d on last acked, %d on in-flight value, %d absent); %s%n",
                cycle, THREADS * KEYS_PER_THREAD, counts[0] - counts[1], counts[1], counts[2], replayed);
        return new Cycle(new CycleReport(cycle, acked, inFlight, writeMillis, counts[0] - counts[1], counts[1],
                counts[2], replayed), restarted);
    }

    /**
     * One client: overwrites its own keys round-robin, one request at a time, recording what was acknowledged.
     * It does not stop when the kill is announced, only when a request fails, so the kill always lands while
     * clients are writing (a client that stopped at the announcement left nothing in flight, and CI once saw
     * all eight stop before the signal arrived). A failed request counts as in flight at the kill when it was
     * sent before the node's death was confirmed.
     */
    private static void write(NodeProcess node, Client c, AtomicBoolean killing, AtomicLong deadAtNanos,
                              CountDownLatch nearLimit) {
        HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
                .connectTimeout(Duration.ofSeconds(2)).build();
        int sent = 0;
        while (sent < MAX_WRITES_PER_THREAD) {
            long n = c.nextValue++;
            KeyModel k = c.keys[(int) (n % KEYS_PER_THREAD)];
            String value = k.key + "-v" + n;
            sent++;
            if (sent == MAX_WRITES_PER_THREAD * 9 / 10) {
                nearLimit.countDown();
            }
            HttpRequest put = HttpRequest.newBuilder(node.kvUri(k.key)).timeout(Duration.ofSeconds(10))
                    .PUT(HttpRequest.BodyPublishers.ofString(value, StandardCharsets.UTF_8)).build();
            long sentAt = System.nanoTime();
            try {
                HttpResponse<String> r = http.send(put, HttpResponse.BodyHandlers.ofString());
                if (r.statusCode() == 204 && r.headers().firstValue("ETag").isPresent()) {
                    k.acked = value;
                    k.unknown.clear();
                    c.acked++;
                } else {
                    // Not acknowledged: the outcome may be unknown (e.g. 504), so the value stays possible.
                    k.unknown.add(value);
                    c.unexpected.add("PUT " + k.key + " = " + value + " -> " + r.statusCode() + " " + r.body());
                }
            } catch (IOException e) {
                k.unknown.add(value);
                if (killing.get()) {
                    if (sentAt < deadAtNanos.get()) {
                        c.inFlightAtKill++;
                    }
                } else {
                    c.unexpected.add("PUT " + k.key + " = " + value + " -> " + e);
                }
                return;
            } catch (InterruptedException e) {
                k.unknown.add(value);
                Thread.currentThread().interrupt();
                return;
            }
        }
    }

    /**
     * Reads every key; records a violation for each value that its model does not allow, then makes the
     * found value the known durable state. Returns {present, present-with-in-flight-value, absent}.
     */
    private static int[] verify(NodeProcess node, List<Client> clients, List<String> violations) throws Exception {
        int present = 0, onUnknown = 0, absent = 0;
        for (Client c : clients) {
            for (KeyModel k : c.keys) {
                HttpResponse<byte[]> r = node.get(k.key);
                String found;
                if (r.statusCode() == 200) {
                    found = new String(r.body(), StandardCharsets.UTF_8);
                    present++;
                } else if (r.statusCode() == 404) {
                    found = null;
                    absent++;
                } else {
                    violations.add(k.key + ": GET answered " + r.statusCode() + " "
                            + new String(r.body(), StandardCharsets.UTF_8));
                    continue;
                }
                if (!k.allows(found)) {
                    violations.add(describe(k, found));
                } else if (found != null && !found.equals(k.acked)) {
                    onUnknown++;
                }
                k.acked = found;
                k.unknown.clear();
            }
        }
        return new int[] {present, onUnknown, absent};
    }

    private static String describe(KeyModel k, String found) {
        String what;
        if (found == null) {
            what = "MISSING";
        } else if (k.acked != null && number(found) < number(k.acked)) {
            what = "OLDER than acked (lost " + (number(k.acked) - number(found)) / KEYS_PER_THREAD + " acked writes)";
        } else {
            what = "NEVER ALLOWED";
        }
        return k.key + ": " + what + ": found " + found + ", last acked " + k.acked + ", unknown-outcome " + k.unknown;
    }

    private static long number(String value) {
        Matcher m = VALUE.matcher(value);
        return m.matches() ? Long.parseLong(m.group(3)) : -1;
    }

    private static String replayedLine(NodeProcess node) {
        Matcher m = REPLAYED.matcher(node.output());
        return m.find() ? "restart replayed " + m.group(1) + " WAL records" : "restart replayed no WAL records";
    }

    private static String head(List<String> items) {
        return String.join("\n  ", items.subList(0, Math.min(20, items.size())))
                + (items.size() > 20 ? "\n  ... and " + (items.size() - 20) + " more" : "");
    }
}
