package io.nimbus.it;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.nimbus.core.ring.Murmur3;
import io.nimbus.lin.LinearizabilityChecker;
import io.nimbus.lin.Op;
import io.nimbus.lin.Operation;
import io.nimbus.lin.Result;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.net.URI;
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
import java.util.Collections;
import java.util.Comparator;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Random;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;
import java.util.function.Predicate;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.fail;

/**
 * Topology changes under a Jepsen-style QUORUM load (TOPOLOGY.md §12.3): 3 workers and a proxy (RF 3), a
 * preload of {@code topojepsen.preload} keys at QUORUM through the proxy (so that every stream carries
 * real rows), then {@link JepsenClients}' mixed QUORUM load (reads, writes, compare-and-sets, creates,
 * deletes on a few hot keys, a fresh set every {@code topojepsen.key-seconds}; every operation recorded
 * in one history) through the live workers and the proxy, while a script changes the topology:
 * <ol>
 *   <li>a 4th worker joins (started for the first time: it joins by itself);</li>
 *   <li>a 5th worker joins;</li>
 *   <li>one of the original three, A, is decommissioned ({@code POST /v1/cluster/decommission} on it);</li>
 *   <li>another, B, is killed with SIGKILL and removed through a live worker
 *       ({@code POST /v1/cluster/nodes/B/remove}, 409 while B still counts as reachable);</li>
 *   <li>the third, C, is stopped, its data directory wiped, and it is started again under its name: it
 *       replaces itself (a live worker removes the old host, then the fresh store joins).</li>
 * </ol>
 * Once per operation (once for the replacement, in its removal or its join, drawn by the seed), the
 * nemesis kills a random participant with SIGKILL — the joiner or the leaver, the driver, a receiver,
 * an old replica of a moving range (the stream sources are among them) or a member of the topology
 * register's electorate — at a random point after the operation's START, and restarts it on the same
 * data directory 1–3 s later. Clients only ever target the proxy and workers that are members: a new
 * worker once it is NORMAL, a decommissioned one until its departure is seen, a removed one never after
 * its kill, the replaced one only once its new store is NORMAL.
 *
 * <p>Checks, each counted before it is asserted:
 * <ul>
 *   <li>the history (with final QUORUM reads of every hot key through every live node) is linearizable;</li>
 *   <li>every acknowledged preload key reads back at QUORUM with its value through every live node, and
 *       every hot key reads back through every live node a value some linearization can end with (the
 *       last acknowledged write's, or one of a write not over before the last acknowledged one began);</li>
 *   <li>no QUORUM request got a 503 while at most one worker was down, outside the windows of a
 *       removal and of the replacement (see {@link #classify}: every 503 is listed with the cluster
 *       state, whatever its class);</li>
 *   <li>after each of the first four operations (4 and 5 workers, where a worker replicates 47-86 % of
 *       the keys) and at the end, once every member worker has cleaned up at the proxy's epoch
 *       ({@code nimbus_cleanup_epoch}), each one's {@code nimbus_cleanup_rows_kept} lies between the
 *       acknowledged preload keys it replicates by that epoch's ring (the ring computation is checked
 *       against {@code /v1/cluster/locate} for a sample at the end) and that plus the hot keys and
 *       unacknowledged preload keys it replicates (those may or may not have a row there, see
 *       {@link #compareKept}); the decommissioned worker keeps 0 rows, and so does the removed one when it
 *       is started again on its old store at the end (it must not become ready either);</li>
 *   <li>every operation finishes within {@code topojepsen.op-timeout-seconds}; a stuck one is reported with
 *       the topology, the workers' log tails and what {@code POST /v1/cluster/operation/abort} did.</li>
 * </ul>
 * Figures: time of each operation (from its trigger and from its START, as the proxy saw the epochs),
 * rows streamed into each joiner ({@code nimbus_stream_rows_total} at its FINISH) against the keys its
 * replica share gives it, the rows each operation's plan moves against those its receivers logged as
 * copied, the writes of unknown outcome during the operations and outside them, the cleanup figures.
 *
 * <p>System properties: {@code topojepsen.seed} (everything the script and the clients draw),
 * {@code topojepsen.preload} (3000; TOPOLOGY.md §12.3 says 20000), {@code topojepsen.clients} (10),
 * {@code topojepsen.keys} (5), {@code topojepsen.key-seconds} (30), {@code topojepsen.settle-seconds}
 * (2: the load alone between operations; a longer run: 20), {@code topojepsen.kill-delay-max-ms}
 * (1000), {@code topojepsen.op-timeout-seconds} (120: an operation not over by then is stuck),
 * {@code topojepsen.restart-removed} (true). Output under {@code target/topojepsen/<run>/}:
 * {@code history.txt}, {@code script.txt}, {@code summary.txt}.
 */
class TopologyJepsenIT {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String SERVER_WRITE_TIMEOUT_MS = "2000";
    private static final Duration REQUEST_TIMEOUT = Duration.ofSeconds(8);
    /** A restarted worker counts as down until every coordinator sees it reachable, and this long after. */
    private static final long DOWN_GRACE_MS = 500;
    /** Windows seen at the proxy are widened by this much on each side (the proxy learns epochs late). */
    private static final long WINDOW_MARGIN_MS = 1000;
    private static final int PRELOAD_THREADS = 8;
    private static final int READBACK_THREADS = 8;
    private static final int WARM_UP_KEYS = 50;
    /** The replacement's removal moves no rows (the cluster shrinks below RF): it is over in 100-200 ms. */
    private static final int REMOVAL_KILL_DELAY_MAX_MS = 150;

    private final long seed = Long.getLong("topojepsen.seed", new Random().nextLong());
    private final int preloadKeys = Integer.getInteger("topojepsen.preload", 3000);
    private final int clientCount = Integer.getInteger("topojepsen.clients", 10);
    private final long settleMs = TimeUnit.SECONDS.toMillis(Long.getLong("topojepsen.settle-seconds", 2));
    private final int killDelayMaxMs = Integer.getInteger("topojepsen.kill-delay-max-ms", 1000);
    private final Duration opTimeout = Duration.ofSeconds(Long.getLong("topojepsen.op-timeout-seconds", 120));
    private final boolean restartRemoved = Boolean.parseBoolean(System.getProperty("topojepsen.restart-removed", "true"));

    private LocalCluster cluster;
    private JepsenClients work;
    private final HttpClient http = KvClient.newClient();
    /** What the clients may target: the proxy and the workers that are members. */
    private final List<LocalCluster.Node> targets = new CopyOnWriteArrayList<>();
    private final ConcurrentLinkedQueue<String> scriptLog = new ConcurrentLinkedQueue<>();
    /** Every epoch the proxy was seen holding, in order. */
    private final List<Snap> snaps = new CopyOnWriteArrayList<>();
    private volatile Snap latest;
    private volatile boolean observing = true;
    private volatile boolean artifactsWritten;
    private final List<Down> downs = new CopyOnWriteArrayList<>();
    private final List<Window> windows = new CopyOnWriteArrayList<>();
    private final List<OpRecord> opRecords = new CopyOnWriteArrayList<>();
    private final ConcurrentLinkedQueue<JepsenClients.Answer> answers = new ConcurrentLinkedQueue<>();
    private final Map<String, List<Path>> logsOf = new ConcurrentHashMap<>();
    /** Workers that left (name → the epoch of their departure). */
    private final Map<String, Long> departed = new ConcurrentHashMap<>();
    /** When each leaving worker was seen LEAVING (its own 503s after that are not the cluster's). */
    private final Map<String, Long> leavingSince = new ConcurrentHashMap<>();
    private final Map<String, String> preloadAcked = new ConcurrentHashMap<>();
    private final Set<String> preloadUnacked = ConcurrentHashMap.newKeySet();
    private final List<String> kills = new CopyOnWriteArrayList<>();
    private volatile int killsDuring;
    private int scriptedOps;
    private volatile Throwable nemesisError;
    private volatile Thread activeNemesis;
    private final List<String> cleanupLines = new CopyOnWriteArrayList<>();
    private final List<String> cleanupFailures = new CopyOnWriteArrayList<>();

    // ---------------------------------------------------------------------------------------- model

    record OpView(String kind, String node, String driver, List<String> receivers) {
    }

    /** The topology as the proxy held it at {@code at} (history microseconds). */
    record Snap(long at, long epoch, Map<String, String> status, Map<String, String> host, OpView op,
                List<String> electorate, List<String> electorateNext, Set<String> departedHosts) {
        boolean settledOn(Set<String> members) {
            return op == null && status.keySet().equals(members) && status.values().stream().allMatch("NORMAL"::equals);
        }

        boolean runs(String kind, String node) {
            return op != null && op.kind().equals(kind) && op.node().equals(node);
        }

        @Override
        public String toString() {
            return "epoch " + epoch + " " + status + (op == null ? "" : " op " + op.kind() + "(" + op.node() + ", driver "
                    + op.driver() + ", receivers " + op.receivers() + ")") + " electorate " + electorate
                    + (electorateNext.isEmpty() ? "" : " -> " + electorateNext);
        }
    }

    /** A worker identity down from {@code from} to {@code to} (history microseconds; MAX while open). */
    static final class Down {
        final String who;
        final long from;
        volatile long to = Long.MAX_VALUE;

        Down(String who, long from) {
            this.who = who;
            this.from = from;
        }
    }

    /** A removal (or the whole replacement) in progress, during which a 503 is not judged. */
    record Window(String what, long from, long to) {
    }

    static final class OpRecord {
        final String label;
        final String kind;
        final String node;
        long triggeredAt;
        volatile Snap startSnap;
        volatile long startSeenAt = -1;
        long planRows = -1;
        long finishSeenAt = -1;
        long startEpoch;
        long finishEpoch;
        String driver = "?";
        List<String> receivers = List.of();
        String kill = "none";
        boolean killDuring;
        double joinerRows = -1;
        double joinerBytes = -1;
        long expectedRows = -1;
        double share = -1;
        boolean joinerRestarted;

        OpRecord(String label, String kind, String node) {
            this.label = label;
            this.kind = kind;
            this.node = node;
        }

        long totalMs() {
            return finishSeenAt < 0 ? -1 : (finishSeenAt - triggeredAt) / 1000;
        }

        long startToFinishMs() {
            return finishSeenAt < 0 || startSeenAt < 0 ? -1 : (finishSeenAt - startSeenAt) / 1000;
        }
    }

    /** An operation did not finish (or start) in time: reported with the state, and the test fails. */
    static final class StuckException extends RuntimeException {
        StuckException(String message) {
            super(message);
        }
    }

    // ---------------------------------------------------------------------------------------- the test

    @Test
    void topologyChangesUnderQuorumLoadStayLinearizable() throws Exception {
        long wallStart = System.nanoTime();
        Random random = new Random(seed);
        work = new JepsenClients("tk", Integer.getInteger("topojepsen.keys", 5),
                Duration.ofSeconds(Long.getLong("topojepsen.key-seconds", 30)));
        String run = DateTimeFormatter.ofPattern("yyyyMMdd-HHmmss").withZone(ZoneOffset.UTC).format(Instant.now())
                + "-" + Long.toUnsignedString(seed, 36);
        Path runDir = NodeProcess.targetDir().resolve("topojepsen").resolve(run);
        Files.createDirectories(runDir);
        System.out.printf("[topojepsen] run %s seed %d: preload %d keys, %d clients on %d hot keys (fresh every %d s), "
                        + "%d s of load alone between operations (rerun with -Dtopojepsen.seed=%d)%n", run, seed, preloadKeys,
                clientCount, work.keyCount(), TimeUnit.NANOSECONDS.toSeconds(work.keyPeriodNanos()), settleMs / 1000, seed);

        // seeds: the first worker founds the cluster, every other node is seeded with it (as JepsenIT); every node
        // started later also gets every other worker as a seed (see seedsOf). Not seededByAll: nodes that all start
        // together seeded with each other can form gossip islands (a node stops asking its seeds once it heard
        // from any peer; measured: {w1, proxy} and {w2, w3} never merged within 90 s)
        try (LocalCluster c = LocalCluster.builder().label("tj").workers(5).withProxy().replicationFactor(3).startOnly(3).fastGossip()
                .property("nimbus.limits.write-timeout-ms=" + SERVER_WRITE_TIMEOUT_MS)
                .property("nimbus.cluster.secret=topojepsen-cluster-secret").start()) {
            cluster = c;
            cluster.launched().forEach(this::noteLog);
            long startupMs = elapsedMs(wallStart);
            work.startClock();
            Thread observer = new Thread(this::observe, "topojepsen-observer");
            observer.setDaemon(true);
            observer.start();
            try {
                runAndCheck(random, runDir, wallStart, startupMs);
            } catch (Throwable t) {
                if (artifactsWritten) {
                    throw t;
                }
                work.stopClients();
                work.stopRecording();
                work.writeHistory(runDir);
                Files.write(runDir.resolve("script.txt"), scriptLog);
                String figures = opFigures();
                String state = cluster.describeState();
                Files.writeString(runDir.resolve("summary.txt"), "failed: " + t + "\n" + figures + "\n" + state + "\n");
                throw new AssertionError("seed " + seed + " (" + runDir + "): " + t.getMessage() + "\n" + figures + "\n"
                        + state, t);
            } finally {
                observing = false;
                observer.join(5000);
                Thread nemesis = activeNemesis;
                if (nemesis != null && nemesis.isAlive()) { // a failed script: no restart after the cluster is closed
                    nemesis.interrupt();
                    nemesis.join(30_000);
                }
            }
        }
    }

    private void runAndCheck(Random random, Path runDir, long wallStart, long startupMs) throws Exception {
        List<LocalCluster.Node> w = cluster.workers();
        Set<String> members = new TreeSet<>(List.of(w.get(0).name, w.get(1).name, w.get(2).name));
        awaitTopology("the three workers settle with a register electorate of three", Duration.ofSeconds(60),
                s -> s.settledOn(members) && s.electorate().size() == 3 && s.electorateNext().isEmpty());
        log(String.format(Locale.ROOT, "cluster up after %d ms: %s", startupMs, latest));

        long preloadStart = System.nanoTime();
        preload(cluster.proxy());
        warmUp(w.subList(0, 3));
        long preloadMs = elapsedMs(preloadStart);
        log(String.format(Locale.ROOT, "preloaded %d keys at QUORUM through the proxy and %d through the workers "
                        + "(warming up each one's coordinator) in %d ms (%d not acknowledged)", preloadKeys, 3 * WARM_UP_KEYS,
                preloadMs, preloadUnacked.size()));

        // the roles of the original workers: A decommissioned, B killed and removed, C wiped and replaced
        List<LocalCluster.Node> originals = new ArrayList<>(w.subList(0, 3));
        Collections.shuffle(originals, random);
        LocalCluster.Node a = originals.get(0);
        LocalCluster.Node b = originals.get(1);
        LocalCluster.Node cc = originals.get(2);
        log("script: join " + w.get(3).name + ", join " + w.get(4).name + ", decommission " + a.name + ", kill -9 and remove "
                + b.name + ", wipe and replace " + cc.name);

        targets.addAll(List.of(w.get(0), w.get(1), w.get(2), cluster.proxy()));
        work.listener(answers::add);
        List<Thread> clients = new ArrayList<>();
        for (int i = 0; i < clientCount; i++) {
            JepsenClients.Client client = work.client("c" + i, new Random(seed + 1 + i), () -> targets, Long.MAX_VALUE);
            Thread t = new Thread(client::run, "topojepsen-c" + i);
            t.start();
            clients.add(t);
        }
        long loadStart = System.nanoTime();
        Throwable scriptError = null;
        try {
            Thread.sleep(settleMs);
            join(w.get(3), members, random);
            cleanupCheckpoint("after the join of " + w.get(3).name);
            Thread.sleep(settleMs);
            join(w.get(4), members, random);
            cleanupCheckpoint("after the join of " + w.get(4).name);
            Thread.sleep(settleMs);
            decommission(a, members, random);
            cleanupCheckpoint("after the decommission of " + a.name);
            Thread.sleep(settleMs);
            remove(b, members, random);
            cleanupCheckpoint("after the removal of " + b.name);
            Thread.sleep(settleMs);
            replace(cc, members, random);
            Thread.sleep(settleMs);
        } catch (Throwable t) {
            scriptError = t;
        }
        work.stopClients();
        for (Thread t : clients) {
            t.join(JepsenClients.CLIENT_TIMEOUT.toMillis() + 10_000);
        }
        long loadMs = elapsedMs(loadStart);
        log("load stopped after " + loadMs + " ms");
        if (scriptError != null) {
            throw new AssertionError("the topology script failed: " + scriptError.getMessage(), scriptError);
        }

        // ---- quiet: the final topology (the electorate may still grow after the last join), then cleanup
        List<LocalCluster.Node> finalWorkers = targets.stream().filter(n -> !n.proxy).sorted(Comparator.comparing(n -> n.name))
                .toList();
        Snap fin = awaitStableTopology(members);
        long finalEpoch = fin.epoch();
        long cleanupWaitMs = awaitCleanup(finalWorkers, finalEpoch, a);
        log("final epoch " + finalEpoch + "; every live worker cleaned up at it after " + cleanupWaitMs + " ms of waiting");

        // ---- final reads: every hot key through every live node (recorded), then every preload key (not recorded)
        List<LocalCluster.Node> readers = new ArrayList<>(finalWorkers);
        readers.add(cluster.proxy());
        List<String> hotKeys = work.usedKeys();
        Map<String, Map<String, String>> finals = new TreeMap<>();
        int hotUnanswered = 0;
        for (String key : hotKeys) {
            for (LocalCluster.Node n : readers) {
                String got = work.readThrough("final-" + key + "@" + n.name, n, key, 20);
                if (got == null) {
                    hotUnanswered++;
                }
                finals.computeIfAbsent(key, k -> new TreeMap<>()).put(n.name, got);
            }
        }
        work.stopRecording();
        work.writeHistory(runDir);
        long readbackStart = System.nanoTime();
        ReadBack preloadBack = readBackPreload(readers);
        long readbackMs = elapsedMs(readbackStart);

        // ---- cleanup figures against the final ring
        checkCleanup(finalWorkers, finalEpoch, b, hotKeys);

        // ---- the history and the hot keys' final values
        long checkStart = System.nanoTime();
        Result result = LinearizabilityChecker.check(work.history());
        long checkMs = elapsedMs(checkStart);
        List<Operation> ops = work.history().operations();
        List<String> badFinals = checkFinalValues(finals, ops);

        // ---- 503s and outcome-unknown
        List<String> unavailable = new ArrayList<>();
        Map<String, Integer> unavailableByClass = new TreeMap<>();
        int violations = classify503s(unavailable, unavailableByClass);
        String unknown = outcomeUnknownFigures();

        Map<Operation.Outcome, Long> byOutcome = ops.stream().collect(Collectors.groupingBy(Operation::outcome,
                () -> new EnumMap<>(Operation.Outcome.class), Collectors.counting()));
        String verdictLine = String.format(Locale.ROOT,
                "[topojepsen] summary: seed=%d ops=%d ok=%d rejected=%d failed=%d indeterminate=%d | verdict=%s | "
                        + "hot-key finals wrong=%d unanswered=%d | preload read-backs %d: wrong=%d no-verdict=%d | "
                        + "503 judged=%d of %d | kills %d (%d during their operation) | cleanup %s | %s | "
                        + "startup %ds, preload %ds, load %ds, read-back %ds, wall %ds, check %d ms",
                seed, ops.size(), byOutcome.getOrDefault(Operation.Outcome.OK, 0L),
                byOutcome.getOrDefault(Operation.Outcome.REJECTED, 0L), byOutcome.getOrDefault(Operation.Outcome.FAILED, 0L),
                byOutcome.getOrDefault(Operation.Outcome.INDETERMINATE, 0L), result.verdict(), badFinals.size(),
                hotUnanswered, preloadBack.reads, preloadBack.wrong.size(), preloadBack.noVerdict.size(), violations,
                unavailable.size(), kills.size(), killsDuring, cleanupFailures.isEmpty() ? "ok" : "WRONG", unknown,
                startupMs / 1000, preloadMs / 1000, loadMs / 1000, readbackMs / 1000, elapsedMs(wallStart) / 1000, checkMs);
        String details = opFigures() + "\ncleanup:\n  " + String.join("\n  ", cleanupLines)
                + "\n503 answers by class " + unavailableByClass + ":\n  " + String.join("\n  ",
                unavailable.subList(0, Math.min(60, unavailable.size())))
                + (unavailable.size() > 60 ? "\n  ... " + (unavailable.size() - 60) + " more in summary.txt" : "")
                + "\ncounts " + new TreeMap<>(work.snapshotCounts())
                + "\nhot-key finals " + finals
                + (badFinals.isEmpty() ? "" : "\nWRONG hot-key finals:\n  " + String.join("\n  ", badFinals))
                + (preloadBack.wrong.isEmpty() ? "" : "\nWRONG preload read-backs (first 20):\n  "
                + String.join("\n  ", preloadBack.wrong.subList(0, Math.min(20, preloadBack.wrong.size()))))
                + (preloadBack.noVerdict.isEmpty() ? "" : "\npreload read-backs without a verdict (first 20):\n  "
                + String.join("\n  ", preloadBack.noVerdict.subList(0, Math.min(20, preloadBack.noVerdict.size()))))
                + (cleanupFailures.isEmpty() ? "" : "\nWRONG cleanup:\n  " + String.join("\n  ", cleanupFailures))
                + "\nhistory " + runDir.resolve("history.txt") + "\nscript " + runDir.resolve("script.txt")
                + "\nnode logs: " + logsOf;
        Files.write(runDir.resolve("script.txt"), scriptLog);
        artifactsWritten = true;
        Files.writeString(runDir.resolve("summary.txt"), verdictLine + "\n" + details + "\nall 503 answers:\n  "
                + String.join("\n  ", unavailable) + "\n\nchecker: " + result.explanation() + "\n");
        System.out.println(details);
        if (!result.isLinearizable()) {
            System.out.println("[topojepsen] checker: " + result.explanation());
        }
        System.out.println(verdictLine);

        List<String> failures = new ArrayList<>();
        if (work.countOf("client-crash") > 0) {
            failures.add("a client thread crashed (see the stack trace above)");
        }
        if (byOutcome.getOrDefault(Operation.Outcome.OK, 0L) < 10L * hotKeys.size()) {
            failures.add("too few operations succeeded to judge anything");
        }
        if (result.isUnknown()) {
            failures.add("the checker could not decide within its limits (not a pass): " + result.explanation());
        } else if (!result.isLinearizable()) {
            failures.add("NOT LINEARIZABLE (history " + runDir.resolve("history.txt") + "; find the operations by #id "
                    + "there, each line ends with the node asked):\n" + result.explanation());
        }
        if (hotUnanswered > 0 || !badFinals.isEmpty()) {
            failures.add(hotUnanswered + " hot-key final reads got no answer, " + badFinals.size() + " read a value no "
                    + "linearization ends with: " + badFinals);
        }
        if (!preloadBack.wrong.isEmpty() || !preloadBack.noVerdict.isEmpty()) {
            failures.add(preloadBack.wrong.size() + " acknowledged preload keys read back wrong and "
                    + preloadBack.noVerdict.size() + " got no verdict at QUORUM through some live node");
        }
        if (violations > 0) {
            failures.add(violations + " QUORUM requests got 503 while at most one worker was down, outside a removal or "
                    + "the replacement (listed above)");
        }
        failures.addAll(cleanupFailures);
        if (kills.size() < scriptedOps) {
            failures.add("the nemesis killed no participant in " + (scriptedOps - kills.size()) + " of the "
                    + scriptedOps + " operations");
        }
        if (!failures.isEmpty()) {
            fail("seed " + seed + " (" + runDir + "):\n- " + String.join("\n- ", failures) + "\n" + verdictLine);
        }
    }

    // ---------------------------------------------------------------------------------------- the script

    private void join(LocalCluster.Node joiner, Set<String> members, Random random) throws Exception {
        OpRecord op = new OpRecord("join " + joiner.name, "JOIN", joiner.name);
        opRecords.add(op);
        op.triggeredAt = work.now();
        log("start " + joiner.name + " (a new worker: it joins by itself)");
        cluster.startNewWorker(cluster.workers().indexOf(joiner), seedsOf(joiner));
        noteLog(joiner);
        awaitStart(op);
        Thread nemesis = nemesis(op.label, new Random(random.nextLong()), op, killDelayMaxMs, s -> op);
        members.add(joiner.name);
        awaitFinish(op, s -> s.settledOn(members));
        streamedIntoJoiner(op, joiner);
        joinNemesis(nemesis);
        targets.add(joiner);
        log(joiner.name + " joined: a client target from now on");
    }

    private void decommission(LocalCluster.Node leaver, Set<String> members, Random random) throws Exception {
        OpRecord op = new OpRecord("decommission " + leaver.name, "LEAVE", leaver.name);
        opRecords.add(op);
        op.triggeredAt = work.now();
        postUntilAccepted(leaver, "/v1/cluster/decommission");
        awaitStart(op);
        leavingSince.put(leaver.name, op.startSeenAt);
        Thread nemesis = nemesis(op.label, new Random(random.nextLong()), op, killDelayMaxMs, s -> op);
        members.remove(leaver.name);
        awaitFinish(op, s -> s.settledOn(members));
        joinNemesis(nemesis);
        targets.remove(leaver);
        departed.put(leaver.name, op.finishEpoch);
        log(leaver.name + " departed: no client targets it any more");
    }

    private void remove(LocalCluster.Node dead, Set<String> members, Random random) throws Exception {
        OpRecord op = new OpRecord("kill -9 and remove " + dead.name, "REMOVE", dead.name);
        opRecords.add(op);
        op.triggeredAt = work.now();
        targets.remove(dead);
        List<LocalCluster.Node> drivers = targets.stream().filter(n -> !n.proxy).toList();
        LocalCluster.Node driver = drivers.get(random.nextInt(drivers.size()));
        log("kill -9 " + dead.name + " pid " + dead.process().pid() + " (to be removed through " + driver.name
                + "; no client targets it any more)");
        cluster.kill9(dead);
        Down down = down(dead.name + " (removed)");
        postUntilAccepted(driver, "/v1/cluster/nodes/" + dead.name + "/remove");
        awaitStart(op);
        Thread nemesis = nemesis(op.label, new Random(random.nextLong()), op, killDelayMaxMs, s -> op);
        members.remove(dead.name);
        awaitFinish(op, s -> s.settledOn(members));
        down.to = op.finishSeenAt + WINDOW_MARGIN_MS * 1000;
        departed.put(dead.name, op.finishEpoch);
        windows.add(new Window("removal of " + dead.name, op.startSeenAt - WINDOW_MARGIN_MS * 1000,
                op.finishSeenAt + WINDOW_MARGIN_MS * 1000));
        joinNemesis(nemesis);
    }

    /**
     * Stop, wipe, start again: the wiped store asks a live worker to remove its old host once that has been
     * unreachable for the failure timeout (a REMOVE with no receivers when the cluster shrinks below RF),
     * then joins. The nemesis strikes once, in the removal or in the join (drawn by the seed): at a random
     * point after that one's START (the removal takes some 100-200 ms: within {@value #REMOVAL_KILL_DELAY_MAX_MS}
     * ms of its START).
     */
    private void replace(LocalCluster.Node wiped, Set<String> members, Random random) throws Exception {
        OpRecord removal = new OpRecord("replace " + wiped.name + ": removal of the old host", "REMOVE", wiped.name);
        OpRecord rejoin = new OpRecord("replace " + wiped.name + ": join of the new store", "JOIN", wiped.name);
        opRecords.add(removal);
        opRecords.add(rejoin);
        removal.triggeredAt = work.now();
        String oldHost = latest.host().get(wiped.name);
        targets.remove(wiped);
        log("stop " + wiped.name + " (SIGTERM; host " + oldHost + "), wipe " + wiped.dataDir + ", start it again under "
                + "its name (no client targets it until it is NORMAL again)");
        cluster.stop(wiped);
        Down down = down(wiped.name + " (old host " + oldHost + ")");
        try (Stream<Path> files = Files.walk(wiped.dataDir)) {
            files.sorted(Comparator.reverseOrder()).filter(p -> !p.equals(wiped.dataDir)).forEach(p -> p.toFile().delete());
        }
        cluster.startWorker(cluster.workers().indexOf(wiped), "-wiped", seedsOf(wiped));
        noteLog(wiped);
        boolean inRemoval = random.nextBoolean();
        Thread nemesis = nemesis("replace " + wiped.name, new Random(random.nextLong()), inRemoval ? removal : rejoin,
                inRemoval ? REMOVAL_KILL_DELAY_MAX_MS : killDelayMaxMs,
                s -> s.runs("JOIN", wiped.name) ? rejoin : s.runs("REMOVE", wiped.name) ? removal : null);
        awaitStart(removal);
        members.remove(wiped.name);
        awaitFinish(removal, s -> s.departedHosts().contains(oldHost));
        down.to = removal.finishSeenAt + WINDOW_MARGIN_MS * 1000;
        rejoin.triggeredAt = removal.finishSeenAt;
        awaitStart(rejoin);
        members.add(wiped.name);
        awaitFinish(rejoin, s -> s.settledOn(members) && !oldHost.equals(s.host().get(wiped.name)));
        streamedIntoJoiner(rejoin, wiped);
        windows.add(new Window("replacement of " + wiped.name + " (its removal's START to its join's FINISH)",
                removal.startSeenAt - WINDOW_MARGIN_MS * 1000, rejoin.finishSeenAt + WINDOW_MARGIN_MS * 1000));
        joinNemesis(nemesis);
        targets.add(wiped);
        log(wiped.name + " replaced itself (host " + latest.host().get(wiped.name) + "): a client target again");
    }

    /** POSTs {@code path} to {@code n} until it answers 202; 409, 5xx and no answer are retried. */
    private void postUntilAccepted(LocalCluster.Node n, String path) throws Exception {
        long deadline = System.nanoTime() + opTimeout.toNanos();
        Map<Integer, Integer> refusals = new TreeMap<>();
        String last = "";
        while (System.nanoTime() < deadline) {
            try {
                HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + n.httpPort + path))
                        .timeout(Duration.ofSeconds(30)).POST(HttpRequest.BodyPublishers.noBody()).build(),
                        HttpResponse.BodyHandlers.ofString());
                if (r.statusCode() == 202) {
                    log("POST " + path + " on " + n.name + ": 202" + (refusals.isEmpty() ? "" : " (after refusals "
                            + refusals + ", the last: " + last + ")"));
                    return;
                }
                refusals.merge(r.statusCode(), 1, Integer::sum);
                last = r.statusCode() + " " + r.body();
            } catch (IOException e) {
                refusals.merge(-1, 1, Integer::sum);
                last = n.name + ": " + e;
            }
            Thread.sleep(250);
        }
        throw new StuckException("POST " + path + " on " + n.name + " was not accepted within " + opTimeout + ": "
                + refusals + ", the last: " + last);
    }

    private Snap awaitStart(OpRecord op) throws InterruptedException {
        Snap s = awaitTopology(op.label + ": its START", opTimeout, x -> x.runs(op.kind, op.node));
        op.startSnap = s;
        op.startSeenAt = s.at();
        op.startEpoch = s.epoch();
        op.driver = s.op().driver();
        op.receivers = s.op().receivers();
        log(op.label + ": START at epoch " + s.epoch() + " (" + s + ")");
        try { // what the plan moves: one row per key and pending replica
            JsonNode ring = JSON.readTree(get(cluster.proxy(), "/v1/cluster/ring").body());
            if (ring.path("epoch").asLong() == s.epoch()) {
                List<RingRange> ranges = ranges(ring);
                op.planRows = Stream.concat(Stream.concat(preloadAcked.keySet().stream(), preloadUnacked.stream()),
                        work.usedKeys().stream()).mapToLong(k -> rangeOf(ranges, k).pending().size()).sum();
            }
        } catch (IOException e) {
            log(op.label + ": no ring from the proxy at START: " + e);
        }
        return s;
    }

    /** Until {@code done} holds at the proxy; the FINISH time is that of the first epoch seen where it held. */
    private void awaitFinish(OpRecord op, Predicate<Snap> done) throws InterruptedException {
        long left = opTimeout.toMillis() - (work.now() - op.triggeredAt) / 1000;
        Snap s;
        try {
            s = awaitTopology(op.label + ": its FINISH", Duration.ofMillis(Math.max(left, 1000)), done);
        } catch (StuckException e) {
            throw new StuckException(e.getMessage() + "\n" + tryAbort(op));
        }
        for (Snap seen : snaps) {
            if (seen.at() >= op.startSeenAt && done.test(seen)) {
                s = seen;
                break;
            }
        }
        op.finishSeenAt = s.at();
        op.finishEpoch = s.epoch();
        log(String.format(Locale.ROOT, "%s: FINISH at epoch %d, %d ms after it was triggered (%d ms from START)",
                op.label, s.epoch(), op.totalMs(), op.startToFinishMs()));
    }

    /** A stuck operation: what aborting it does (reported; the test fails either way). */
    private String tryAbort(OpRecord op) throws InterruptedException {
        StringBuilder b = new StringBuilder("STUCK: " + op.label + "; the proxy holds " + latest);
        for (LocalCluster.Node n : cluster.launched()) {
            if (!n.proxy && n.isUp()) {
                b.append("\n--- ").append(n.name).append(" log tail:\n").append(n.process().tail(25));
            }
        }
        for (LocalCluster.Node n : targets) {
            if (n.proxy || !n.isUp()) {
                continue;
            }
            try {
                HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + n.httpPort
                        + "/v1/cluster/operation/abort")).timeout(Duration.ofSeconds(30))
                        .POST(HttpRequest.BodyPublishers.noBody()).build(), HttpResponse.BodyHandlers.ofString());
                b.append("\nabort through ").append(n.name).append(": ").append(r.statusCode()).append(' ').append(r.body());
                if (r.statusCode() == 202) {
                    try {
                        Snap s = awaitTopology("the aborted operation is gone", Duration.ofSeconds(30), x -> x.op() == null);
                        b.append("\nafter the abort: ").append(s);
                    } catch (StuckException e) {
                        b.append("\nthe abort did not unblock it: ").append(latest);
                    }
                    break;
                }
            } catch (IOException e) {
                b.append("\nabort through ").append(n.name).append(": ").append(e);
            }
        }
        log(b.toString());
        return b.toString();
    }

    // ---------------------------------------------------------------------------------------- nemesis

    /**
     * Once per scripted operation, on its own thread: at a random point after its START (uniform in
     * [0, {@code topojepsen.kill-delay-max-ms})), SIGKILL a random participant of the operation then in
     * progress ({@code phaseOf}; its START participants if it is over by then) — its joiner or leaver, its
     * driver, its receivers, the old replicas of the ranges it moves (the stream sources are among them),
     * the register's electorate — and restart it on the same data directory 1–3 s later.
     */
    private Thread nemesis(String scripted, Random random, OpRecord first, int delayMaxMs, Function<Snap, OpRecord> phaseOf) {
        scriptedOps++;
        long delay = random.nextInt(Math.max(1, delayMaxMs));
        long hold = 1000 + random.nextInt(2000);
        Thread t = new Thread(() -> {
            try {
                strike(scripted, delay, hold, random, phaseOf, first);
            } catch (Throwable e) {
                nemesisError = e;
            }
        }, "topojepsen-nemesis");
        activeNemesis = t;
        t.start();
        return t;
    }

    private void strike(String scripted, long delay, long hold, Random random, Function<Snap, OpRecord> phaseOf,
                        OpRecord first) throws Exception {
        long deadline = System.nanoTime() + opTimeout.toNanos();
        while (first.startSeenAt < 0) { // the script sees it START
            if (System.nanoTime() > deadline) {
                log(scripted + ": the nemesis never saw " + first.label + " start");
                return;
            }
            Thread.sleep(20);
        }
        Thread.sleep(Math.max(0, delay - (work.now() - first.startSeenAt) / 1000));
        Snap now = latest;
        OpRecord phase = phaseOf.apply(now);
        boolean during = phase != null && now.runs(phase.kind, phase.node);
        OpRecord op = during ? phase : first;
        Map<String, Set<String>> roles = participants(during ? now : op.startSnap, op);
        List<String> candidates = new ArrayList<>(roles.keySet());
        if (candidates.isEmpty()) {
            log(scripted + ": the nemesis found no running participant");
            return;
        }
        String victimName = candidates.get(random.nextInt(candidates.size()));
        LocalCluster.Node victim = cluster.node(victimName);
        long killAt = work.now();
        log(String.format(Locale.ROOT, "%s: nemesis kill -9 %s %s pid %d, %d ms after %s's START was seen%s "
                        + "(participants %s)", scripted, victimName, roles.get(victimName), victim.process().pid(),
                (killAt - first.startSeenAt) / 1000, first.label, during ? " (in " + op.label + ")"
                        : ", no operation of it in progress", roles));
        cluster.kill9(victim);
        Down down = down(victimName);
        Thread.sleep(hold);
        cluster.relaunch(victim, seedsOf(victim));
        noteLog(victim);
        long backMs = awaitBack(victim);
        down.to = work.now() + DOWN_GRACE_MS * 1000;
        op.kill = victimName + " " + roles.get(victimName) + " at +" + (killAt - first.startSeenAt) / 1000 + " ms"
                + (during ? "" : " (no operation of it in progress)") + ", down " + (down.to - killAt) / 1000 + " ms";
        op.killDuring = during;
        op.joinerRestarted |= victimName.equals(op.node) && op.kind.equals("JOIN");
        kills.add(scripted + ": " + op.kill);
        killsDuring += during ? 1 : 0;
        log(scripted + ": " + victimName + " restarted and seen reachable by every coordinator " + backMs + " ms after "
                + "its relaunch");
    }

    private void joinNemesis(Thread nemesis) throws InterruptedException {
        nemesis.join(TimeUnit.SECONDS.toMillis(180));
        if (nemesis.isAlive()) {
            throw new StuckException("the nemesis did not finish within 180 s");
        }
        if (nemesisError != null) {
            throw new AssertionError("the nemesis failed", nemesisError);
        }
    }

    private Map<String, Set<String>> participants(Snap s, OpRecord op) {
        Map<String, Set<String>> roles = new TreeMap<>();
        if (s.op() != null) {
            if (op.kind.equals("JOIN")) {
                role(roles, s.op().node(), "joiner");
            } else if (op.kind.equals("LEAVE")) {
                role(roles, s.op().node(), "leaver (stream source)");
            }
            role(roles, s.op().driver(), "driver");
            s.op().receivers().forEach(r -> role(roles, r, "receiver"));
        }
        s.electorate().forEach(e -> role(roles, e, "electorate"));
        s.electorateNext().forEach(e -> role(roles, e, "electorate"));
        try {
            JsonNode ring = JSON.readTree(get(cluster.proxy(), "/v1/cluster/ring").body());
            for (JsonNode range : ring.path("ranges")) {
                if (range.path("pending").size() > 0) {
                    range.path("replicas").forEach(r -> role(roles, r.asText(), "old replica of a moving range"));
                }
            }
        } catch (Exception e) {
            log("no ring from the proxy for the nemesis: " + e);
        }
        roles.keySet().removeIf(name -> {
            LocalCluster.Node n = cluster.node(name);
            return !n.isUp() || departed.containsKey(name) || (op.kind.equals("REMOVE") && name.equals(op.node));
        });
        return roles;
    }

    private static void role(Map<String, Set<String>> roles, String name, String role) {
        roles.computeIfAbsent(name, k -> new TreeSet<>()).add(role);
    }

    /** Until the restarted node answers with a topology and every coordinator the clients use sees it reachable. */
    private long awaitBack(LocalCluster.Node n) throws InterruptedException {
        long start = System.nanoTime();
        Await.until(n.name + " answers with a topology after its restart", Duration.ofSeconds(90),
                () -> get(n, "/v1/cluster/topology").statusCode() == 200, () -> n.process().tail(30));
        try {
            Await.until("every coordinator sees " + n.name + " reachable", Duration.ofSeconds(20), () -> {
                for (LocalCluster.Node o : targets) {
                    if (o != n && o.isUp() && !ClusterView.of(o.process()).member(n.name)
                            .map(ClusterView.Member::reachable).orElse(false)) {
                        return false;
                    }
                }
                return true;
            }, () -> "");
        } catch (AssertionError e) {
            log("not every coordinator sees " + n.name + " reachable 20 s after its restart");
        }
        return elapsedMs(start);
    }

    private Down down(String who) {
        Down d = new Down(who, work.now());
        downs.add(d);
        return d;
    }

    // ---------------------------------------------------------------------------------------- observer

    /** Polls the proxy's topology every 100 ms; keeps the latest and every epoch seen. */
    private void observe() {
        Snap prev = null;
        while (observing) {
            try {
                HttpResponse<String> r = get(cluster.proxy(), "/v1/cluster/topology");
                if (r.statusCode() == 200) {
                    Snap s = parse(work.now(), JSON.readTree(r.body()));
                    if (prev == null || s.epoch() != prev.epoch() || !Objects.equals(s.op(), prev.op())) {
                        snaps.add(s);
                        if (prev != null) {
                            log("the proxy holds " + s);
                        }
                    }
                    latest = s;
                    prev = s;
                }
            } catch (IOException e) {
                // not answering right now: keep the last
            } catch (InterruptedException e) {
                return;
            }
            try {
                Thread.sleep(100);
            } catch (InterruptedException e) {
                return;
            }
        }
    }

    private static Snap parse(long at, JsonNode t) {
        Map<String, String> status = new TreeMap<>();
        Map<String, String> host = new TreeMap<>();
        for (JsonNode w : t.path("workers")) {
            status.put(w.path("name").asText(), w.path("status").asText());
            host.put(w.path("name").asText(), w.path("hostId").asText());
        }
        JsonNode o = t.get("operation");
        OpView op = null;
        if (o != null && !o.isNull()) {
            List<String> receivers = new ArrayList<>();
            o.path("receivers").forEach(r -> receivers.add(r.asText()));
            op = new OpView(o.path("kind").asText(), o.path("node").asText(), o.path("driver").asText(), List.copyOf(receivers));
        }
        List<String> electorate = new ArrayList<>();
        t.path("electorate").path("current").forEach(e -> electorate.add(e.asText()));
        List<String> next = new ArrayList<>();
        t.path("electorate").path("next").forEach(e -> next.add(e.asText()));
        Set<String> gone = new TreeSet<>();
        t.path("departedHostIds").forEach(h -> gone.add(h.asText()));
        return new Snap(at, t.path("epoch").asLong(), status, host, op, electorate, next, gone);
    }

    private Snap awaitTopology(String what, Duration timeout, Predicate<Snap> p) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (true) {
            Snap s = latest;
            if (s != null && p.test(s)) {
                return s;
            }
            if (System.nanoTime() > deadline) {
                throw new StuckException("not within " + timeout + ": " + what + "; the proxy holds " + s);
            }
            Thread.sleep(50);
        }
    }

    /** The topology once no operation runs, the electorate is settled, and the epoch held still for 3 s. */
    private Snap awaitStableTopology(Set<String> members) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        Snap seen = null;
        long since = System.nanoTime();
        while (System.nanoTime() < deadline) {
            Snap s = latest;
            boolean settled = s.settledOn(members) && s.electorateNext().isEmpty()
                    && s.electorate().size() == Math.min(3, members.size());
            if (!settled || seen == null || s.epoch() != seen.epoch()) {
                seen = settled ? s : null;
                since = System.nanoTime();
            } else if (System.nanoTime() - since > TimeUnit.SECONDS.toNanos(3)) {
                return s;
            }
            Thread.sleep(100);
        }
        throw new StuckException("the topology did not settle on " + members + " within 60 s: " + latest);
    }

    // ---------------------------------------------------------------------------------------- preload, read-back

    private String preloadValue(int i) {
        return "pv" + i + "-" + Long.toUnsignedString(seed, 36);
    }

    /**
     * {@value #WARM_UP_KEYS} more preload keys written and read at QUORUM through each worker, before the
     * recorded load: the preload warmed the proxy's coordinator and the workers' replicas, but not the
     * workers' coordinators, whose first requests take over a second on this box (measured: a create's
     * prepare got no quorum within the 1 s phase time-out, 503, with every worker up).
     */
    private void warmUp(List<LocalCluster.Node> workers) throws Exception {
        ExecutorService pool = Executors.newFixedThreadPool(workers.size());
        try {
            List<Future<?>> done = new ArrayList<>();
            for (LocalCluster.Node n : workers) {
                done.add(pool.submit(() -> {
                    for (int i = 0; i < WARM_UP_KEYS; i++) {
                        String key = "warm-" + n.name + "-" + i;
                        writeOnce(n, key, "wv" + i + "-" + Long.toUnsignedString(seed, 36));
                        readBack(n, key);
                    }
                    return null;
                }));
            }
            for (Future<?> f : done) {
                f.get(5, TimeUnit.MINUTES);
            }
        } finally {
            pool.shutdownNow();
        }
    }

    /** One key written at QUORUM through {@code via}; 503, 504 and no answer are retried (same value) for 30 s. */
    private void writeOnce(LocalCluster.Node via, String key, String value) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        boolean acked = false;
        while (!acked && System.nanoTime() < deadline) {
            try {
                acked = KvClient.put(http, via.process(), key, value, "QUORUM", REQUEST_TIMEOUT).statusCode() == 204;
            } catch (IOException e) {
                // retried with the same value
            }
            if (!acked) {
                Thread.sleep(100);
            }
        }
        if (acked) {
            preloadAcked.put(key, value);
        } else {
            preloadUnacked.add(key);
        }
    }

    /** Writes every preload key once at QUORUM through the proxy; 503, 504 and no answer are retried (same value). */
    private void preload(LocalCluster.Node proxy) throws Exception {
        ExecutorService pool = Executors.newFixedThreadPool(PRELOAD_THREADS);
        try {
            List<Future<?>> done = new ArrayList<>();
            for (int t = 0; t < PRELOAD_THREADS; t++) {
                int thread = t;
                done.add(pool.submit(() -> {
                    for (int i = thread; i < preloadKeys; i += PRELOAD_THREADS) {
                        writeOnce(proxy, "pre-" + i, preloadValue(i));
                    }
                    return null;
                }));
            }
            for (Future<?> f : done) {
                f.get(10, TimeUnit.MINUTES);
            }
        } finally {
            pool.shutdownNow();
        }
    }

    static final class ReadBack {
        int reads;
        final List<String> wrong = Collections.synchronizedList(new ArrayList<>());
        final List<String> noVerdict = Collections.synchronizedList(new ArrayList<>());
    }

    /** Every acknowledged preload key at QUORUM through every reader: its value, or it is counted wrong. */
    private ReadBack readBackPreload(List<LocalCluster.Node> readers) throws Exception {
        ReadBack out = new ReadBack();
        List<String> keys = new ArrayList<>(new TreeSet<>(preloadAcked.keySet()));
        ExecutorService pool = Executors.newFixedThreadPool(READBACK_THREADS);
        AtomicInteger reads = new AtomicInteger();
        try {
            List<Future<?>> done = new ArrayList<>();
            for (int t = 0; t < READBACK_THREADS; t++) {
                int thread = t;
                done.add(pool.submit(() -> {
                    for (int i = thread; i < keys.size(); i += READBACK_THREADS) {
                        String key = keys.get(i);
                        String value = preloadAcked.get(key);
                        for (LocalCluster.Node n : readers) {
                            reads.incrementAndGet();
                            String got = readBack(n, key);
                            if (got == null) {
                                out.noVerdict.add(n.name + " " + key);
                            } else if (!got.equals("200 " + value)) {
                                out.wrong.add(n.name + " " + key + ": " + got + " instead of " + value);
                            }
                        }
                    }
                    return null;
                }));
            }
            for (Future<?> f : done) {
                f.get(10, TimeUnit.MINUTES);
            }
        } finally {
            pool.shutdownNow();
        }
        out.reads = reads.get();
        return out;
    }

    /** {@code "<status> <body>"} of a QUORUM read; 503, 504 and no answer retried for up to 20 s (then null). */
    private String readBack(LocalCluster.Node n, String key) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        while (System.nanoTime() < deadline) {
            try {
                HttpResponse<String> r = KvClient.get(http, n.process(), key, "QUORUM", REQUEST_TIMEOUT);
                if (r.statusCode() != 503 && r.statusCode() != 504) {
                    return r.statusCode() + " " + r.body();
                }
            } catch (IOException e) {
                // no verdict: again
            }
            Thread.sleep(100);
        }
        return null;
    }

    /**
     * The value each live node read last for each hot key must be one a linearization can end with: that
     * of a write (or absent, for a delete) that succeeded or may have, and was not over before the last
     * successful write began (and absent only if none succeeded, or after a delete). Independent of the
     * checker, and much weaker: it is the "last acknowledged write reads back" rule for keys written
     * concurrently.
     */
    private List<String> checkFinalValues(Map<String, Map<String, String>> finals, List<Operation> ops) {
        Map<String, List<Operation>> byKey = new HashMap<>();
        for (Operation o : ops) {
            if (!(o.op() instanceof Op.Read)) {
                byKey.computeIfAbsent(o.key(), k -> new ArrayList<>()).add(o);
            }
        }
        List<String> wrong = new ArrayList<>();
        for (Map.Entry<String, Map<String, String>> e : finals.entrySet()) {
            List<Operation> writes = byKey.getOrDefault(e.getKey(), List.of()).stream()
                    .filter(o -> o.outcome() == Operation.Outcome.OK || o.outcome() == Operation.Outcome.INDETERMINATE)
                    .toList();
            long lastOkInvoke = writes.stream().filter(o -> o.outcome() == Operation.Outcome.OK)
                    .mapToLong(Operation::invoke).max().orElse(Long.MIN_VALUE);
            Set<String> allowed = new TreeSet<>();
            if (lastOkInvoke == Long.MIN_VALUE) {
                allowed.add("absent");
            }
            for (Operation o : writes) {
                if (o.response() > lastOkInvoke) {
                    allowed.add(valueOf(o.op()));
                }
            }
            Set<String> seen = new TreeSet<>();
            for (Map.Entry<String, String> read : e.getValue().entrySet()) {
                String got = read.getValue();
                if (got == null) {
                    continue; // counted as unanswered
                }
                seen.add(got);
                String value = got.equals("absent") ? got : got.substring(0, got.lastIndexOf('@'));
                if (!allowed.contains(value)) {
                    wrong.add(e.getKey() + " through " + read.getKey() + ": " + got + ", allowed " + allowed);
                }
            }
            if (seen.size() > 1) {
                wrong.add(e.getKey() + ": the live nodes disagree after the load stopped: " + e.getValue());
            }
        }
        return wrong;
    }

    private static String valueOf(Op op) {
        if (op instanceof Op.Write w) {
            return w.value();
        } else if (op instanceof Op.Cas c) {
            return c.value();
        } else if (op instanceof Op.CreateIfAbsent c) {
            return c.value();
        }
        return "absent";
    }

    // ---------------------------------------------------------------------------------------- cleanup

    private long awaitCleanup(List<LocalCluster.Node> live, long finalEpoch, LocalCluster.Node decommissioned)
            throws InterruptedException {
        long start = System.nanoTime();
        Await.until("every live worker holds epoch " + finalEpoch + " and cleaned up at it", Duration.ofSeconds(60), () -> {
            for (LocalCluster.Node n : live) {
                if (NodeProbe.metric(n.process(), "nimbus_topology_epoch") != finalEpoch
                        || NodeProbe.metric(n.process(), "nimbus_cleanup_epoch") != finalEpoch) {
                    return false;
                }
            }
            long left = departed.getOrDefault(decommissioned.name, Long.MAX_VALUE);
            return !decommissioned.isUp() || NodeProbe.metric(decommissioned.process(), "nimbus_cleanup_epoch") >= left;
        }, () -> cleanupFigures(live) + "; " + cleanupFigures(List.of(decommissioned)));
        return elapsedMs(start);
    }

    private static String cleanupFigures(List<LocalCluster.Node> nodes) {
        StringBuilder b = new StringBuilder();
        for (LocalCluster.Node n : nodes) {
            try {
                b.append(n.name).append(" epoch ").append((long) NodeProbe.metric(n.process(), "nimbus_topology_epoch"))
                        .append(" cleanup epoch ").append((long) NodeProbe.metric(n.process(), "nimbus_cleanup_epoch"))
                        .append(" kept ").append((long) NodeProbe.metric(n.process(), "nimbus_cleanup_rows_kept"))
                        .append(" removed ").append((long) NodeProbe.metric(n.process(), "nimbus_cleanup_rows_removed_total"))
                        .append("; ");
            } catch (Exception | AssertionError e) {
                b.append(n.name).append(' ').append(e.getMessage()).append("; ");
            }
        }
        return b.toString();
    }

    record RingRange(long end, List<String> replicas, List<String> pending) {
    }

    /** The ranges of a {@code /v1/cluster/ring} answer, by end token (start exclusive, end inclusive, wrapping). */
    private static List<RingRange> ranges(JsonNode ring) {
        List<RingRange> out = new ArrayList<>();
        for (JsonNode r : ring.path("ranges")) {
            List<String> replicas = new ArrayList<>();
            r.path("replicas").forEach(x -> replicas.add(x.asText()));
            List<String> pending = new ArrayList<>();
            r.path("pending").forEach(x -> pending.add(x.asText()));
            out.add(new RingRange(Long.parseLong(r.path("end").asText()), replicas, pending));
        }
        out.sort(Comparator.comparingLong(RingRange::end));
        return out;
    }

    private static RingRange rangeOf(List<RingRange> ranges, String key) {
        long token = Murmur3.hash64(key.getBytes(StandardCharsets.UTF_8));
        int lo = 0;
        int hi = ranges.size();
        while (lo < hi) { // the first range whose end is >= token
            int mid = (lo + hi) >>> 1;
            if (ranges.get(mid).end() < token) {
                lo = mid + 1;
            } else {
                hi = mid;
            }
        }
        return ranges.get(lo == ranges.size() ? 0 : lo);
    }


    /**
     * While the load runs, after an operation (its nemesis restart included): once the proxy shows no
     * operation and every member worker holds the proxy's epoch and has cleaned up at it, compares each
     * one's rows kept with the ring of that epoch ({@link #compareKept}); the decommissioned worker, once
     * it cleaned up at its departure epoch or later, must keep none. Retried (bounded) while epochs move.
     */
    private void cleanupCheckpoint(String when) throws Exception {
        List<LocalCluster.Node> live = targets.stream().filter(n -> !n.proxy).sorted(Comparator.comparing(n -> n.name))
                .toList();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        String last = "";
        while (System.nanoTime() < deadline) {
            Snap s = latest;
            Map<LocalCluster.Node, Long> kept = new LinkedHashMap<>();
            boolean cleaned = s.op() == null;
            for (LocalCluster.Node n : live) {
                if (!cleaned) {
                    break;
                }
                cleaned = NodeProbe.metric(n.process(), "nimbus_topology_epoch") == s.epoch()
                        && NodeProbe.metric(n.process(), "nimbus_cleanup_epoch") == s.epoch();
                kept.put(n, (long) NodeProbe.metric(n.process(), "nimbus_cleanup_rows_kept"));
            }
            if (cleaned) { // the same epoch still, on every one of them, after the rows were read
                for (LocalCluster.Node n : live) {
                    cleaned &= NodeProbe.metric(n.process(), "nimbus_cleanup_epoch") == s.epoch();
                }
                JsonNode ring = JSON.readTree(get(live.get(0), "/v1/cluster/ring").body());
                if (cleaned && ring.path("epoch").asLong() == s.epoch()) {
                    compareKept(when, s.epoch(), kept, ranges(ring), work.usedKeys());
                    checkDecommissioned(when);
                    return;
                }
            }
            last = "the proxy holds " + s + "; " + cleanupFigures(live);
            Thread.sleep(200);
        }
        cleanupFailures.add(when + ": the live workers did not all clean up at one epoch within 30 s: " + last);
    }

    /**
     * Each live worker keeps between the acknowledged preload keys it replicates at {@code epoch} and that
     * plus the unacknowledged preload keys and the hot keys it replicates. The lower bound is exact: each
     * preload key was written at QUORUM while all three replicas were up, so each of them received its
     * Paxos messages and holds a row, and every later copy (stream, range sync) moves whole rows. A hot key
     * may have no row on one of its replicas (its operations ran while that one was down or before it
     * held the range, and range sync copies committed values only), hence the tolerance of at most one
     * row per hot key. A row of a key the worker does not replicate counts against the upper bound.
     */
    private void compareKept(String when, long epoch, Map<LocalCluster.Node, Long> keptByNode, List<RingRange> ranges,
                             List<String> hotKeys) {
        List<String> figures = new ArrayList<>();
        for (Map.Entry<LocalCluster.Node, Long> e : keptByNode.entrySet()) {
            String name = e.getKey().name;
            long kept = e.getValue();
            long acked = preloadAcked.keySet().stream().filter(k -> rangeOf(ranges, k).replicas().contains(name)).count();
            long maybe = Stream.concat(preloadUnacked.stream(), hotKeys.stream())
                    .filter(k -> rangeOf(ranges, k).replicas().contains(name)).count();
            String line = String.format(Locale.ROOT, "%s kept %d = %d preload keys it replicates (%.1f%%) %s %d "
                            + "(allowed: 0 to +%d hot or unacknowledged keys)", name, kept, acked,
                    100.0 * acked / Math.max(1, preloadAcked.size()), kept >= acked ? "+" : "-", Math.abs(kept - acked), maybe);
            figures.add(line);
            if (kept < acked || kept > acked + maybe) {
                cleanupFailures.add(when + " (epoch " + epoch + "): " + line);
            }
        }
        cleanupLines.add(when + ", epoch " + epoch + ": " + String.join("; ", figures));
        log("cleanup " + when + ", epoch " + epoch + ": " + String.join("; ", figures));
    }

    /** The decommissioned worker, once it cleaned up at its departure epoch or later, keeps no row. */
    private void checkDecommissioned(String when) throws Exception {
        for (Map.Entry<String, Long> d : departed.entrySet()) {
            LocalCluster.Node n = cluster.node(d.getKey());
            if (!n.isUp()) {
                continue;
            }
            String[] figures = {""};
            try {
                Await.until(n.name + " cleaned up at its departure epoch " + d.getValue(), Duration.ofSeconds(30), () -> {
                    figures[0] = cleanupFigures(List.of(n));
                    return NodeProbe.metric(n.process(), "nimbus_cleanup_epoch") >= d.getValue();
                }, () -> figures[0]);
            } catch (AssertionError e) {
                cleanupFailures.add(when + ": " + n.name + " did not clean up after it departed: " + figures[0]);
                continue;
            }
            long kept = (long) NodeProbe.metric(n.process(), "nimbus_cleanup_rows_kept");
            cleanupLines.add(when + ": " + n.name + " (departed at epoch " + d.getValue() + ", still running): " + figures[0]);
            if (kept != 0) {
                cleanupFailures.add(when + ": " + n.name + " departed but keeps rows: " + figures[0]);
            }
        }
    }

    /**
     * After the final cleanup: the ring computation against {@code /v1/cluster/locate} for a sample of keys,
     * every live worker's rows ({@link #compareKept}), the decommissioned worker's (none); then the removed
     * worker is started again on its old store: it must stay out (not ready) and drop every row.
     */
    private void checkCleanup(List<LocalCluster.Node> live, long finalEpoch, LocalCluster.Node removed,
                              List<String> hotKeys) throws Exception {
        Map<LocalCluster.Node, Long> kept = new LinkedHashMap<>();
        for (LocalCluster.Node n : live) {
            kept.put(n, (long) NodeProbe.metric(n.process(), "nimbus_cleanup_rows_kept"));
        }
        JsonNode ring = JSON.readTree(get(live.get(0), "/v1/cluster/ring").body());
        if (ring.path("epoch").asLong() != finalEpoch) {
            cleanupFailures.add("the ring of " + live.get(0).name + " is of epoch " + ring.path("epoch").asLong() + ", not "
                    + finalEpoch);
            return;
        }
        List<RingRange> ranges = ranges(ring);
        List<String> sample = new ArrayList<>(new TreeSet<>(preloadAcked.keySet()));
        Collections.shuffle(sample, new Random(seed));
        sample = new ArrayList<>(sample.subList(0, Math.min(100, sample.size())));
        sample.addAll(hotKeys);
        int mismatches = 0;
        for (String key : sample) {
            LocalCluster.Node via = live.get(Math.floorMod(key.hashCode(), live.size()));
            JsonNode loc = JSON.readTree(get(via, "/v1/cluster/locate/" + key).body());
            Set<String> located = new TreeSet<>();
            loc.path("replicas").forEach(r -> located.add(r.asText()));
            Set<String> computed = new TreeSet<>(rangeOf(ranges, key).replicas());
            if (!located.equals(computed) || loc.path("pending").size() > 0 || loc.path("epoch").asLong() != finalEpoch) {
                mismatches++;
                if (mismatches <= 5) {
                    cleanupFailures.add("locate " + key + " on " + via.name + ": " + loc + ", the ring says " + computed);
                }
            }
        }
        cleanupLines.add("replica sets computed from the ring of epoch " + finalEpoch + " match /v1/cluster/locate for "
                + (sample.size() - mismatches) + " of " + sample.size() + " keys");
        compareKept("at the end", finalEpoch, kept, ranges, hotKeys);
        for (LocalCluster.Node n : live) {
            cleanupLines.add("at the end: " + cleanupFigures(List.of(n)));
        }
        checkDecommissioned("at the end");
        if (restartRemoved) {
            log("start the removed " + removed.name + " again on its old store: it must stay out and drop every row");
            cluster.relaunch(removed, seedsOf(removed));
            noteLog(removed);
            String[] figures = {""};
            try {
                Await.until(removed.name + " cleaned up at epoch " + finalEpoch, Duration.ofSeconds(60), () -> {
                    figures[0] = cleanupFigures(List.of(removed));
                    return NodeProbe.metric(removed.process(), "nimbus_cleanup_epoch") >= finalEpoch;
                }, () -> figures[0]);
                long keptRows = (long) NodeProbe.metric(removed.process(), "nimbus_cleanup_rows_kept");
                int ready = NodeProbe.readyStatus(removed.process());
                String line = removed.name + " (removed, started again on its old store): " + cleanupFigures(List.of(removed))
                        + "readiness " + ready;
                cleanupLines.add("at the end: " + line);
                if (keptRows != 0 || ready == 200) {
                    cleanupFailures.add("the removed worker, started again, " + (keptRows != 0 ? "keeps rows" : "says it is ready")
                            + ": " + line);
                }
            } catch (AssertionError e) {
                cleanupFailures.add("the removed worker, started again, did not clean up: "
                        + e.getMessage().lines().findFirst().orElse("") + " " + figures[0]);
            }
        }
    }

    // ---------------------------------------------------------------------------------------- figures

    /** At a join's FINISH: the rows streamed into the joiner against the keys its new replica sets give it. */
    private void streamedIntoJoiner(OpRecord op, LocalCluster.Node joiner) {
        try {
            op.joinerRows = NodeProbe.metric(joiner.process(), "nimbus_stream_rows_total");
            op.joinerBytes = NodeProbe.metric(joiner.process(), "nimbus_stream_bytes_total");
            JsonNode ring = JSON.readTree(get(cluster.proxy(), "/v1/cluster/ring").body());
            List<RingRange> ranges = ranges(ring);
            long preloadMine = Stream.concat(preloadAcked.keySet().stream(), preloadUnacked.stream())
                    .filter(k -> rangeOf(ranges, k).replicas().contains(joiner.name)).count();
            long hotMine = work.usedKeys().stream().filter(k -> rangeOf(ranges, k).replicas().contains(joiner.name)).count();
            op.share = (double) preloadMine / Math.max(1, preloadAcked.size() + preloadUnacked.size());
            op.expectedRows = preloadMine + hotMine;
            log(String.format(Locale.ROOT, "%s: %.0f rows (%.0f bytes) streamed into %s%s; its replica share at epoch %d "
                            + "is %.3f: %d keys (%d preload, %d hot)", op.label, op.joinerRows, op.joinerBytes, joiner.name,
                    op.joinerRestarted ? " since its restart" : "", ring.path("epoch").asLong(), op.share, op.expectedRows,
                    preloadMine, hotMine));
        } catch (Exception | AssertionError e) {
            log(op.label + ": no stream figures: " + e);
        }
    }

    private static final Pattern STREAM_DONE = Pattern.compile("stream for epoch (\\d+) done: (\\d+) rows in (\\d+) ms");

    private String opFigures() {
        // rows each receiver logged as copied, by the START epoch of the copy
        Map<Long, Map<String, Long>> copied = new TreeMap<>();
        logsOf.forEach((name, files) -> {
            for (Path f : files) {
                try {
                    Matcher m = STREAM_DONE.matcher(Files.readString(f, StandardCharsets.UTF_8));
                    while (m.find()) {
                        copied.computeIfAbsent(Long.parseLong(m.group(1)), e -> new TreeMap<>())
                                .merge(name + " (" + m.group(3) + " ms)", Long.parseLong(m.group(2)), Long::sum);
                    }
                } catch (IOException e) {
                    // a log that cannot be read: no figures from it
                }
            }
        });
        StringBuilder b = new StringBuilder("operations:");
        for (OpRecord o : opRecords) {
            b.append(String.format(Locale.ROOT, "%n  %-45s epochs %d->%d, %6d ms from trigger to FINISH (%6d ms START->FINISH), "
                            + "driver %s, receivers %s; kill: %s", o.label, o.startEpoch, o.finishEpoch, o.totalMs(),
                    o.startToFinishMs(), o.driver, o.receivers, o.kill));
            if (o.kind.equals("JOIN") && o.expectedRows >= 0) {
                b.append(String.format(Locale.ROOT, "%n  %-45s rows streamed into the joiner %.0f (%.0f bytes)%s vs %d keys it "
                                + "replicates (share %.3f): ratio %.2f", "", o.joinerRows, o.joinerBytes,
                        o.joinerRestarted ? " since its restart" : "", o.expectedRows, o.share,
                        o.joinerRows / Math.max(1, o.expectedRows)));
            }
            Map<String, Long> rows = copied.get(o.startEpoch);
            if (rows != null || o.planRows >= 0) {
                long sum = rows == null ? 0 : rows.values().stream().mapToLong(Long::longValue).sum();
                b.append(String.format(Locale.ROOT, "%n  %-45s rows the plan moves (a row per key and pending replica) %d; "
                        + "rows the receivers logged as copied %d %s", "", o.planRows, sum, rows == null ? "{}" : rows));
            }
        }
        return b.toString();
    }

    /**
     * Writes whose outcome the client cannot know: 504 (the coordinator says outcome-unknown), client
     * time-outs, and connection errors (nearly all to a node the nemesis had just killed: nothing was sent,
     * but the client records them as unknown, as JepsenIT does); during the scripted operations (from the
     * trigger to the FINISH seen), outside them while some worker was down or restarting, and with every
     * member up.
     */
    private String outcomeUnknownFigures() {
        long[][] c = new long[3][5]; // [during, outside with one down, outside all up][writes, 504 outcome-unknown, 504 timed-out, time-outs, connection errors]
        for (JepsenClients.Answer a : answers) {
            if (!a.isWrite()) {
                continue;
            }
            boolean in = false;
            for (OpRecord o : opRecords) {
                long end = o.finishSeenAt < 0 ? Long.MAX_VALUE : o.finishSeenAt;
                in |= a.invoke() >= o.triggeredAt && a.invoke() <= end;
            }
            boolean down = downs.stream().anyMatch(d -> d.from <= a.end() && d.to >= a.invoke());
            long[] x = c[in ? 0 : down ? 1 : 2];
            x[0]++;
            if (a.status() == 504) {
                x["outcome-unknown".equals(a.problemType()) ? 1 : 2]++;
            } else if (a.status() == -1 && "HttpTimeoutException".equals(a.error())) {
                x[3]++;
            } else if (a.status() == -1) {
                x[4]++;
            }
        }
        StringBuilder b = new StringBuilder("writes the client recorded as of unknown outcome (504 outcome-unknown / "
                + "504 timed-out / client time-out / connection error):");
        String[] names = {"during operations", "outside, a worker down", "outside, all up"};
        for (int i = 0; i < 3; i++) {
            b.append(String.format(Locale.ROOT, " %s %.1f%% / %.1f%% / %.1f%% / %.1f%% of %d;", names[i],
                    pct(c[i][1], c[i][0]), pct(c[i][2], c[i][0]), pct(c[i][3], c[i][0]), pct(c[i][4], c[i][0]), c[i][0]));
        }
        return b.toString();
    }

    private static double pct(long part, long whole) {
        return whole == 0 ? 0 : 100.0 * part / whole;
    }

    /**
     * Every 503 with its class. Judged (a violation): at most one worker identity was down at any moment
     * between the request's invocation and its answer (a killed or stopped worker counts as down from its
     * kill until every coordinator sees it reachable again, plus {@value #DOWN_GRACE_MS} ms; a removed one
     * until its removal is seen finished), the request does not overlap the window of a removal or of the
     * replacement, and it was not answered by the down worker itself. Not judged: 2+ workers down; those
     * windows (a removal's joint quorum needs both other old replicas, and the replacement passes through
     * two workers at RF 2); a 503 from the asked node while it was itself the one restarting (measured: a
     * worker's first requests after its restart, holding the epoch it had before the kill, got no answer to
     * a prepare within the 1 s phase time-out, not even from its own store); {@code node-not-ready} from
     * a node after its decommission started.
     */
    private int classify503s(List<String> lines, Map<String, Integer> byClass) {
        int violations = 0;
        List<JepsenClients.Answer> all = new ArrayList<>();
        for (JepsenClients.Answer a : answers) {
            if (a.status() == 503) {
                all.add(a);
            }
        }
        all.sort(Comparator.comparingLong(JepsenClients.Answer::invoke));
        for (JepsenClients.Answer a : all) {
            List<String> downNow = new ArrayList<>();
            int maxDown = maxDown(a.invoke(), a.end(), downNow);
            List<String> inWindows = new ArrayList<>();
            for (Window w : windows) {
                if (w.from() <= a.end() && w.to() >= a.invoke()) {
                    inWindows.add(w.what());
                }
            }
            boolean askedRestarting = downNow.contains(a.node());
            boolean askedLeaving = "node-not-ready".equals(a.problemType())
                    && leavingSince.getOrDefault(a.node(), Long.MAX_VALUE) <= a.end();
            String cls;
            if (askedRestarting || askedLeaving) {
                cls = askedRestarting ? "the asked node itself was restarting" : "the asked node was leaving";
            } else if (maxDown >= 2) {
                cls = "2+ workers down";
            } else if (!inWindows.isEmpty()) {
                cls = "removal/replacement window";
            } else {
                cls = "VIOLATION (" + maxDown + " down)";
                violations++;
            }
            byClass.merge(cls.startsWith("VIOLATION") ? "VIOLATION" : cls, 1, Integer::sum);
            lines.add(String.format(Locale.ROOT, "%9.3f-%9.3f s %-8s %s via %s: 503 %s [%s] down %s%s; the proxy held %s%s",
                    a.invoke() / 1e6, a.end() / 1e6, a.client(), a.op(), a.node(), a.problemType(), cls, downNow,
                    inWindows.isEmpty() ? "" : " in " + inWindows, snapAt(a.invoke()),
                    cls.startsWith("VIOLATION") ? ": " + a.detail() : ""));
        }
        return violations;
    }

    /** The most worker identities down at once within [from, to]; {@code names} gets every one down in it. */
    private int maxDown(long from, long to, List<String> names) {
        List<Down> overlapping = downs.stream().filter(d -> d.from <= to && d.to >= from).toList();
        overlapping.forEach(d -> names.add(d.who.split(" ")[0]));
        int max = 0;
        List<Long> points = new ArrayList<>();
        points.add(from);
        overlapping.forEach(d -> points.add(Math.max(d.from, from)));
        for (long p : points) {
            int n = 0;
            for (Down d : overlapping) {
                if (d.from <= p && d.to >= p) {
                    n++;
                }
            }
            max = Math.max(max, n);
        }
        return max;
    }

    private String snapAt(long t) {
        Snap found = null;
        for (Snap s : snaps) {
            if (s.at() <= t) {
                found = s;
            }
        }
        return found == null ? "?" : "epoch " + found.epoch() + (found.op() == null ? "" : " " + found.op().kind() + "("
                + found.op().node() + ")");
    }

    // ---------------------------------------------------------------------------------------- small things

    /**
     * Every other worker's cluster address as seeds, for a node started after the cluster formed: its one
     * configured seed, the first worker, may be dead or gone by then (and the first worker has none).
     */
    private String seedsOf(LocalCluster.Node n) {
        return "nimbus.cluster.seeds=" + cluster.workers().stream().filter(w -> w != n)
                .map(w -> w.address + ":" + w.clusterPort).collect(Collectors.joining(","));
    }

    private void noteLog(LocalCluster.Node n) {
        logsOf.computeIfAbsent(n.name, k -> new CopyOnWriteArrayList<>()).add(n.process().logFile());
    }

    private HttpResponse<String> get(LocalCluster.Node n, String path) throws IOException, InterruptedException {
        return http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + n.httpPort + path))
                .timeout(Duration.ofSeconds(2)).GET().build(), HttpResponse.BodyHandlers.ofString());
    }

    private void log(String what) {
        String line = String.format(Locale.ROOT, "%8.3f s %s", work.seconds(), what);
        scriptLog.add(line);
        System.out.println("[topojepsen] " + line);
    }

    private static long elapsedMs(long since) {
        return TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - since);
    }
}
