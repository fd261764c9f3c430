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
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

import static io.nimbus.it.KvClient.ms;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * Scale-out of a cluster that holds data (issue "Step 6"), the way {@code kubectl scale} does it: one
 * worker (RF 3) founds the cluster alone and acknowledges {@value #KEYS} QUORUM writes; then two more
 * workers start, both seeded with it only. Once both are members, every worker lists all three as
 * {@code NORMAL}, no topology operation is in progress, all three hold the same epoch, gossip sees all
 * three reachable and every worker is ready, the data must be where the topology says it is:
 * <ol>
 *   <li><b>ONE</b>: every key read at ONE through each new worker answers its acknowledged value and
 *       ETag (a ONE read is served by the receiving worker's own replica first; a 404 is a wrong
 *       answer: the join finished without the data);</li>
 *   <li><b>creates</b>: a {@code PUT} with {@code If-None-Match: *} at QUORUM of {@value #CREATES} of the
 *       keys, through the new workers alternately, is refused with 412; a 2xx overwrote an acknowledged
 *       write;</li>
 *   <li><b>QUORUM</b>: every key read at QUORUM through each of the three workers (the new ones first)
 *       answers 200 with its acknowledged value and ETag.</li>
 * </ol>
 * Wrong answers are counted, not stopped at; the test fails if any category has one, or if a request
 * got no verdict at all (only 503/504 and unanswered requests are retried, bounded).
 *
 * <p>The order is deliberate: Paxos operations (QUORUM reads, conditional writes) repair the replicas
 * they touch, and the ONE reads do not, so the ONE reads come first and each key's first Paxos
 * operation is the one that judges the state the joins left. With joins that stream a range's data to
 * the newcomer before it counts as a replica, the order makes no difference.
 *
 * <p>On code whose join makes the newcomer a replica at once, with no data, the new workers hold none
 * of the keys (every ONE read 404s), and a QUORUM whose first two promises come from the two new
 * workers sees no value: a 404 read (through the founder too, when both arrive before its own), or a
 * create that overwrites an acknowledged key. Measured on main at ad238e1 (2 cores, shared), 6 runs:
 * ONE reads wrong 600/600 every time; creates accepted 34-47 of 100; QUORUM reads wrong 191-272 of
 * 900, of which 89-143 on keys no create had touched; joins (from starting the two JVMs) 4-14 s; the
 * test takes 11-31 s.
 */
class ScaleOutIT {
    private static final int WORKERS = 3;
    private static final int KEYS = 300;
    /** Keys {@code k % 3 == 2}: {@value} of them get an {@code If-None-Match: *} create. */
    private static final int CREATES = 100;
    /** Writing the keys to the lone founder: 503 / 504 / no answer are retried until then. */
    private static final Duration WRITING = Duration.ofSeconds(60);
    /** From starting the two new workers until the joins are over (every condition below). */
    private static final Duration JOINS = Duration.ofSeconds(120);
    private static final Duration REQUEST_TIMEOUT = Duration.ofSeconds(8); // above write-timeout-ms (5 s)
    /** Per check: requests with no verdict (503, 504, no answer) are retried for this long in all. */
    private static final Duration RETRYING = Duration.ofSeconds(20);
    private static final ObjectMapper JSON = new ObjectMapper();
    /** Prefix of the values the {@code If-None-Match: *} creates send. */
    private static final String CREATED = "CREATED-OVER-";

    private LocalCluster cluster;

    @AfterEach
    void killNodes() {
        if (cluster != null) {
            cluster.close();
        }
    }

    /** One acknowledged write. */
    private record Ack(String value, String etag) {
    }

    /** Wrong answers and requests without a verdict in one check, with the first few examples per node asked. */
    private static final class Tally {
        final String name;
        int asked;
        int wrong;
        int unanswered;
        final Set<String> wrongKeys = new TreeSet<>();
        final Map<String, List<String>> examples = new LinkedHashMap<>(); // node asked, kind -> first few

        Tally(String name) {
            this.name = name;
        }

        /** A wrong answer; {@code kind} groups the examples (e.g. {@code 404}, {@code another value}). */
        void wrong(NodeProcess via, String kind, String key, String what) {
            wrong++;
            wrongKeys.add(key);
            example(via, kind, key + ": " + what);
        }

        void unanswered(NodeProcess via, String key, String what) {
            unanswered++;
            example(via, "no verdict", key + ": " + what);
        }

        private void example(NodeProcess via, String kind, String s) {
            List<String> l = examples.computeIfAbsent("via " + via + ", " + kind, v -> new ArrayList<>());
            if (l.size() < 5) {
                l.add(s);
            }
        }

        String examples() {
            StringBuilder b = new StringBuilder();
            examples.forEach((group, l) -> b.append("\n    ").append(group).append(":\n      ")
                    .append(String.join("\n      ", l)));
            return b.toString();
        }

        boolean clean() {
            return wrong == 0 && unanswered == 0;
        }

        String counts() {
            return name + " wrong " + wrong + "/" + asked + " (" + wrongKeys.size() + " keys), no verdict "
                    + unanswered;
        }
    }

    /** Retry patience for one check: requests without a verdict are retried until it runs out. */
    private static final class Budget {
        private final long until;

        Budget(Duration d) {
            until = System.nanoTime() + d.toNanos();
        }

        boolean left() {
            return System.nanoTime() < until;
        }
    }

    @Test
    void joinsOfTwoWorkersSeededWithALoneWorkerHoldingDataLoseNothingAndReviveNothing() throws Exception {
        cluster = LocalCluster.builder().label("scale").workers(WORKERS).replicationFactor(3).startOnly(1).fastGossip().start();
        HttpClient http = KvClient.newClient();
        NodeProcess w1 = cluster.process(0);
        String prefix = "scale-" + Long.toString(System.currentTimeMillis(), 36) + "-";

        // 1. The founder alone acknowledges KEYS QUORUM writes of distinct values.
        Map<String, Ack> acked = new LinkedHashMap<>();
        long writeStart = System.nanoTime();
        long writeDeadline = writeStart + WRITING.toNanos();
        int retried = 0;
        for (int k = 0; k < KEYS; k++) {
            String key = prefix + String.format("%03d", k);
            for (int attempt = 0; ; attempt++) {
                String value = "v-" + key + "-" + attempt + "-" + Long.toHexString(System.nanoTime());
                String outcome;
                try {
                    HttpResponse<String> r = KvClient.put(http, w1, key, value, "QUORUM", REQUEST_TIMEOUT);
                    String etag = r.headers().firstValue("ETag").orElse(null);
                    if (r.statusCode() == 204 && etag != null) {
                        acked.put(key, new Ack(value, etag));
                        break;
                    }
                    if (r.statusCode() != 503 && r.statusCode() != 504) {
                        fail("PUT " + key + " at QUORUM through the lone " + w1 + ": " + r.statusCode() + " ETag "
                                + etag + " " + r.body());
                    }
                    outcome = r.statusCode() + " " + KvClient.problemType(r);
                } catch (IOException e) {
                    outcome = e.toString();
                }
                // no verdict (nothing written, or outcome unknown): write the key again; the last ack counts
                retried++;
                if (System.nanoTime() > writeDeadline) {
                    fail("only " + acked.size() + " of " + KEYS + " QUORUM writes acknowledged by the lone " + w1
                            + " within " + WRITING + "; last: " + outcome + "\n" + cluster.describeState());
                }
                Thread.sleep(50);
            }
        }
        System.out.printf("[it] %s alone acknowledged %d QUORUM writes in %d ms (%d retried)%n", cluster.id(0),
                acked.size(), ms(System.nanoTime() - writeStart), retried);

        // 2. Two more workers, seeded with the first only; wait until both joins are over.
        NodeProcess w2 = cluster.startNewWorker(1);
        NodeProcess w3 = cluster.startNewWorker(2);
        List<NodeProcess> all = List.of(w1, w2, w3);
        Set<String> names = Set.of(cluster.id(0), cluster.id(1), cluster.id(2));
        String[] waitingFor = {"-"};
        long joinMs = Await.until("every worker lists " + names + " NORMAL, operation null, one epoch, all reachable, "
                + "all ready", JOINS, () -> {
            for (NodeProcess n : all) {
                if (!n.isAlive()) {
                    throw new AssertionError(n + " exited; log " + n.logFile() + ":\n" + n.tail(40));
                }
            }
            Set<Long> epochs = new HashSet<>();
            for (NodeProcess n : all) {
                JsonNode t = JSON.readTree(n.fetch("/v1/cluster/topology"));
                Set<String> normal = new TreeSet<>();
                for (JsonNode w : t.path("workers")) {
                    if ("NORMAL".equals(w.path("status").asText())) {
                        normal.add(w.path("name").asText());
                    }
                }
                if (t.path("workers").size() != WORKERS || !normal.equals(names)) {
                    waitingFor[0] = n + " lists NORMAL " + normal + " of " + t.path("workers").size() + " workers";
                    return false;
                }
                JsonNode op = t.get("operation");
                if (op != null && !op.isNull()) {
                    waitingFor[0] = n + " shows operation " + op;
                    return false;
                }
                epochs.add(t.path("epoch").asLong(-1));
            }
            if (epochs.size() != 1) {
                waitingFor[0] = "epochs differ: " + epochs;
                return false;
            }
            for (NodeProcess n : all) {
                if (!ClusterView.of(n).isExactlyReachable(names)) {
                    waitingFor[0] = n + " gossip: " + ClusterView.of(n);
                    return false;
                }
                if (NodeProbe.readyStatus(n) != 200) {
                    waitingFor[0] = n + " /q/health/ready: " + NodeProbe.readyStatus(n);
                    return false;
                }
            }
            return true;
        }, () -> "waiting for: " + waitingFor[0] + "\n" + topologies(all) + "\n" + cluster.describeState());
        System.out.printf("[it] %s and %s joined (all NORMAL, no operation, epoch %s, ready) %d ms after they were "
                + "started%n", cluster.id(1), cluster.id(2), bestEffortEpoch(w1), joinMs);

        // 3a. ONE reads on each new worker (no repair: they must find what the joins left there).
        Tally one = new Tally("ONE");
        for (NodeProcess n : List.of(w2, w3)) {
            Budget budget = new Budget(RETRYING);
            for (Map.Entry<String, Ack> e : acked.entrySet()) {
                one.asked++;
                read(http, n, "ONE", e.getKey(), e.getValue(), null, one, budget);
            }
        }
        System.out.printf("[it] ONE reads on the new workers: %s%n", one.counts());

        // 3b. Creates over acknowledged keys, through the new workers alternately: each must be a 412.
        Tally creates = new Tally("create");
        Map<String, String> overwrittenBy = new LinkedHashMap<>(); // key -> the value a 2xx create put there
        Set<String> createUnknown = new TreeSet<>(); // keys whose create had a 504 or no answer (then retried)
        Budget createBudget = new Budget(RETRYING);
        int c = 0;
        for (Map.Entry<String, Ack> e : acked.entrySet()) {
            int k = c++;
            if (k % 3 != 2) {
                continue;
            }
            creates.asked++;
            NodeProcess via = creates.asked % 2 == 1 ? w2 : w3;
            String value = CREATED + e.getKey();
            create(http, via, e.getKey(), value, creates, overwrittenBy, createUnknown, createBudget);
        }
        if (creates.asked != CREATES) {
            throw new IllegalStateException("asked " + creates.asked + " creates, meant " + CREATES);
        }
        System.out.printf("[it] If-None-Match: * creates over acknowledged keys: %s; outcome unknown (504 or no "
                + "answer, then retried) for %d%n", creates.counts(), createUnknown.size());

        // 3c. QUORUM reads through every worker, the new ones first.
        Tally quorum = new Tally("QUORUM");
        int onOverwritten = 0; // wrong reads of keys a create answered 2xx overwrote
        Set<String> wrongNotOverwritten = new TreeSet<>();
        Map<String, Integer> wrongByReader = new LinkedHashMap<>();
        for (NodeProcess n : List.of(w2, w3, w1)) {
            Budget budget = new Budget(RETRYING);
            int readerWrong = 0;
            for (Map.Entry<String, Ack> e : acked.entrySet()) {
                quorum.asked++;
                int before = quorum.wrong;
                read(http, n, "QUORUM", e.getKey(), e.getValue(), overwrittenBy.get(e.getKey()), quorum, budget);
                if (quorum.wrong > before) {
                    readerWrong++;
                    if (overwrittenBy.containsKey(e.getKey())) {
                        onOverwritten++;
                    } else {
                        wrongNotOverwritten.add(e.getKey());
                    }
                }
            }
            wrongByReader.put(n.toString().replaceFirst("\\[.*", ""), readerWrong);
        }
        System.out.printf("[it] QUORUM reads through all workers: %s; wrong per reader %s%n", quorum.counts(),
                wrongByReader);

        String summary = String.format("[it] ScaleOutIT summary: %d keys acknowledged by 1 worker; joins of 2 workers "
                + "took %d ms; ONE reads on new workers wrong %d/%d (%d keys), no verdict %d; If-None-Match creates "
                + "accepted over acknowledged keys %d/%d (other wrong %d, outcome unknown %d), no verdict %d; QUORUM "
                + "reads wrong %d/%d on %d keys (%d reads of the keys a create answered 2xx overwrote; %d reads, "
                + "%d keys, of the others), no verdict %d",
                acked.size(), joinMs,
                one.wrong, one.asked, one.wrongKeys.size(), one.unanswered,
                overwrittenBy.size(), creates.asked, creates.wrong - overwrittenBy.size(), createUnknown.size(),
                creates.unanswered,
                quorum.wrong, quorum.asked, quorum.wrongKeys.size(), onOverwritten, quorum.wrong - onOverwritten,
                wrongNotOverwritten.size(), quorum.unanswered);
        System.out.println(summary);

        if (!one.clean() || !creates.clean() || !quorum.clean()) {
            StringBuilder b = new StringBuilder("after two workers joined a lone worker holding " + acked.size()
                    + " acknowledged keys:\n" + summary);
            for (Tally t : List.of(one, creates, quorum)) {
                if (!t.clean()) {
                    b.append("\n  ").append(t.counts()).append(", first ones:").append(t.examples());
                }
            }
            b.append("\nlogs:");
            cluster.workers().forEach(n -> b.append("\n  ").append(n.name).append(' ').append(n.logs()));
            fail(b.toString());
        }
    }

    /**
     * Reads {@code key} at {@code level} through {@code n}: right if 200 with the acknowledged value and
     * ETag; 404 or anything else is wrong; 503, 504 and no answer are retried while the budget lasts.
     * {@code createdValue}: what a create answered 2xx wrote there (named in the example), or null.
     */
    private static void read(HttpClient http, NodeProcess n, String level, String key, Ack ack, String createdValue,
                             Tally tally, Budget budget) throws InterruptedException {
        String last;
        do {
            try {
                HttpResponse<String> r = KvClient.get(http, n, key, level, REQUEST_TIMEOUT);
                String etag = r.headers().firstValue("ETag").orElse(null);
                if (r.statusCode() == 200) {
                    if (!ack.value().equals(r.body()) || !ack.etag().equals(etag)) {
                        tally.wrong(n, r.body().startsWith(CREATED) ? "a create's value" : "another value or ETag",
                                key, "read " + r.body() + " " + etag + " instead of " + ack.value() + " "
                                + ack.etag() + (r.body().equals(createdValue) ? " (the value of a create answered 2xx)"
                                : r.body().startsWith(CREATED) ? " (the value of a create NOT answered 2xx)" : ""));
                    }
                    return;
                }
                if (r.statusCode() != 503 && r.statusCode() != 504) {
                    tally.wrong(n, Integer.toString(r.statusCode()), key, r.statusCode() + " "
                            + KvClient.problemType(r) + " instead of 200 " + ack.etag());
                    return;
                }
                last = r.statusCode() + " " + KvClient.problemType(r);
            } catch (IOException e) {
                last = e.toString();
            }
            Thread.sleep(100);
        } while (budget.left());
        tally.unanswered(n, key, "last " + last);
    }

    /**
     * {@code PUT} with {@code If-None-Match: *} at QUORUM of an acknowledged key: right if 412; a 2xx
     * overwrote it (recorded in {@code overwrittenBy}); any other verdict is wrong too; 503, 504 and no
     * answer are retried while the budget lasts (a 504'd create that did apply makes the retry a 412,
     * but the QUORUM reads after it still see the overwrite).
     */
    private static void create(HttpClient http, NodeProcess n, String key, String value, Tally tally,
                               Map<String, String> overwrittenBy, Set<String> unknown, Budget budget)
            throws InterruptedException {
        String last;
        do {
            try {
                HttpResponse<String> r = http.send(n.request(URI.create(n.kvUri(key) + "?consistency=QUORUM"))
                        .timeout(REQUEST_TIMEOUT).header("If-None-Match", "*")
                        .PUT(HttpRequest.BodyPublishers.ofString(value, StandardCharsets.UTF_8)).build(),
                        HttpResponse.BodyHandlers.ofString());
                int s = r.statusCode();
                if (s == 412) {
                    return;
                }
                if (s / 100 == 2) {
                    overwrittenBy.put(key, value);
                    tally.wrong(n, "accepted", key, "create ACCEPTED (" + s + ", ETag "
                            + r.headers().firstValue("ETag").orElse("-") + ") over an acknowledged write");
                    return;
                }
                if (s == 504) {
                    unknown.add(key); // it may have applied: then the retry is a 412 and the QUORUM reads see it
                } else if (s != 503) {
                    tally.wrong(n, Integer.toString(s), key, "create answered " + s + " " + KvClient.problemType(r)
                            + " instead of 412");
                    return;
                }
                last = s + " " + KvClient.problemType(r);
            } catch (IOException e) {
                unknown.add(key);
                last = e.toString();
            }
            Thread.sleep(100);
        } while (budget.left());
        tally.unanswered(n, key, "create: last " + last);
    }

    /** Every node's {@code /v1/cluster/topology}, best effort, for failure messages. */
    private static String topologies(List<NodeProcess> nodes) {
        StringBuilder b = new StringBuilder("topologies:");
        for (NodeProcess n : nodes) {
            b.append("\n  ").append(n).append(" log ").append(n.logFile()).append(": ");
            try {
                b.append(n.isAlive() ? n.fetch("/v1/cluster/topology") : "(not running)");
            } catch (Exception e) {
                b.append("no topology: ").append(e);
            }
        }
        return b.toString();
    }

    private static String bestEffortEpoch(NodeProcess n) {
        try {
            return JSON.readTree(n.fetch("/v1/cluster/topology")).path("epoch").asText("?");
        } catch (Exception e) {
            return "?";
        }
    }
}
