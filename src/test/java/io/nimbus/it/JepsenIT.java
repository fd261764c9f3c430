package io.nimbus.it;

import io.nimbus.lin.History;
import io.nimbus.lin.LinearizabilityChecker;
import io.nimbus.lin.Observed;
import io.nimbus.lin.Op;
import io.nimbus.lin.Operation;
import io.nimbus.lin.Output;
import io.nimbus.lin.Result;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
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
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.Collectors;

import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * A Jepsen-style test: 3 workers and a proxy (RF 3), concurrent clients doing QUORUM reads, writes,
 * compare-and-sets, creates and deletes on a few hot keys through all four nodes, while a seeded nemesis
 * kills and restarts workers, pauses nodes and partitions the network; then everything is healed and
 * every key read once more. Every operation goes into an {@link History} (the ETag is the version) and
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
    private static final Duration CLIENT_TIMEOUT = Duration.ofMillis(3000);
    private static final String SERVER_WRITE_TIMEOUT_MS = "2000";

    private final Object lock = new Object();
    private final History history = new History();
    /** The node each operation was sent to, by operation id (ids are given in invocation order from 0). */
    private final List<String> nodeOfOp = new ArrayList<>();
    private volatile boolean recording = true;
    private final Map<String, AtomicLong> counts = Collections.synchronizedMap(new HashMap<>());
    private final ConcurrentLinkedQueue<String> nemesisLog = new ConcurrentLinkedQueue<>();
    private final Map<Fault, Integer> faults = Collections.synchronizedMap(new EnumMap<>(Fault.class));
    private long t0;
    private long keyPeriodNanos;
    private int keyCount;
    private final Set<String> usedKeys = ConcurrentHashMap.newKeySet();

    @Test
    void quorumOperationsStayLinearizableUnderFaults() throws Exception {
        long wallStart = System.nanoTime();
        t0 = wallStart;
        long seed = Long.getLong("jepsen.seed", new Random().nextLong());
        List<Fault> kinds = parseFaults(System.getProperty("jepsen.faults", "kill,pause,partition"));
        int clients = Integer.getInteger("jepsen.clients", 10);
        keyCount = Integer.getInteger("jepsen.keys", 5);
        keyPeriodNanos = Duration.ofSeconds(Long.getLong("jepsen.key-seconds", 60)).toNanos();
        String run = DateTimeFormatter.ofPattern("yyyyMMdd-HHmmss").withZone(ZoneOffset.UTC).format(Instant.now())
                + "-" + Long.toUnsignedString(seed, 36);
        Path runDir = NodeProcess.targetDir().resolve("jepsen").resolve(run);
        Files.createDirectories(runDir);
        System.out.printf("[jepsen] run %s seed %d faults %s clients %d keys %d, fresh every %d s "
                + "(rerun with -Djepsen.seed=%d)%n", run, seed, kinds, clients, keyCount,
                TimeUnit.NANOSECONDS.toSeconds(keyPeriodNanos), seed);

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
            t0 = System.nanoTime();

            long end = System.nanoTime() + workload.toNanos();
            List<Thread> threads = new ArrayList<>();
            for (int c = 0; c < clients; c++) {
                Client client = new Client("c" + c, new Random(seed + 1 + c), cluster.nodes(), end);
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
                t.join(CLIENT_TIMEOUT.toMillis() + 10_000);
            }
            if (nemesisError != null) {
                recording = false;
                writeHistory(runDir);
                throw new AssertionError("nemesis failed (seed " + seed + "); history " + runDir.resolve("history.txt")
                        + "\n" + cluster.describeState(), nemesisError);
            }

            log("quiet period: heal, resume, restart all");
            cluster.restoreAll(Duration.ofSeconds(90));
            Thread.sleep(2000);
            List<String> keys = new ArrayList<>(new TreeSet<>(usedKeys));
            Map<String, String> finals = finalReads(cluster, keys);
            synchronized (lock) {
                recording = false;
            }
            writeHistory(runDir);
            Files.write(runDir.resolve("nemesis.txt"), nemesisLog);

            long checkStart = System.nanoTime();
            result = LinearizabilityChecker.check(history);
            long checkMs = elapsedMs(checkStart);
            List<Operation> ops = history.operations();
            Map<Operation.Outcome, Long> byOutcome = ops.stream()
                    .collect(Collectors.groupingBy(Operation::outcome, () -> new EnumMap<>(Operation.Outcome.class),
                            Collectors.counting()));
            long writes = countOf("write-attempts");
            double unknownRate = writes == 0 ? 0 : 100.0 * countOf("504-outcome-unknown") / writes;
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
                    countOf("client-timeout"), countOf("client-io-error"), countOf("503"), workload.toSeconds(), elapsedMs(wallStart) / 1000, checkMs);
            String details = "counts " + new java.util.TreeMap<>(snapshotCounts()) + "\nfinal reads " + finals
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

            assertTrue(countOf("client-crash") == 0, "a client thread crashed (see the stack trace above)");
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

    // ---------------------------------------------------------------------------------------- clients

    private final class Client {
        final String name;
        final Random random;
        final List<LocalCluster.Node> nodes;
        final long end;
        final HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
                .connectTimeout(Duration.ofSeconds(1)).build();
        /** The last version this client saw per key (absent: none, or the key was absent). */
        final Map<String, String> known = new HashMap<>();
        int seq;

        Client(String name, Random random, List<LocalCluster.Node> nodes, long end) {
            this.name = name;
            this.random = random;
            this.nodes = nodes;
            this.end = end;
        }

        void run() {
            try {
                while (System.nanoTime() < end) {
                    String key = keyFor(random.nextInt(keyCount));
                    LocalCluster.Node node = nodes.get(random.nextInt(nodes.size()));
                    step(node, key);
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            } catch (RuntimeException e) {
                e.printStackTrace();
                count("client-crash");
            }
        }

        void step(LocalCluster.Node node, String key) throws InterruptedException {
            String version = known.get(key);
            int dice = random.nextInt(100);
            String value = name + "-" + (++seq);
            Op op;
            HttpRequest.Builder req = HttpRequest.newBuilder(java.net.URI.create("http://127.0.0.1:" + node.httpPort
                    + "/v1/kv/" + key + "?consistency=QUORUM")).timeout(CLIENT_TIMEOUT);
            if (dice < 35) {
                op = Op.read(key);
                req.GET();
            } else if (dice < 55) {
                op = Op.write(key, value);
                req.PUT(HttpRequest.BodyPublishers.ofString(value));
            } else if (dice < 80 && version != null) {
                op = Op.cas(key, version, value);
                req.PUT(HttpRequest.BodyPublishers.ofString(value)).header("If-Match", "\"" + version + "\"");
            } else if (dice < 90) {
                op = Op.createIfAbsent(key, value);
                req.PUT(HttpRequest.BodyPublishers.ofString(value)).header("If-None-Match", "*");
            } else if (version != null && random.nextBoolean()) {
                op = Op.deleteIf(key, version);
                req.DELETE().header("If-Match", "\"" + version + "\"");
            } else {
                op = Op.delete(key);
                req.DELETE();
            }
            if (!(op instanceof Op.Read)) {
                count("write-attempts");
            }
            count("op-" + op.getClass().getSimpleName());
            synchronized (lock) {
                if (!recording) {
                    return;
                }
                history.invoke(name, op, now());
                nodeOfOp.add(node.name);
            }
            HttpResponse<String> r;
            try {
                r = http.send(req.build(), HttpResponse.BodyHandlers.ofString());
            } catch (IOException e) { // time-out, refused, reset: a write may or may not have happened
                count(e instanceof java.net.http.HttpTimeoutException ? "client-timeout" : "client-io-error");
                end(op, null, null, false);
                Thread.sleep(50); // a real client backs off a little from a node it cannot reach
                return;
            }
            record(op, r);
            if (r.statusCode() == 503) {
                Thread.sleep(50);
            }
        }

        void record(Op op, HttpResponse<String> r) {
            int status = r.statusCode();
            String etag = r.headers().firstValue("ETag").map(JepsenIT::version).orElse(null);
            count(Integer.toString(status));
            String key = op.key();
            if (status == 504 && r.body().contains("outcome-unknown")) {
                count("504-outcome-unknown");
            }
            if (op instanceof Op.Read) {
                if (status == 200 && etag != null) {
                    known.put(key, etag);
                    end(op, Output.found(r.body(), etag), null, true);
                } else if (status == 404) {
                    known.remove(key);
                    end(op, Output.notFound(), null, true);
                } else {
                    if (status == 200) {
                        count("anomaly-200-without-etag");
                    }
                    end(op, null, null, true); // a read that did not answer changed nothing
                }
                return;
            }
            boolean delete = op instanceof Op.Delete;
            if ((status == 204 || status == 200) && (etag != null || delete)) {
                if (delete) {
                    known.remove(key);
                    end(op, new Output.Deleted(etag), null, true);
                } else {
                    known.put(key, etag);
                    end(op, Output.written(etag), null, true);
                }
            } else if (status == 412 && !(op instanceof Op.Write)) {
                // QUORUM: the refusal comes from the linearized state; no ETag means the key is absent
                if (etag == null) {
                    known.remove(key);
                } else {
                    known.put(key, etag);
                }
                end(op, null, etag == null ? Observed.absent() : Observed.version(etag), true);
            } else if (status == 404 && delete) {
                known.remove(key);
                end(op, null, Observed.absent(), true);
            } else if (status == 503) {
                end(op, null, null, true); // nothing was written
            } else {
                if (status != 504) {
                    count("anomaly-" + status);
                }
                end(op, null, null, false); // 504 (or anything unexpected): may or may not have applied
            }
        }

        /** Ends the operation: output → ok, observed → rejected, neither → failed if {@code known} else indeterminate. */
        void end(Op op, Output output, Observed observed, boolean definite) {
            long now = now();
            synchronized (lock) {
                if (!recording) {
                    return; // too late: it stays pending, which counts as indeterminate
                }
                if (output != null) {
                    history.ok(name, output, now);
                } else if (observed != null) {
                    history.rejected(name, observed, now);
                } else if (definite || op instanceof Op.Read) {
                    history.fail(name, now);
                } else {
                    history.indeterminate(name);
                }
            }
        }
    }

    /** One QUORUM read per key after the quiet period, retried (each attempt recorded) until it answers. */
    private Map<String, String> finalReads(LocalCluster cluster, List<String> keys) throws InterruptedException {
        Map<String, String> finals = new java.util.TreeMap<>();
        List<LocalCluster.Node> nodes = cluster.nodes();
        for (int i = 0; i < keys.size(); i++) {
            String key = keys.get(i);
            Client reader = new Client("final-" + key, new Random(i), nodes, 0);
            for (int attempt = 0; attempt < 20 && !finals.containsKey(key); attempt++) {
                LocalCluster.Node node = nodes.get((i + attempt) % nodes.size());
                HttpRequest req = HttpRequest.newBuilder(java.net.URI.create("http://127.0.0.1:" + node.httpPort
                        + "/v1/kv/" + key + "?consistency=QUORUM")).timeout(CLIENT_TIMEOUT).GET().build();
                synchronized (lock) {
                    history.invoke(reader.name, Op.read(key), now());
                    nodeOfOp.add(node.name);
                }
                try {
                    HttpResponse<String> r = reader.http.send(req, HttpResponse.BodyHandlers.ofString());
                    reader.record(Op.read(key), r);
                    if (r.statusCode() == 200) {
                        finals.put(key, r.body() + "@" + r.headers().firstValue("ETag").orElse("?"));
                    } else if (r.statusCode() == 404) {
                        finals.put(key, "absent");
                    }
                } catch (IOException e) {
                    reader.end(Op.read(key), null, null, true);
                }
                if (!finals.containsKey(key)) {
                    Thread.sleep(500);
                }
            }
        }
        return finals;
    }

    /** Hot key {@code i} of the current key generation (a fresh set every {@code jepsen.key-seconds}). */
    private String keyFor(int i) {
        long generation = (System.nanoTime() - t0) / keyPeriodNanos;
        String key = generation == 0 ? "jk" + i : "jk" + i + "-g" + generation;
        usedKeys.add(key);
        return key;
    }

    // ---------------------------------------------------------------------------------------- output

    private void writeHistory(Path runDir) throws IOException {
        List<String> lines = new ArrayList<>();
        lines.add("# [invoke, response] in microseconds since the workload started; in invocation order; @ the node asked");
        synchronized (lock) {
            history.operations().forEach(o -> lines.add(o + "   @" + nodeOfOp.get(o.id())));
        }
        Files.write(runDir.resolve("history.txt"), lines);
    }

    /** History time: microseconds since the workload started (equal times count as concurrent). */
    private long now() {
        return (System.nanoTime() - t0) / 1000;
    }

    private void log(String what) {
        String line = String.format(Locale.ROOT, "%8.3f s %s", (System.nanoTime() - t0) / 1e9, what);
        nemesisLog.add(line);
        System.out.println("[jepsen] " + line);
    }

    private void count(String what) {
        counts.computeIfAbsent(what, k -> new AtomicLong()).incrementAndGet();
    }

    private long countOf(String what) {
        AtomicLong a = counts.get(what);
        return a == null ? 0 : a.get();
    }

    private Map<String, Long> snapshotCounts() {
        synchronized (counts) {
            Map<String, Long> m = new HashMap<>();
            counts.forEach((k, v) -> m.put(k, v.get()));
            return m;
        }
    }

    private static String version(String etag) {
        String t = etag.trim();
        return t.length() >= 2 && t.startsWith("\"") && t.endsWith("\"") ? t.substring(1, t.length() - 1) : t;
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
