package io.nimbus.it;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;

import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * One coordinator per key (docs/PAXOS.md "One coordinator per key"), on real processes: three workers, RF 3.
 * <ol>
 *   <li>QUORUM writes and a compare-and-set sent to a worker that is not the key's first replica are forwarded to
 *       that replica, which coordinates them, and its writes after the first skip the prepare (a term);</li>
 *   <li>with the key's coordinator killed (its port refuses connections), a forward is never sent and the write
 *       is coordinated where it landed: 204;</li>
 *   <li>with the key's coordinator paused, a forwarded write is sent and not answered: 504 outcome unknown, and
 *       once the coordinator resumes it applies the write it had received, which is why the forwarding node must
 *       not run it again itself.</li>
 * </ol>
 */
class ForwardedWritesIT {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final long WRITE_TIMEOUT_MS = 2000;
    private static final long PHASE_TIMEOUT_MS = 500;
    private static final Duration REQUEST_TIMEOUT = Duration.ofSeconds(20);

    @Test
    void writesGoToTheirKeysCoordinatorAndAnUnansweredForwardIsOutcomeUnknown() throws Exception {
        try (LocalCluster c = LocalCluster.builder().label("fwd").workers(3)
                .property("nimbus.gossip.interval=200ms").property("nimbus.gossip.seed-backoff-max=1s")
                // nobody is taken for down during this test: the forward's own failure rules are what it shows
                .property("nimbus.gossip.failure-timeout=600s").property("nimbus.gossip.missed-acks-max=100000")
                .property("nimbus.limits.write-timeout-ms=" + WRITE_TIMEOUT_MS)
                .property("nimbus.paxos.phase-timeout-ms=" + PHASE_TIMEOUT_MS)
                .start()) {
            c.awaitWritable("fwd-ready-", Duration.ofSeconds(60));
            HttpClient http = KvClient.newClient();

            // 1. forwarded to the key's first replica, which writes in its term after the first write
            String key = "fwd-a";
            LocalCluster.Node first = firstReplica(c, key);
            LocalCluster.Node via = other(c, first, null);
            String before = c.describeState();
            double forwardedBefore = counter(first.process().fetch("/q/metrics"), "nimbus_paxos_forwarded_total", "");
            double termWritesBefore = counter(first.process().fetch("/q/metrics"), "nimbus_paxos_term_writes_total", "");
            String etag = null;
            for (int i = 0; i < 5; i++) {
                HttpResponse<String> w = put(http, via, key, "v" + i, null);
                assertEquals(204, w.statusCode(), w.body());
                etag = w.headers().firstValue("ETag").orElseThrow();
            }
            HttpResponse<String> cas = put(http, via, key, "cas", etag);
            assertEquals(204, cas.statusCode(), "a compare-and-set against the last write's ETag: " + cas.body());
            HttpResponse<String> stale = put(http, via, key, "stale", etag);
            assertEquals(412, stale.statusCode(), "the precondition's failure comes back across the forward: " + stale.body());
            String firstMetrics = first.process().fetch("/q/metrics");
            assertTrue(counter(firstMetrics, "nimbus_paxos_forwarded_total", "") - forwardedBefore >= 7,
                    first.name + " coordinated the 7 writes sent to " + via.name + ":\n" + firstMetrics + before);
            assertTrue(counter(firstMetrics, "nimbus_paxos_term_writes_total", "") - termWritesBefore >= 5,
                    "the writes after the first went in " + first.name + "'s term (no prepare)");
            assertTrue(counter(via.process().fetch("/q/metrics"), "nimbus_paxos_forwards_total", "outcome=\"answered\"") >= 7);
            assertEquals("cas", KvClient.get(http, via.process(), key, "QUORUM", REQUEST_TIMEOUT).body());

            // 1b. a token-aware client (load --route key): every write goes to its key's coordinator, none forwarded;
            // the same load spread over the nodes has two writes in three forwarded
            String urls = String.join(",", c.workers().stream().map(n -> n.process().uri("").toString()).toList());
            double[] routed = loadForwards(c, urls, "key");
            assertTrue(routed[1] >= 100, "the routed load wrote: " + routed[1] + " writes in terms");
            assertEquals(0, routed[0], "writes sent to their key's coordinator are not forwarded");
            double[] spread = loadForwards(c, urls, "spread");
            assertTrue(spread[0] >= spread[1] / 4, "a spread load forwards (most of) its writes: " + spread[0]
                    + " forwards for " + spread[1] + " writes in terms");

            // 2. the coordinator killed: its port refuses connections, nothing is sent, the write is coordinated here
            c.kill9(first);
            Thread.sleep(1000); // the forwarding node sees its connection to the dead process close
            HttpResponse<String> alone = put(http, via, key, "after-kill", null);
            assertEquals(204, alone.statusCode(), "two of three replicas are up: " + alone.body());
            assertTrue(counter(via.process().fetch("/q/metrics"), "nimbus_paxos_forwards_total", "outcome=\"not-sent\"") >= 1,
                    "the write to " + first.name + " was known not sent");
            c.restart(first);
            c.awaitWritable("fwd-back-", Duration.ofSeconds(60));

            // 3. a coordinator paused: the forward is sent, no answer comes, the outcome is unknown; and it does apply.
            // Not the worker killed above: the calls that failed while it was down may have opened the breaker
            // that guards it, and a call its breaker refuses is not sent (coordinated here: 204).
            String key2 = keyWithFirstReplicaOtherThan(c, via, first);
            LocalCluster.Node coordinator = firstReplica(c, key2);
            assertEquals(204, put(http, via, key2, "old", null).statusCode());
            String peer = coordinator.address + ":" + coordinator.clusterPort;
            Await.until(via.name + "'s breaker for " + coordinator.name + " is closed", Duration.ofSeconds(20),
                    () -> counter(via.process().fetch("/q/metrics"), "nimbus_peer_breaker_state", "peer=\"" + peer + "\"")
                            == 0, c::describeState);
            c.pause(coordinator);
            HttpResponse<String> unknown;
            try {
                unknown = put(http, via, key2, "new", null);
            } finally {
                c.resume(coordinator);
            }
            assertEquals(504, unknown.statusCode(), unknown.body());
            assertTrue(unknown.body().contains("outcome-unknown") && unknown.body().contains("forwarded to "
                    + coordinator.name), unknown.body());
            Await.until("the write the paused coordinator received applies once it resumes", Duration.ofSeconds(20),
                    () -> "new".equals(KvClient.get(http, via.process(), key2, "QUORUM", REQUEST_TIMEOUT).body()),
                    c::describeState);
        }
    }

    /**
     * Runs {@code load --route way} (QUORUM puts, 2 s) against every worker; returns the forwards the workers
     * sent meanwhile and the writes that went in a term (one per write after a key's first), summed over them.
     */
    /** 400 QUORUM writes on 60 keys (a count, not a time: a slow machine does fewer writes per second), routed {@code way}. */
    private static double[] loadForwards(LocalCluster c, String urls, String way) throws Exception {
        double forwards = 0;
        double termWrites = 0;
        for (LocalCluster.Node n : c.workers()) {
            String m = n.process().fetch("/q/metrics");
            forwards -= counter(m, "nimbus_paxos_forwards_total", "");
            termWrites -= counter(m, "nimbus_paxos_term_writes_total", "");
        }
        java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
        int rc = io.nimbus.tools.LoadTool.run(new String[]{"--url", urls, "--connections", "6", "--max-ops", "400",
                "--duration-s", "60", "--warmup-s", "0", "--keys", "60", "--mix", "put:1", "--consistency", "QUORUM", "--route", way,
                "--prefix", "fwd-" + way + "-"}, new java.io.PrintStream(out, true), System.err);
        assertEquals(0, rc, out.toString());
        for (LocalCluster.Node n : c.workers()) {
            String m = n.process().fetch("/q/metrics");
            forwards += counter(m, "nimbus_paxos_forwards_total", "");
            termWrites += counter(m, "nimbus_paxos_term_writes_total", "");
        }
        System.out.printf("load --route %s: %.0f forwards, %.0f writes in terms%n%s", way, forwards, termWrites, out);
        return new double[]{forwards, termWrites};
    }

    private static HttpResponse<String> put(HttpClient http, LocalCluster.Node n, String key, String value, String ifMatch)
            throws Exception {
        HttpRequest.Builder b = n.process().request(java.net.URI.create(n.process().kvUri(key) + "?consistency=QUORUM"))
                .timeout(REQUEST_TIMEOUT).PUT(HttpRequest.BodyPublishers.ofString(value));
        if (ifMatch != null) {
            b.header("If-Match", ifMatch);
        }
        return http.send(b.build(), HttpResponse.BodyHandlers.ofString());
    }

    /** The key's first replica in ring order, as any node's topology places it. */
    private static LocalCluster.Node firstReplica(LocalCluster c, String key) throws Exception {
        JsonNode loc = JSON.readTree(c.workers().get(0).process().fetch("/v1/cluster/locate/" + key));
        return c.node(loc.path("replicas").get(0).asText());
    }

    private static LocalCluster.Node other(LocalCluster c, LocalCluster.Node not, LocalCluster.Node norThis) {
        for (LocalCluster.Node n : c.workers()) {
            if (n != not && n != norThis) {
                return n;
            }
        }
        throw new IllegalStateException("no other worker");
    }

    private static String keyWithFirstReplicaOtherThan(LocalCluster c, LocalCluster.Node via, LocalCluster.Node nor)
            throws Exception {
        List<String> tried = new ArrayList<>();
        for (int i = 0; i < 200; i++) {
            String key = "fwd-b-" + i;
            LocalCluster.Node f = firstReplica(c, key);
            if (f != via && f != nor) {
                return key;
            }
            tried.add(key);
        }
        throw new IllegalStateException("every key of " + tried + " has " + via.name + " or " + nor.name + " first");
    }

    /** A counter's value (summed over its series whose labels contain {@code labels}); 0 if absent. */
    private static double counter(String metrics, String name, String labels) {
        Pattern p = Pattern.compile("^" + Pattern.quote(name) + "(\\{([^}]*)\\})? (\\S+)$", Pattern.MULTILINE);
        Matcher m = p.matcher(metrics);
        double sum = 0;
        while (m.find()) {
            String l = m.group(2) == null ? "" : m.group(2);
            if (l.contains(labels)) {
                sum += Double.parseDouble(m.group(3));
            }
        }
        return sum;
    }
}
