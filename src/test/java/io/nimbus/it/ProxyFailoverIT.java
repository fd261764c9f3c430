package io.nimbus.it;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.net.ConnectException;
import java.net.http.HttpClient;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Step 7's proxy tier: 3 workers (RF 3) and 2 proxies from the proxy build ({@code nimbus.build.role=proxy},
 * MapDB left out of its {@code lib/}), all client traffic through the proxies: each write goes to the next
 * proxy in turn and, if that one does not answer (connection refused), to the other one.
 * <ol>
 *   <li>both proxies serve QUORUM writes and reads;</li>
 *   <li>{@code kill -9} of one proxy: every write and read is still answered, by the other;</li>
 *   <li>{@code kill -9} of a worker as well: QUORUM writes and reads through the surviving proxy keep
 *       succeeding (2 of 3 replicas answer);</li>
 *   <li>every acknowledged write reads back at QUORUM with its value and ETag; no proxy created its data
 *       directory, and the proxy build's class path holds no MapDB.</li>
 * </ol>
 * Bounded: {@value #OPS_PER_PHASE} writes per phase, each with a 10 s time-out.
 */
class ProxyFailoverIT {
    private static final int OPS_PER_PHASE = 60;
    private static final Duration OP_TIMEOUT = Duration.ofSeconds(10);
    private static final ObjectMapper JSON = new ObjectMapper();

    private final HttpClient http = KvClient.newClient();
    /** Acknowledged writes: key → ETag (the value is the key's own, see {@link #valueOf}). */
    private final Map<String, String> acked = new LinkedHashMap<>();
    /** How many requests the client sent to a proxy that did not answer, and then sent to the other. */
    private int failovers;
    private int next;

    @Test
    void theOtherProxyKeepsServingAndQuorumSurvivesAWorker() throws Exception {
        Path proxyJar = NodeProcess.proxyJar();
        assertNoMapDb(proxyJar);
        try (LocalCluster c = LocalCluster.builder().workers(3).proxies(2).proxyJar(proxyJar).label("pf")
                .fastGossip().start()) {
            List<LocalCluster.Node> proxies = c.proxies();
            for (LocalCluster.Node p : proxies) {
                JsonNode self = member(p.process(), p.name);
                assertEquals("proxy", self.path("role").asText(), p.name + " gossips as a proxy: " + self);
            }
            c.awaitWritable("pf-ready-", Duration.ofSeconds(60));
            // the client keeps the proxies' addresses: after a kill it still tries the dead one (refused)
            List<NodeProcess> addresses = proxies.stream().map(LocalCluster.Node::process).toList();

            phase("both proxies", c, addresses, 0);
            assertEquals(0, failovers, "no failover while both proxies run");

            c.kill9(proxies.get(0));
            phase("proxy " + proxies.get(0).name + " killed", c, addresses, 1);
            assertTrue(failovers >= OPS_PER_PHASE / 2 - 1,
                    "the client still tried the dead proxy every other write and went to the other: " + failovers);

            c.kill9(c.workers().get(2));
            phase("and worker " + c.workers().get(2).name + " killed", c, addresses, 2);

            LocalCluster.Node survivor = proxies.get(1);
            KvClient.ReadBudget budget = new KvClient.ReadBudget(Duration.ofSeconds(30), Duration.ofSeconds(120));
            List<String> wrong = new ArrayList<>();
            for (Map.Entry<String, String> e : acked.entrySet()) {
                String problem = KvClient.readBack(http, survivor.process(), e.getKey(), valueOf(e.getKey()), e.getValue(),
                        OP_TIMEOUT, budget);
                if (problem != null) {
                    wrong.add(e.getKey() + ": " + problem);
                }
            }
            assertTrue(wrong.isEmpty(), wrong.size() + " of " + acked.size() + " acknowledged writes did not read back at "
                    + "QUORUM through " + survivor.name + ": " + wrong + "\n" + c.describeState());
            for (LocalCluster.Node p : proxies) {
                assertFalse(Files.exists(p.dataDir), p.name + " created its data directory " + p.dataDir);
            }
            System.out.printf("[it] %d writes acknowledged through the proxies (%d failovers), all read back at QUORUM%n",
                    acked.size(), failovers);
        }
    }

    /**
     * {@value #OPS_PER_PHASE} QUORUM writes of fresh keys through the proxies in turn, each answered 204 (a proxy
     * that does not answer is failed over; any HTTP answer other than 204 fails the test), each followed by a
     * QUORUM read of the key through the next proxy, which must return it.
     */
    private void phase(String label, LocalCluster c, List<NodeProcess> proxies, int phase) throws Exception {
        long start = System.nanoTime();
        for (int i = 0; i < OPS_PER_PHASE; i++) {
            String key = "pf-" + phase + "-" + i;
            HttpResponse<String> put = throughProxies(proxies, n -> KvClient.put(http, n, key, valueOf(key), "QUORUM",
                    OP_TIMEOUT));
            assertEquals(204, put.statusCode(), label + ": PUT " + key + " -> " + put.statusCode() + " "
                    + KvClient.problemType(put) + " " + put.body() + "\n" + c.describeState());
            acked.put(key, put.headers().firstValue("ETag").orElseThrow());
            HttpResponse<String> get = throughProxies(proxies, n -> KvClient.get(http, n, key, "QUORUM", OP_TIMEOUT));
            assertEquals(200, get.statusCode(), label + ": GET " + key + " -> " + get.statusCode() + " " + get.body());
            assertEquals(valueOf(key), get.body(), label + ": GET " + key);
        }
        System.out.printf("[it] %s: %d QUORUM writes and reads through the proxies in %d ms (%d failovers so far)%n",
                label, OPS_PER_PHASE, KvClient.ms(System.nanoTime() - start), failovers);
    }

    private interface Call {
        HttpResponse<String> on(NodeProcess proxy) throws IOException, InterruptedException;
    }

    /** The next proxy in turn; on no answer (connection refused: it is down), the other ones in order. */
    private HttpResponse<String> throughProxies(List<NodeProcess> proxies, Call call) throws Exception {
        List<String> unanswered = new ArrayList<>();
        int first = next++ % proxies.size();
        for (int k = 0; k < proxies.size(); k++) {
            NodeProcess p = proxies.get((first + k) % proxies.size());
            if (k > 0) {
                failovers++;
            }
            try {
                return call.on(p);
            } catch (ConnectException refused) {
                unanswered.add(p + ": " + refused); // a time-out is no reason to fail over: it fails the test
            }
        }
        throw new AssertionError("no proxy answered: " + unanswered);
    }

    private static String valueOf(String key) {
        return "value of " + key;
    }

    private static JsonNode member(NodeProcess n, String name) throws IOException, InterruptedException {
        for (JsonNode m : JSON.readTree(n.fetch("/v1/cluster")).path("members")) {
            if (m.path("id").asText().equals(name)) {
                return m;
            }
        }
        throw new AssertionError(name + " is not in its own view");
    }

    /** The proxy build's {@code lib/} holds no MapDB (nor what only MapDB uses); the any-role build's does. */
    private static void assertNoMapDb(Path proxyJar) throws IOException {
        List<String> proxyLibs = libs(proxyJar);
        List<String> anyLibs = libs(NodeProcess.jar());
        assertTrue(anyLibs.stream().anyMatch(j -> j.startsWith("org.mapdb.mapdb-")), "the check sees MapDB: " + anyLibs);
        assertTrue(proxyLibs.size() > 50, "the proxy build has its libraries: " + proxyLibs);
        List<String> leaked = proxyLibs.stream().filter(j -> j.startsWith("org.mapdb.") || j.startsWith("org.jetbrains.kotlin.")
                || j.startsWith("org.eclipse.collections.") || j.startsWith("com.google.guava.")
                || j.startsWith("net.jpountz.")).toList();
        assertTrue(leaked.isEmpty(), "the proxy build carries " + leaked);
    }

    private static List<String> libs(Path runJar) throws IOException {
        try (Stream<Path> s = Files.list(runJar.getParent().resolve("lib").resolve("main"))) {
            return s.map(p -> p.getFileName().toString()).sorted().toList();
        }
    }
}
