package io.nimbus.it;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * Replication across three worker JVMs (replication factor 3, fast gossip): concurrent QUORUM clients
 * write, compare-and-set and read their own keys through all three nodes; one worker is killed with
 * {@code kill -9} mid-load. The survivors must keep acknowledging QUORUM writes; while the dead worker
 * is marked unreachable, {@code ALL} must fail fast with 503 {@code not-enough-replicas}. The worker is
 * restarted on its data directory and ports; then every key must read the same at QUORUM from every
 * node, equal to its last acknowledged write (or to a later write whose outcome was unknown), the
 * restarted replica must hold that value itself after the QUORUM reads (read repair; checked with a
 * {@code ONE} read served by its own replica), and {@code ALL} must work again.
 *
 * <p>Every key has exactly one writer thread and that thread has one request in flight, so "last
 * acknowledged" is well defined per key; writes answered 504 {@code outcome-unknown} or cut by a
 * connection error may or may not have applied, and writes the node declared not applied (503, 504
 * {@code timed-out}, 412) must never show up.
 */
class ReplicationIT {
    private static final String INTERVAL = "200ms";
    private static final String FAILURE_TIMEOUT = "1s";
    private static final int NODES = 3;
    private static final int VICTIM = 1; // index of the worker that is killed
    private static final int THREADS = 8;
    private static final int KEYS_PER_THREAD = 25; // 200 keys
    private static final int MAX_OPS_PER_THREAD = 20_000;
    private static final Duration CONVERGE = Duration.ofSeconds(60);
    /** Load runs at least this long before the kill, and until MIN_ACKED_BEFORE_KILL writes were acknowledged. */
    private static final Duration LOAD_BEFORE_KILL = Duration.ofSeconds(4);
    private static final Duration LOAD_BEFORE_KILL_MAX = Duration.ofSeconds(12);
    /** Load keeps running this long after the survivors marked the victim unreachable (and the ALL probes). */
    private static final Duration LOAD_AFTER_DETECTION = Duration.ofSeconds(3);
    /** ... and until more than MIN_ACKED_AFTER_KILL writes sent after the kill were acknowledged, at most this long. */
    private static final Duration LOAD_AFTER_DETECTION_MAX = Duration.ofSeconds(10);
    private static final Duration DETECTION_TIMEOUT = Duration.ofSeconds(15);
    private static final Duration CLIENTS_STOP_TIMEOUT = Duration.ofSeconds(30);
    private static final Duration REQUEST_TIMEOUT = Duration.ofSeconds(8); // above write-timeout-ms (5 s)
    private static final int MIN_ACKED_BEFORE_KILL = 100;
    private static final int MIN_ACKED_AFTER_KILL = 50;
    private static final long ALL_FAILS_FAST_MS = 1000;
    private static final String PROBLEM = "urn:nimbus:problem:";
    private static final Pattern VALUE = Pattern.compile("t(\\d+)-k(\\d+)-v(\\d+)");
    private static final ObjectMapper JSON = new ObjectMapper();

    private final List<NodeProcess> started = new ArrayList<>(); // every process, for clean-up
    private final NodeProcess[] nodes = new NodeProcess[NODES];
    private final String[] ids = new String[NODES];
    private final Path[] dirs = new Path[NODES];
    private final int[] clusterPorts = new int[NODES];

    // shared with the client threads
    private volatile boolean stop;
    private volatile boolean victimDown;
    private volatile long killStartNanos = Long.MAX_VALUE;
    private volatile long killedNanos = Long.MAX_VALUE;
    private final AtomicInteger ackedBeforeKill = new AtomicInteger();
    private final AtomicInteger ackedAroundKill = new AtomicInteger();
    private final AtomicInteger ackedAfterKill = new AtomicInteger();
    private final AtomicInteger ackedCas = new AtomicInteger();
    private final AtomicInteger reads = new AtomicInteger();
    private volatile long loadStartNanos;
    /** Acknowledged writes per second of load, to show warm-up and the dip at the kill. */
    private final java.util.concurrent.atomic.AtomicIntegerArray ackedPerSecond = new java.util.concurrent.atomic.AtomicIntegerArray(60);
    private final java.util.concurrent.atomic.AtomicLong ackedLatencyBeforeNanos = new java.util.concurrent.atomic.AtomicLong();
    private final java.util.concurrent.atomic.AtomicLong ackedLatencyAfterNanos = new java.util.concurrent.atomic.AtomicLong();
    private final AtomicInteger unknownOutcomes = new AtomicInteger();
    private final AtomicInteger notWrittenWrites = new AtomicInteger();
    /** "PUT 504 outcome-unknown (after kill)" → count: every non-success answer, by kind and time. */
    private final Map<String, AtomicInteger> answers = new ConcurrentHashMap<>();
    /** Answers that break the contract (500, no problem body, a wrong value read, a connection error from a survivor ...). */
    private final ConcurrentLinkedQueue<String> violations = new ConcurrentLinkedQueue<>();
    private final ConcurrentLinkedQueue<String> errorSamples = new ConcurrentLinkedQueue<>();

    @AfterEach
    void killNodes() {
        stop = true;
        NodeProcess.closeAll(started);
    }

    /** What one key may hold; owned by its one writer thread (then by the test thread after the load). */
    private static final class KeyModel {
        final String key;
        String acked; // last acknowledged (or read back at QUORUM) value; null: none
        String ackedEtag;
        final List<String> unknownAfter = new ArrayList<>(); // outcome unknown, sent after `acked`
        final List<String> unknownBefore = new ArrayList<>(); // outcome unknown, superseded by a later acknowledged write
        final Set<String> notWritten = new HashSet<>(); // the node said: nothing was written
        boolean resync; // read it before the next compare-and-set
        boolean writtenAfterKill;

        KeyModel(String key) {
            this.key = key;
        }

        /** Null if {@code found} (null: 404) is a value this key may hold now, else what is wrong with it. */
        String judge(String found, String etag) {
            if (found == null) {
                return acked == null ? null : "MISSING (404) although " + acked + " was acknowledged";
            }
            if (found.equals(acked)) {
                return etag != null && etag.equals(ackedEtag) ? null
                        : "the acknowledged value with ETag " + etag + " instead of " + ackedEtag;
            }
            if (unknownAfter.contains(found)) {
                return null;
            }
            if (unknownBefore.contains(found)) {
                return "RESURFACED: an outcome-unknown write older than the last acknowledged one";
            }
            if (notWritten.contains(found)) {
                return "a write the node answered as NOT WRITTEN";
            }
            if (acked != null && number(found) < number(acked)) {
                return "OLDER than the last acknowledged value";
            }
            return "NEVER WRITTEN by its writer";
        }

        /** After a QUORUM read saw {@code found} (chosen by Paxos): it is the latest known state. */
        void adopt(String found, String etag) {
            int i = found == null ? -1 : unknownAfter.indexOf(found);
            if (i >= 0) {
                unknownBefore.addAll(unknownAfter.subList(0, i + 1));
                unknownAfter.subList(0, i + 1).clear();
                unknownBefore.remove(found);
            }
            acked = found;
            ackedEtag = etag;
        }

        void acknowledged(String value, String etag) {
            unknownBefore.addAll(unknownAfter);
            unknownAfter.clear();
            acked = value;
            ackedEtag = etag;
        }

        String describe() {
            return "last acked " + acked + " " + ackedEtag + ", unknown-outcome after it " + unknownAfter
                    + ", unknown-outcome before it " + unknownBefore.size() + ", not-written " + notWritten.size()
                    + ", written after the kill: " + writtenAfterKill;
        }
    }

    private static final class Client {
        final int id;
        final KeyModel[] keys = new KeyModel[KEYS_PER_THREAD];
        long nextValue;
        int ops;

        Client(int id) {
            this.id = id;
            for (int k = 0; k < KEYS_PER_THREAD; k++) {
                keys[k] = new KeyModel("t" + id + "-k" + k);
            }
        }
    }

    /** One read's result: status (200/404), value, ETag. */
    private record Read(int status, String value, String etag) {
        boolean sameAs(Read o) {
            return status == o.status && java.util.Objects.equals(value, o.value) && java.util.Objects.equals(etag, o.etag);
        }

        @Override
        public String toString() {
            return status == 404 ? "404" : status == 200 ? value + " " + etag : "HTTP " + status + " " + value;
        }
    }

    @Test
    void quorumSurvivesAKilledReplicaAllFailsFastAndTheRestartedReplicaIsRepaired() throws Exception {
        // 1. Three workers, each seeded with the other two; wait for full membership and a ring of three.
        for (int i = 0; i < NODES; i++) {
            ids[i] = "rep" + (i + 1);
            dirs[i] = NodeProcess.newDataDir("replication-" + ids[i]);
            clusterPorts[i] = NodeProcess.freePort();
        }
        Set<String> everyone = new TreeSet<>(List.of(ids));
        long t0 = System.nanoTime();
        for (int i = 0; i < NODES; i++) {
            nodes[i] = track(NodeProcess.start("replication-" + ids[i], dirs[i], args(i)));
        }
        for (NodeProcess n : nodes) {
            n.awaitReady(CONVERGE);
        }
        long convergeMs = awaitFullCluster(everyone, -1);
        System.out.printf("[it] %d workers up and converged (3 reachable members, ring of 3, RF 3) %d ms after start%n",
                NODES, TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0));

        // 2. Concurrent QUORUM clients over all three nodes, each on its own keys.
        List<Client> clients = new ArrayList<>();
        for (int t = 0; t < THREADS; t++) {
            clients.add(new Client(t));
        }
        ExecutorService pool = Executors.newFixedThreadPool(THREADS);
        long loadStart = System.nanoTime();
        loadStartNanos = loadStart;
        long detectMs;
        long allWriteMs;
        long allReadMs;
        long loadMs;
        try {
            List<Future<?>> running = new ArrayList<>();
            for (Client c : clients) {
                running.add(pool.submit(() -> {
                    runClient(c);
                    return null;
                }));
            }
            Thread.sleep(LOAD_BEFORE_KILL.toMillis()); // JVMs warm up during the first seconds (JIT)
            while (ackedBeforeKill.get() < MIN_ACKED_BEFORE_KILL
                    && System.nanoTime() - loadStart < LOAD_BEFORE_KILL_MAX.toNanos()) {
                Thread.sleep(50);
            }

            // 3. kill -9 one worker mid-load.
            NodeProcess victim = nodes[VICTIM];
            killStartNanos = System.nanoTime();
            int exit = victim.killHard();
            victimDown = true;
            killedNanos = System.nanoTime();
            int before = ackedBeforeKill.get();
            System.out.printf("[it] kill -9 of %s (pid %d) after %d ms of load, exit %d; %d writes acknowledged "
                    + "before the kill%n", victim, victim.pid(), TimeUnit.NANOSECONDS.toMillis(killStartNanos - loadStart),
                    exit, before);
            assertTrue(before >= MIN_ACKED_BEFORE_KILL, "only " + before + " QUORUM writes were acknowledged in "
                    + LOAD_BEFORE_KILL_MAX + " before the kill; the cluster is too slow for this test to mean anything. "
                    + "Errors: " + answers + "\n" + samples());

            // 4. Once the survivors see it unreachable, ALL fails fast with 503 not-enough-replicas.
            Await.until("both survivors mark " + ids[VICTIM] + " unreachable", DETECTION_TIMEOUT, () -> {
                for (int i = 0; i < NODES; i++) {
                    if (i != VICTIM && ClusterView.of(nodes[i]).member(ids[VICTIM]).map(m -> m.reachable()).orElse(true)) {
                        return false;
                    }
                }
                return true;
            }, this::views);
            detectMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - killedNanos);
            System.out.printf("[it] both survivors marked %s unreachable %d ms after the kill%n", ids[VICTIM], detectMs);
            long[] allTimes = probeAllWhileDown(clients.get(0).keys[0].key);
            allWriteMs = allTimes[0];
            allReadMs = allTimes[1];

            long detected = System.nanoTime();
            while ((System.nanoTime() - detected < LOAD_AFTER_DETECTION.toNanos()
                    || ackedAfterKill.get() <= MIN_ACKED_AFTER_KILL)
                    && System.nanoTime() - detected < LOAD_AFTER_DETECTION_MAX.toNanos()
                    && running.stream().anyMatch(f -> !f.isDone())) {
                Thread.sleep(50);
            }
            stop = true;
            loadMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - loadStart);
            pool.shutdown();
            if (!pool.awaitTermination(CLIENTS_STOP_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS)) {
                fail("client threads did not stop within " + CLIENTS_STOP_TIMEOUT + "\n" + samples());
            }
            for (Future<?> f : running) {
                f.get(1, TimeUnit.SECONDS); // surfaces an exception thrown by a client
            }
        } finally {
            stop = true;
            pool.shutdownNow();
        }

        int ops = clients.stream().mapToInt(c -> c.ops).sum();
        System.out.printf("[it] load: %d ms, %d operations; QUORUM writes acknowledged: %d before the kill, %d in "
                        + "flight across it, %d sent after it (%d of all were compare-and-set); %d QUORUM reads; "
                        + "%d writes with unknown outcome; %d writes answered as not written%n", loadMs, ops,
                ackedBeforeKill.get(), ackedAroundKill.get(), ackedAfterKill.get(), ackedCas.get(), reads.get(),
                unknownOutcomes.get(), notWrittenWrites.get());
        List<Integer> perSecond = new ArrayList<>();
        for (int s = 0; s <= Math.min(ackedPerSecond.length() - 1, loadMs / 1000); s++) {
            perSecond.add(ackedPerSecond.get(s));
        }
        System.out.printf("[it] acknowledged writes per second of load (kill at second %d): %s; mean latency of an "
                        + "acknowledged QUORUM write %.1f ms before the kill, %.1f ms after%n",
                TimeUnit.NANOSECONDS.toSeconds(killStartNanos - loadStart), perSecond,
                ackedLatencyBeforeNanos.get() / 1e6 / Math.max(1, ackedBeforeKill.get()),
                ackedLatencyAfterNanos.get() / 1e6 / Math.max(1, ackedAfterKill.get()));
        System.out.printf("[it] non-success answers: %s%n%s%n", new TreeMap<>(answers), samples());
        assertTrue(violations.isEmpty(), violations.size() + " contract violations during the load:\n  "
                + head(new ArrayList<>(violations)) + "\nanswers: " + new TreeMap<>(answers));
        assertTrue(ackedAfterKill.get() > MIN_ACKED_AFTER_KILL, "only " + ackedAfterKill.get()
                + " QUORUM writes sent after the kill were acknowledged by the two survivors (need > "
                + MIN_ACKED_AFTER_KILL + "); answers: " + new TreeMap<>(answers) + "\n" + samples());

        // 5. Restart the victim on its data directory and ports; wait until everyone sees everyone.
        long oldGeneration = ClusterView.of(nodes[0]).member(ids[VICTIM]).orElseThrow().generation();
        long restartAt = System.nanoTime();
        nodes[VICTIM] = track(NodeProcess.startOnPort("replication-" + ids[VICTIM] + "-restarted", dirs[VICTIM],
                nodes[VICTIM].port(), args(VICTIM)));
        nodes[VICTIM].awaitReady(CONVERGE);
        awaitFullCluster(everyone, oldGeneration);
        long rejoinMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - restartAt);
        System.out.printf("[it] %s restarted on the same data directory and ports; all 3 see all 3 reachable %d ms "
                + "after the restart%n", ids[VICTIM], rejoinMs);
        NodeProcess restarted = nodes[VICTIM];

        List<KeyModel> keys = new ArrayList<>();
        clients.forEach(c -> keys.addAll(List.of(c.keys)));
        HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
                .connectTimeout(Duration.ofSeconds(2)).build();

        // The restarted replica's own state before any repair (ONE reads are served by its own replica).
        Map<String, Read> oneBefore = new TreeMap<>();
        for (KeyModel k : keys) {
            oneBefore.put(k.key, read(http, restarted, k.key, "ONE"));
        }

        // 6. Every key reads the same at QUORUM from every node, and it is an allowed value.
        List<String> quorumViolations = new ArrayList<>();
        Map<String, Read> quorum = new TreeMap<>();
        int onAcked = 0;
        int onUnknown = 0;
        int absent = 0;
        long verifyStart = System.nanoTime();
        for (KeyModel k : keys) {
            Read[] seen = new Read[NODES];
            for (int i = 0; i < NODES; i++) {
                seen[i] = read(http, nodes[i], k.key, "QUORUM");
            }
            quorum.put(k.key, seen[0]);
            boolean agree = true;
            for (int i = 0; i < NODES; i++) {
                if (seen[i].status() != 200 && seen[i].status() != 404) {
                    quorumViolations.add(k.key + ": QUORUM read from " + ids[i] + " answered " + seen[i]);
                    agree = false;
                } else if (!seen[i].sameAs(seen[0])) {
                    agree = false;
                }
            }
            if (!agree) {
                quorumViolations.add(k.key + ": nodes disagree at QUORUM: " + ids[0] + "=" + seen[0] + ", " + ids[1] + "="
                        + seen[1] + ", " + ids[2] + "=" + seen[2] + "; " + k.describe());
                continue;
            }
            String why = k.judge(seen[0].value(), seen[0].etag());
            if (why != null) {
                quorumViolations.add(k.key + ": " + why + ": read " + seen[0] + " on all nodes; " + k.describe());
            } else if (seen[0].value() == null) {
                absent++;
            } else if (seen[0].value().equals(k.acked)) {
                onAcked++;
            } else {
                onUnknown++;
            }
        }
        long verifyMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - verifyStart);
        System.out.printf("[it] QUORUM reads of %d keys from all %d nodes (%d ms): %d on the last acknowledged value, "
                        + "%d on a later outcome-unknown write, %d absent (never acknowledged), %d violations%n",
                keys.size(), NODES, verifyMs, onAcked, onUnknown, absent, quorumViolations.size());

        // 7. The restarted replica converged: its own state (ONE from it) equals the QUORUM value for every key.
        Thread.sleep(200); // read repairs are sent without waiting for them; give the last ones a moment
        int staleBefore = 0;
        List<String> notRepaired = new ArrayList<>();
        List<String> notRepairedKeys = new ArrayList<>();
        for (KeyModel k : keys) {
            Read q = quorum.get(k.key);
            if (!oneBefore.get(k.key).sameAs(q)) {
                staleBefore++;
            }
            Read one = read(http, restarted, k.key, "ONE");
            if (!one.sameAs(q)) {
                notRepaired.add(k.key + ": QUORUM " + q + ", restarted replica " + one + " (before the QUORUM reads "
                        + oneBefore.get(k.key) + "); ONE on " + ids[0] + "=" + read(http, nodes[0], k.key, "ONE")
                        + ", " + ids[2] + "=" + read(http, nodes[2], k.key, "ONE") + "; written after the kill: "
                        + k.writtenAfterKill);
                notRepairedKeys.add(k.key);
            }
        }
        int[] othersStale = new int[NODES];
        for (int i = 0; i < NODES; i++) {
            if (i != VICTIM) {
                for (KeyModel k : keys) {
                    if (!read(http, nodes[i], k.key, "ONE").sameAs(quorum.get(k.key))) {
                        othersStale[i]++;
                    }
                }
            }
        }
        System.out.printf("[it] restarted replica %s: %d of %d keys stale right after the restart (ONE), %d still "
                        + "stale after the QUORUM reads; survivors stale at ONE after the QUORUM reads: %s=%d, %s=%d%n",
                ids[VICTIM], staleBefore, keys.size(), notRepaired.size(), ids[0], othersStale[0], ids[2],
                othersStale[2]);
        if (!notRepairedKeys.isEmpty()) {
            // Diagnosis only (the assertion below is on the state above): do more QUORUM reads coordinated by the
            // restarted node itself repair it? A read repairs only the replicas among the first quorum of promises.
            List<String> retries = new ArrayList<>();
            for (String key : notRepairedKeys) {
                int attempts = 0;
                boolean repaired = false;
                while (!repaired && attempts < 10) {
                    attempts++;
                    read(http, restarted, key, "QUORUM");
                    Thread.sleep(50);
                    repaired = read(http, restarted, key, "ONE").sameAs(quorum.get(key));
                }
                retries.add(key + (repaired ? " repaired after " + attempts + " more QUORUM read(s) from "
                        + ids[VICTIM] : " still stale after 10 more QUORUM reads from " + ids[VICTIM]));
            }
            System.out.printf("[it] diagnosis of the %d keys left stale on %s: %s%n", notRepairedKeys.size(),
                    ids[VICTIM], retries);
        }

        // 8. ALL works again; the ALL writes refused while the victim was down wrote nothing.
        long[] allAgain = probeAllAfterRestart(http);

        System.out.printf("[it] ReplicationIT summary: converged in %d ms; acked QUORUM writes %d before kill / %d "
                        + "across / %d after; %d unknown-outcome, %d not-written; kill detected by survivors in %d ms; "
                        + "ALL while down: write 503 in %d ms, read 503 in %d ms; rejoin %d ms; restarted replica stale "
                        + "keys %d -> %d after QUORUM reads; ALL after restart: write %d ms, read %d ms%n", convergeMs,
                ackedBeforeKill.get(), ackedAroundKill.get(), ackedAfterKill.get(), unknownOutcomes.get(),
                notWrittenWrites.get(), detectMs, allWriteMs, allReadMs, rejoinMs, staleBefore, notRepaired.size(),
                allAgain[0], allAgain[1]);

        // The writes' commits were not waited for: they rode in the frames of later requests to the same replica,
        // or went in frames of their own after nimbus.paxos.commit-linger-ms. Both ways must have carried some
        // (that they arrive is PeerGuardsIT's last check: here the restarted replica's range sync also repairs).
        double withRequest = 0;
        double ownFrame = 0;
        for (NodeProcess n : nodes) {
            String metrics = n.fetch("/q/metrics");
            withRequest += counter(metrics, "nimbus_paxos_commits_sent_total", "carried=\"with-request\"");
            ownFrame += counter(metrics, "nimbus_paxos_commits_sent_total", "carried=\"own-frame\"");
        }
        System.out.printf("[it] commits sent without waiting: %.0f in the frames of other requests, %.0f in frames of "
                + "their own%n", withRequest, ownFrame);
        assertTrue(withRequest > 0 && ownFrame > 0, "commits rode with requests: " + withRequest + ", in their own "
                + "frames: " + ownFrame);

        assertTrue(quorumViolations.isEmpty(), quorumViolations.size() + " of " + keys.size() + " keys do not read "
                + "their last acknowledged value (or a later outcome-unknown one) at QUORUM on every node:\n  "
                + head(quorumViolations));
        assertTrue(staleBefore > 0, "the restarted replica was not behind on any key, so its repair was not tested "
                + "(were there writes after the kill? " + ackedAfterKill.get() + ")");
        assertTrue(notRepaired.isEmpty(), notRepaired.size() + " of " + keys.size() + " keys are still stale on the "
                + "restarted replica " + ids[VICTIM] + " after QUORUM reads of every key from every node (" + staleBefore
                + " were stale before them):\n  " + head(notRepaired));
    }

    /** The value of a Prometheus counter series whose labels include {@code label} (0 if there is none). */
    private static double counter(String metrics, String name, String label) {
        double sum = 0;
        for (String line : metrics.split("\n")) {
            if (line.startsWith(name + "{") && line.contains(label)) {
                sum += Double.parseDouble(line.substring(line.lastIndexOf(' ') + 1));
            }
        }
        return sum;
    }

    // ---- load ------------------------------------------------------------------------------------

    /** One client: random own keys, one request at a time, spread over the nodes; ~65% PUT, ~20% CAS, ~15% GET. */
    private void runClient(Client c) {
        HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
                .connectTimeout(Duration.ofSeconds(2)).build();
        Random rnd = new Random(c.id);
        while (!stop && c.ops < MAX_OPS_PER_THREAD) {
            c.ops++;
            int n = (c.id + c.ops) % NODES;
            if (victimDown && n == VICTIM) {
                n = (n + 1) % NODES;
            }
            NodeProcess node = nodes[n];
            KeyModel k = c.keys[rnd.nextInt(KEYS_PER_THREAD)];
            int roll = rnd.nextInt(100);
            try {
                if (k.resync || roll < 15) {
                    readDuringLoad(http, node, n, k);
                } else {
                    boolean cas = roll < 35 && k.ackedEtag != null && k.unknownAfter.isEmpty();
                    write(http, node, n, c, k, cas);
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
        }
    }

    private void write(HttpClient http, NodeProcess node, int n, Client c, KeyModel k, boolean cas)
            throws InterruptedException {
        String value = k.key + "-v" + c.nextValue++;
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(node.kvUri(k.key) + "?consistency=QUORUM"))
                .timeout(REQUEST_TIMEOUT).PUT(HttpRequest.BodyPublishers.ofString(value, StandardCharsets.UTF_8));
        if (cas) {
            b.header("If-Match", k.ackedEtag);
        }
        String op = cas ? "CAS" : "PUT";
        long sent = System.nanoTime();
        if (sent >= killStartNanos) {
            k.writtenAfterKill = true;
        }
        HttpResponse<String> r;
        try {
            r = http.send(b.build(), HttpResponse.BodyHandlers.ofString());
        } catch (IOException e) {
            k.unknownAfter.add(value);
            unknownOutcomes.incrementAndGet();
            note(op + " connection error", sent, ids[n], k.key + " = " + value + ": " + e);
            if (n != VICTIM) {
                violations.add(op + " " + k.key + " to surviving node " + ids[n] + ": " + e + " (" + when(sent) + ")");
            }
            return;
        }
        int status = r.statusCode();
        if (status == 204 && r.headers().firstValue("ETag").isPresent()) {
            k.acknowledged(value, r.headers().firstValue("ETag").get());
            AtomicInteger counter;
            if (System.nanoTime() < killStartNanos) {
                counter = ackedBeforeKill; // sent and acknowledged before the kill
            } else if (sent >= killedNanos) {
                counter = ackedAfterKill; // sent after the victim was dead
            } else {
                counter = ackedAroundKill;
            }
            counter.incrementAndGet();
            long now = System.nanoTime();
            if (counter == ackedBeforeKill) {
                ackedLatencyBeforeNanos.addAndGet(now - sent);
            } else if (counter == ackedAfterKill) {
                ackedLatencyAfterNanos.addAndGet(now - sent);
            }
            int second = (int) TimeUnit.NANOSECONDS.toSeconds(now - loadStartNanos);
            if (second < ackedPerSecond.length()) {
                ackedPerSecond.incrementAndGet(second);
            }
            if (cas) {
                ackedCas.incrementAndGet();
            }
            return;
        }
        String type = problemType(r);
        note(op + " " + status + " " + type, sent, ids[n], k.key + " = " + value + ": " + r.body());
        if (status == 412 && cas) {
            // One writer per key and no write of unknown outcome since the ETag was acknowledged: it must match.
            k.notWritten.add(value);
            notWrittenWrites.incrementAndGet();
            k.resync = true;
            violations.add(op + " " + k.key + " If-Match " + k.ackedEtag + " (its last acknowledged write, none "
                    + "since) refused with 412 by " + ids[n] + ", current ETag " + r.headers().firstValue("ETag")
                    .orElse("-") + ": " + r.body());
        } else if ((status == 503 && (type.equals("not-enough-replicas") || type.equals("replicas-unavailable")))
                || (status == 504 && type.equals("timed-out"))) {
            k.notWritten.add(value);
            notWrittenWrites.incrementAndGet();
        } else if (status == 504 && type.equals("outcome-unknown")) {
            k.unknownAfter.add(value);
            unknownOutcomes.incrementAndGet();
        } else {
            k.unknownAfter.add(value);
            unknownOutcomes.incrementAndGet();
            violations.add(op + " " + k.key + " on " + ids[n] + " answered " + status + " " + type + " ("
                    + when(sent) + "): " + r.body());
        }
    }

    private void readDuringLoad(HttpClient http, NodeProcess node, int n, KeyModel k) throws InterruptedException {
        long sent = System.nanoTime();
        HttpResponse<String> r;
        try {
            r = http.send(HttpRequest.newBuilder(URI.create(node.kvUri(k.key) + "?consistency=QUORUM"))
                    .timeout(REQUEST_TIMEOUT).GET().build(), HttpResponse.BodyHandlers.ofString());
        } catch (IOException e) {
            note("GET connection error", sent, ids[n], k.key + ": " + e);
            if (n != VICTIM) {
                violations.add("GET " + k.key + " from surviving node " + ids[n] + ": " + e + " (" + when(sent) + ")");
            }
            return;
        }
        int status = r.statusCode();
        if (status == 200 || status == 404) {
            reads.incrementAndGet();
            String found = status == 200 ? r.body() : null;
            String etag = status == 200 ? r.headers().firstValue("ETag").orElse(null) : null;
            String why = k.judge(found, etag);
            if (why != null) {
                violations.add("GET " + k.key + " at QUORUM from " + ids[n] + " (" + when(sent) + "): " + why + ": read "
                        + (found == null ? "404" : found + " " + etag) + "; " + k.describe());
            }
            k.adopt(found, etag);
            k.resync = false;
            return;
        }
        String type = problemType(r);
        note("GET " + status + " " + type, sent, ids[n], k.key + ": " + r.body());
        if (!((status == 503 || status == 504) && !type.startsWith("<"))) {
            violations.add("GET " + k.key + " from " + ids[n] + " answered " + status + " " + type + " (" + when(sent)
                    + "): " + r.body());
        }
    }

    /** The problem type's last segment, or a {@code <...>} description if the body is not an RFC 9457 problem. */
    private static String problemType(HttpResponse<String> r) {
        String ct = r.headers().firstValue("Content-Type").orElse("");
        if (!ct.startsWith("application/problem+json")) {
            return "<not a problem: Content-Type " + ct + ">";
        }
        try {
            JsonNode p = JSON.readTree(r.body());
            String type = p.path("type").asText("");
            if (!type.startsWith(PROBLEM) || p.path("status").asInt() != r.statusCode() || p.path("detail").asText("")
                    .isBlank()) {
                return "<malformed problem>";
            }
            return type.substring(PROBLEM.length());
        } catch (IOException e) {
            return "<problem body not JSON>";
        }
    }

    private void note(String kind, long sent, String node, String sample) {
        long done = System.nanoTime();
        String phase = done < killStartNanos ? "before kill" : sent < killedNanos ? "across kill" : "after kill";
        answers.computeIfAbsent(kind + " (" + phase + ")", x -> new AtomicInteger()).incrementAndGet();
        if (errorSamples.size() < 30) {
            errorSamples.add(kind + " from " + node + " (" + when(sent) + "): " + sample);
        }
    }

    private String when(long sent) {
        long kill = killStartNanos;
        return kill == Long.MAX_VALUE ? "sent before the kill"
                : "sent " + TimeUnit.NANOSECONDS.toMillis(sent - kill) + " ms from the kill";
    }

    private String samples() {
        return errorSamples.isEmpty() ? "(no error samples)" : "error samples:\n  " + head(new ArrayList<>(errorSamples));
    }

    // ---- ALL -------------------------------------------------------------------------------------

    /** While the victim is down: ALL writes and reads fail fast, 503 not-enough-replicas; returns {write ms, read ms}. */
    private long[] probeAllWhileDown(String loadedKey) throws Exception {
        HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
                .connectTimeout(Duration.ofSeconds(2)).build();
        long worstWrite = 0;
        long worstRead = 0;
        for (int i = 0; i < NODES; i++) {
            if (i == VICTIM) {
                continue;
            }
            NodeProcess node = nodes[i];
            String key = "all-probe-" + ids[i];
            JsonNode where = JSON.readTree(node.fetch("/v1/cluster/locate/" + key));
            assertTrue(where.get("replicas").toString().contains("\"" + ids[VICTIM] + "\""), key + " should have "
                    + ids[VICTIM] + " among its replicas (RF 3 on 3 workers): " + where);

            long t = System.nanoTime();
            HttpResponse<String> w = http.send(HttpRequest.newBuilder(URI.create(node.kvUri(key) + "?consistency=ALL"))
                    .timeout(REQUEST_TIMEOUT).PUT(HttpRequest.BodyPublishers.ofString("must-not-be-written")).build(),
                    HttpResponse.BodyHandlers.ofString());
            long writeMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t);
            checkNotEnoughReplicas("PUT " + key + "?consistency=ALL on " + ids[i], w, writeMs);

            t = System.nanoTime();
            HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create(node.kvUri(loadedKey)
                    + "?consistency=ALL")).timeout(REQUEST_TIMEOUT).GET().build(), HttpResponse.BodyHandlers.ofString());
            long readMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t);
            checkNotEnoughReplicas("GET " + loadedKey + "?consistency=ALL on " + ids[i], r, readMs);
            System.out.printf("[it] while %s is down, %s answers ALL with 503 not-enough-replicas: write in %d ms, read "
                    + "in %d ms; detail: %s%n", ids[VICTIM], ids[i], writeMs, readMs, JSON.readTree(w.body()).get("detail"));
            worstWrite = Math.max(worstWrite, writeMs);
            worstRead = Math.max(worstRead, readMs);
        }
        return new long[] {worstWrite, worstRead};
    }

    private void checkNotEnoughReplicas(String what, HttpResponse<String> r, long ms) throws IOException {
        assertEquals(503, r.statusCode(), what + " while " + ids[VICTIM] + " is down: " + r.body());
        assertEquals("not-enough-replicas", problemType(r), what + ": " + r.body());
        String detail = JSON.readTree(r.body()).get("detail").asText();
        assertTrue(detail.contains("ALL needs 3 replica(s), 2 reachable"), what + ": the detail should name needed "
                + "(3) and reachable (2) replicas: " + detail);
        assertTrue(detail.contains(ids[VICTIM]), what + ": the detail should name the unreachable replica: " + detail);
        assertTrue(ms < ALL_FAILS_FAST_MS, what + " took " + ms + " ms; it should fail fast (< " + ALL_FAILS_FAST_MS
                + " ms) from gossip's reachability, without trying the replicas");
    }

    /** After the restart: ALL writes and reads succeed on every node; the refused ALL writes wrote nothing. */
    private long[] probeAllAfterRestart(HttpClient http) throws Exception {
        long worstWrite = 0;
        long worstRead = 0;
        for (int i = 0; i < NODES; i++) {
            if (i != VICTIM) {
                Read refused = read(http, nodes[i], "all-probe-" + ids[i], "QUORUM");
                assertEquals(404, refused.status(), "the ALL write refused with 503 while " + ids[VICTIM]
                        + " was down must not have been written: " + refused);
            }
            String key = "all-after-restart-" + ids[i];
            String value = "all-ok-" + ids[i];
            long t = System.nanoTime();
            HttpResponse<String> w = http.send(HttpRequest.newBuilder(URI.create(nodes[i].kvUri(key)
                    + "?consistency=ALL")).timeout(REQUEST_TIMEOUT).PUT(HttpRequest.BodyPublishers.ofString(value))
                    .build(), HttpResponse.BodyHandlers.ofString());
            worstWrite = Math.max(worstWrite, TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t));
            assertEquals(204, w.statusCode(), "PUT " + key + "?consistency=ALL on " + ids[i] + " after the restart: "
                    + w.body());
            String etag = w.headers().firstValue("ETag").orElseThrow();
            for (int j = 0; j < NODES; j++) {
                t = System.nanoTime();
                Read r = read(http, nodes[j], key, "ALL");
                worstRead = Math.max(worstRead, TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t));
                assertEquals(new Read(200, value, etag), r, "GET " + key + "?consistency=ALL on " + ids[j]
                        + " after the restart");
            }
        }
        System.out.printf("[it] after the restart ALL works on every node: writes <= %d ms, reads <= %d ms%n",
                worstWrite, worstRead);
        return new long[] {worstWrite, worstRead};
    }

    // ---- helpers ---------------------------------------------------------------------------------

    private static Read read(HttpClient http, NodeProcess node, String key, String level)
            throws IOException, InterruptedException {
        HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create(node.kvUri(key) + "?consistency=" + level))
                .timeout(REQUEST_TIMEOUT).GET().build(), HttpResponse.BodyHandlers.ofString());
        return switch (r.statusCode()) {
            case 200 -> new Read(200, r.body(), r.headers().firstValue("ETag").orElse(null));
            case 404 -> new Read(404, null, null);
            default -> new Read(r.statusCode(), r.body(), null);
        };
    }

    /**
     * Waits until every node lists all of {@code everyone} reachable, has a ring of that many workers
     * with replication factor 3, and (if {@code victimGenerationAbove >= 0}) sees the victim with a
     * higher generation. Returns the milliseconds it took.
     */
    private long awaitFullCluster(Set<String> everyone, long victimGenerationAbove) throws InterruptedException {
        return Await.until("all nodes see " + everyone + " reachable and a ring of " + NODES + " workers with RF 3",
                CONVERGE, () -> {
                    for (NodeProcess n : nodes) {
                        if (!n.isAlive()) {
                            throw new AssertionError(n + " died; log " + n.logFile() + ":\n" + n.tail(40));
                        }
                        ClusterView v = ClusterView.of(n);
                        if (!v.isExactlyReachable(everyone)) {
                            return false;
                        }
                        if (victimGenerationAbove >= 0 && v.member(ids[VICTIM]).orElseThrow().generation()
                                <= victimGenerationAbove) {
                            return false;
                        }
                        JsonNode ring = JSON.readTree(n.fetch("/v1/cluster/ring"));
                        if (ring.get("workers").size() != NODES || ring.get("replicationFactor").asInt() != 3) {
                            return false;
                        }
                    }
                    return true;
                }, this::views);
    }

    private String[] args(int i) {
        int[] others = new int[NODES - 1];
        for (int j = 0, o = 0; j < NODES; j++) {
            if (j != i) {
                others[o++] = clusterPorts[j];
            }
        }
        // every worker is seeded with the other two; the first founds the cluster (once: its store then holds it)
        List<String> props = new ArrayList<>(List.of(ClusterArgs.node(ids[i], clusterPorts[i])
                .gossip(INTERVAL, FAILURE_TIMEOUT).seeds(others).seedBackoffMax("1s").bootstrap(i == 0).toArray()));
        props.add("nimbus.replication-factor=3");
        return props.toArray(String[]::new);
    }

    private NodeProcess track(NodeProcess n) {
        started.add(n);
        return n;
    }

    private String views() {
        return ClusterView.views(java.util.Arrays.asList(nodes));
    }

    private static long number(String value) {
        Matcher m = VALUE.matcher(value);
        return m.matches() ? Long.parseLong(m.group(3)) : -1;
    }

    private static String head(List<String> items) {
        return String.join("\n  ", items.subList(0, Math.min(20, items.size())))
                + (items.size() > 20 ? "\n  ... and " + (items.size() - 20) + " more" : "");
    }
}
