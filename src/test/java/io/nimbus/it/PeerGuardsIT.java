package io.nimbus.it;

import org.junit.jupiter.api.Test;

import java.net.http.HttpClient;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The per-peer guards between real node processes. Gossip is told to be very patient (it would otherwise
 * mark the paused worker unreachable within a second, and the coordinator would stop asking it at all), so
 * that what keeps requests from waiting on a paused (SIGSTOP) worker is the coordinator's guard for it:
 * <ol>
 *   <li>bulkhead: more requests at once than the bulkhead admits to the paused worker; the ones it refuses end
 *       at once in 503 {@code peer-overloaded} naming the worker (at ALL it cannot be done without it);</li>
 *   <li>breaker: the calls that got in time out and open the worker's breaker ({@code /q/metrics},
 *       {@code /q/health/group/peers}); from then on an ALL request fails at once instead of after the phase
 *       time-out, and QUORUM requests keep succeeding;</li>
 *   <li>the worker resumes: after the breaker's delay a trial call goes through and closes it; ALL works again;</li>
 *   <li>the commits that nobody waits for (bundled with later requests, or sent after the linger time) reach
 *       both other workers.</li>
 * </ol>
 */
class PeerGuardsIT {
    private static final long PHASE_TIMEOUT_MS = 1000;
    private static final long BREAKER_DELAY_MS = 3000;
    private static final long FAST_MS = 300;
    private static final Duration REQUEST_TIMEOUT = Duration.ofSeconds(10);

    @Test
    void aPausedWorkersBulkheadRefusesWithA503ItsBreakerOpensAndFailsFastAndClosesWhenItResumes() throws Exception {
        try (LocalCluster c = LocalCluster.builder().label("ft").workers(3)
                .property("nimbus.gossip.interval=200ms").property("nimbus.gossip.seed-backoff-max=1s")
                .property("nimbus.gossip.failure-timeout=600s").property("nimbus.gossip.missed-acks-max=100000")
                .property("nimbus.paxos.phase-timeout-ms=" + PHASE_TIMEOUT_MS)
                .property("nimbus.peer.bulkhead.calls-max=2").property("nimbus.peer.bulkhead.queue-max=1")
                .property("nimbus.peer.breaker.request-volume=4").property("nimbus.peer.breaker.failure-ratio=0.5")
                .property("nimbus.peer.breaker.delay-ms=" + BREAKER_DELAY_MS)
                // this test is about one coordinator's guards: it coordinates every write sent to it
                .property("nimbus.paxos.forward-writes=false")
                .start()) {
            c.awaitWritable("ft-ready-", Duration.ofSeconds(60));
            LocalCluster.Node coordinator = c.workers().get(0);
            LocalCluster.Node victim = c.workers().get(2);
            NodeProcess n1 = coordinator.process();
            String victimPeer = victim.address + ":" + victim.clusterPort;
            HttpClient http = KvClient.newClient();
            assertEquals(0, breakerState(n1, victimPeer), "closed while all is well");

            c.pause(victim);
            // 1. six ALL writes at once: 2 calls in flight and 1 waiting are admitted to the paused worker, the rest refused
            ExecutorService pool = Executors.newFixedThreadPool(6);
            List<Future<HttpResponse<String>>> answers = new ArrayList<>();
            List<Long> burstMs = java.util.Collections.synchronizedList(new ArrayList<>());
            for (int i = 0; i < 6; i++) {
                String key = "ft-burst-" + i;
                answers.add(pool.submit(() -> {
                    long start = System.nanoTime();
                    HttpResponse<String> r = KvClient.put(http, n1, key, "v", "ALL", REQUEST_TIMEOUT);
                    long ms = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
                    burstMs.add(ms);
                    if (r.body().contains("peer-overloaded")) {
                        assertTrue(ms < FAST_MS, "a bulkhead refusal is immediate: " + ms + " ms");
                    } else {
                        assertTrue(ms >= PHASE_TIMEOUT_MS * 9 / 10, "before the breaker opens, an admitted call waits "
                                + "for the paused worker's phase time-out: " + ms + " ms, " + r.body());
                    }
                    return r;
                }));
            }
            int overloaded = 0;
            StringBuilder seen = new StringBuilder();
            for (Future<HttpResponse<String>> f : answers) {
                HttpResponse<String> r = f.get(30, TimeUnit.SECONDS);
                seen.append(r.statusCode()).append(' ').append(r.body()).append('\n');
                assertEquals(503, r.statusCode(), "ALL cannot be met with a worker paused: " + r.body());
                if (r.body().contains("peer-overloaded")) {
                    overloaded++;
                    assertTrue(r.body().contains(victim.name) && r.body().contains("nimbus.peer.bulkhead.calls-max")
                            && r.body().contains("Nothing was written"), r.body());
                    assertEquals("1", r.headers().firstValue("Retry-After").orElse(""), "peer-overloaded has Retry-After");
                }
            }
            pool.shutdown();
            assertTrue(overloaded >= 3, "the bulkhead (2 + 1 waiting) refused the rest at once; answers:\n" + seen);
            System.out.printf("burst of 6 ALL writes with %s paused: %d answered 503 peer-overloaded; latencies (ms) %s%n",
                    victim.name, overloaded, burstMs);

            // 2. the calls that got in time out, and the breaker opens; ALL then fails at once, QUORUM still works
            List<Long> allMs = new ArrayList<>();
            Await.until("the breaker for " + victimPeer + " opens", Duration.ofSeconds(30), () -> {
                long start = System.nanoTime();
                HttpResponse<String> r = KvClient.put(http, n1, "ft-all", "v", "ALL", REQUEST_TIMEOUT);
                allMs.add(TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start));
                assertEquals(503, r.statusCode(), r.body());
                return breakerState(n1, victimPeer) == 2;
            }, c::describeState);
            assertEquals("OPEN", field(fetch(n1, "/q/health/group/peers"), victimPeer));
            assertEquals("UP", field(fetch(n1, "/q/health/live"), "status"), "an open breaker is no reason to restart");
            assertEquals("UP", field(fetch(n1, "/q/health/ready"), "status"), "... nor to stop serving");
            // Each fast ALL answer below leaves its prepare to the healthy worker in flight (the answer does not wait
            // for it). With this test's bulkhead of 2 + 1, a stall of that worker of a few tens of ms (a slow fsync
            // on a busy machine) keeps 3 of them in flight, and the next ALL write is refused by the healthy
            // worker's bulkhead before the paused worker's breaker is asked (a CI run saw it): each waits until
            // they are answered, so that what it measures is the paused worker's breaker.
            LocalCluster.Node healthy = c.workers().get(1);
            String healthyPeer = healthy.address + ":" + healthy.clusterPort;
            long openedAt = System.nanoTime();
            for (int i = 0; i < 5; i++) {
                awaitNoCallsInFlight(c, n1, healthyPeer);
                long start = System.nanoTime();
                HttpResponse<String> r = KvClient.put(http, n1, "ft-all-open-" + i, "v", "ALL", REQUEST_TIMEOUT);
                long ms = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
                assertEquals(503, r.statusCode(), r.body());
                assertTrue(r.body().contains("circuit breaker is open") && r.body().contains(victim.name), r.body());
                assertTrue(ms < FAST_MS, "with the breaker open an ALL request does not wait for " + victim.name
                        + "'s phase time-out (" + PHASE_TIMEOUT_MS + " ms): " + ms + " ms");
                allMs.add(ms);
            }
            assertTrue(TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - openedAt) < BREAKER_DELAY_MS,
                    "the fast answers above were all within one open period");
            // (the same for the first QUORUM write, which would otherwise find the healthy worker's bulkhead full)
            awaitNoCallsInFlight(c, n1, healthyPeer);
            long quorumMaxMs = 0;
            for (int i = 0; i < 20; i++) {
                long start = System.nanoTime();
                HttpResponse<String> r = KvClient.put(http, n1, "ft-quorum-" + i, "v" + i, "QUORUM", REQUEST_TIMEOUT);
                quorumMaxMs = Math.max(quorumMaxMs, TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start));
                assertEquals(204, r.statusCode(), "QUORUM is met by the other two: " + r.body());
            }
            assertTrue(quorumMaxMs < FAST_MS, "QUORUM writes do not wait for the paused worker: max " + quorumMaxMs + " ms");
            System.out.printf("ALL writes through %s with %s paused, in order (ms): %s; QUORUM max %d ms%n",
                    coordinator.name, victim.name, allMs, quorumMaxMs);

            // 3. it comes back: after the delay a trial call closes the breaker, and ALL works again
            c.resume(victim);
            long resumed = System.nanoTime();
            int[] k = {0};
            Await.until("the breaker for " + victimPeer + " closes", Duration.ofSeconds(30), () -> {
                KvClient.put(http, n1, "ft-after-" + k[0]++, "v", "QUORUM", REQUEST_TIMEOUT);
                return breakerState(n1, victimPeer) == 0;
            }, c::describeState);
            System.out.printf("breaker for %s closed %d ms after it resumed%n", victim.name,
                    TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - resumed));
            assertEquals("CLOSED", field(fetch(n1, "/q/health/group/peers"), victimPeer));
            HttpResponse<String> all = KvClient.put(http, n1, "ft-all-again", "v", "ALL", REQUEST_TIMEOUT);
            assertEquals(204, all.statusCode(), all.body());
            // 4. Commits are not waited for: they ride with the next request to each peer or go after the linger
            // time in a frame of their own. Both other workers learn each write's commit (a read at ONE is served
            // from the asked replica's own committed value, and this cluster's start-up range sync is long over).
            for (int i = 0; i < 10; i++) {
                HttpResponse<String> w = KvClient.put(http, n1, "ft-commit-" + i, "c" + i, "QUORUM", REQUEST_TIMEOUT);
                assertEquals(204, w.statusCode(), w.body());
            }
            for (LocalCluster.Node other : List.of(c.workers().get(1), victim)) {
                for (int i = 0; i < 10; i++) {
                    String key = "ft-commit-" + i;
                    String want = "c" + i;
                    Await.until(other.name + " learns the commit of " + key, Duration.ofSeconds(10), () -> {
                        HttpResponse<String> r = KvClient.get(http, other.process(), key, "ONE", REQUEST_TIMEOUT);
                        return r.statusCode() == 200 && want.equals(r.body());
                    }, c::describeState);
                }
            }
            String metrics = fetch(n1, "/q/metrics");
            assertTrue(metrics.contains("nimbus_peer_call_seconds_bucket{") && metrics.contains("kind=\"paxos\""),
                    "per-peer latency histograms");
            assertTrue(metricValue(metrics, "nimbus_peer_calls_refused_total", victimPeer, "reason=\"bulkhead-full\"") >= 3);
            assertTrue(metricValue(metrics, "nimbus_peer_calls_refused_total", victimPeer, "reason=\"breaker-open\"") >= 5);
        }
    }

    /** Waits until {@code n} has no Paxos call in flight to {@code peer} (all answered or failed). */
    private static void awaitNoCallsInFlight(LocalCluster c, NodeProcess n, String peer) throws Exception {
        Await.until("the calls to " + peer + " left by the fast ALL answers are answered", Duration.ofSeconds(10),
                () -> metricValue(fetch(n, "/q/metrics"), "nimbus_peer_calls_in_flight", peer, "") == 0,
                c::describeState);
    }

    private static String fetch(NodeProcess n, String path) throws Exception {
        return n.fetch(path);
    }

    /** The first string value of {@code "name"} in a JSON text (health answers are small and flat enough). */
    private static String field(String json, String name) {
        Matcher m = Pattern.compile("\"" + Pattern.quote(name) + "\"\\s*:\\s*\"([^\"]*)\"").matcher(json);
        return m.find() ? m.group(1) : "(no " + name + " in " + json + ")";
    }

    private static int breakerState(NodeProcess n, String peer) throws Exception {
        return (int) metricValue(fetch(n, "/q/metrics"), "nimbus_peer_breaker_state", peer, "");
    }

    /** The value of the Prometheus series {@code name} whose labels include {@code peer} and {@code also}; -1 if absent. */
    private static double metricValue(String metrics, String name, String peer, String also) {
        Pattern p = Pattern.compile("^" + Pattern.quote(name) + "\\{([^}]*)\\} (\\S+)$", Pattern.MULTILINE);
        Matcher m = p.matcher(metrics);
        while (m.find()) {
            if (m.group(1).contains("peer=\"" + peer + "\"") && m.group(1).contains(also)) {
                return Double.parseDouble(m.group(2));
            }
        }
        return -1;
    }
}
