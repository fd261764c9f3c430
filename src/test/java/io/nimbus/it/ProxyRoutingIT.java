package io.nimbus.it;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A proxy (no data files) coordinates requests for two workers (replication factor 2): a write through
 * the proxy lands on both workers' own replicas (each read back at ONE from the worker itself, which
 * asks its own replica), a QUORUM read through the proxy sees it, and a compare-and-set through the
 * proxy with a stale ETag is refused with 412 and the current version. A write at ONE reaches both
 * workers' replicas too.
 */
class ProxyRoutingIT {
    private final List<NodeProcess> all = new ArrayList<>();

    @AfterEach
    void stop() {
        NodeProcess.closeAll(all);
    }

    @Test
    void aProxyRoutesWritesReadsAndCompareAndSetToTheWorkers() throws Exception {
        int[] cluster = {NodeProcess.freePort(), NodeProcess.freePort(), NodeProcess.freePort()};
        String[] gossip = {"nimbus.gossip.interval=200ms", "nimbus.gossip.failure-timeout=2s", "nimbus.replication-factor=2"};
        NodeProcess w1 = start("pw1", cluster[0], gossip);
        NodeProcess w2 = start("pw2", cluster[1], gossip, "nimbus.cluster.seeds=127.0.0.1:" + cluster[0]);
        Path proxyDir = NodeProcess.newDataDir("proxy");
        Files.deleteIfExists(proxyDir);
        NodeProcess proxy = start("proxy", proxyDir, cluster[2], gossip, "nimbus.role=proxy",
                "nimbus.cluster.seeds=127.0.0.1:" + cluster[0]);
        Await.until("the proxy sees both workers on the ring", Duration.ofSeconds(60),
                () -> proxy.fetch("/v1/cluster/ring").contains("\"replicationFactor\":2"), () -> safeFetch(proxy, "/v1/cluster/ring"));
        Await.until("both workers see the ring of two", Duration.ofSeconds(60),
                () -> w1.fetch("/v1/cluster/ring").contains("\"replicationFactor\":2")
                        && w2.fetch("/v1/cluster/ring").contains("\"replicationFactor\":2"), () -> safeFetch(w2, "/v1/cluster/ring"));

        HttpResponse<String> put = send(proxy, "PUT", "/v1/kv/routed?consistency=ALL", "through the proxy", null);
        assertEquals(204, put.statusCode(), put.body());
        String etag = put.headers().firstValue("ETag").orElseThrow();
        // ALL: both replicas accepted it before the answer; each learns it is committed from the commit that
        // follows, not waited for (a read at ONE serves a replica's own committed value: eventual, PAXOS.md)
        for (NodeProcess w : List.of(w1, w2)) {
            Await.until("the ALL write's commit reaches " + w.uri(""), Duration.ofSeconds(10), () -> {
                HttpResponse<String> local = send(w, "GET", "/v1/kv/routed?consistency=ONE", null, null);
                return local.statusCode() == 200 && local.body().equals("through the proxy")
                        && local.headers().firstValue("ETag").orElse("").equals(etag);
            }, () -> "not yet on " + w.uri(""));
        }
        HttpResponse<String> read = send(proxy, "GET", "/v1/kv/routed", null, null);
        assertEquals(200, read.statusCode(), read.body());
        assertEquals("through the proxy", read.body());

        HttpResponse<String> cas = send(w1, "PUT", "/v1/kv/routed", "second", etag);
        assertEquals(204, cas.statusCode(), cas.body());
        String current = cas.headers().firstValue("ETag").orElseThrow();
        HttpResponse<String> stale = send(proxy, "PUT", "/v1/kv/routed", "lost race", etag);
        assertEquals(412, stale.statusCode(), stale.body());
        assertEquals(current, stale.headers().firstValue("ETag").orElseThrow());
        assertEquals("second", send(proxy, "GET", "/v1/kv/routed", null, null).body());

        // ONE: last-writer-wins, committed to every reachable replica, answered after the first
        HttpResponse<String> one = send(proxy, "PUT", "/v1/kv/lww?consistency=ONE", "at one", null);
        assertEquals(204, one.statusCode(), one.body());
        String oneTag = one.headers().firstValue("ETag").orElseThrow();
        for (NodeProcess w : List.of(w1, w2)) {
            Await.until("the ONE write reaches " + w.uri(""), Duration.ofSeconds(10), () -> {
                HttpResponse<String> r = send(w, "GET", "/v1/kv/lww?consistency=ONE", null, null);
                return r.statusCode() == 200 && r.body().equals("at one")
                        && r.headers().firstValue("ETag").orElse("").equals(oneTag);
            }, () -> "not yet on " + w.uri(""));
        }
        HttpResponse<String> oneCas = send(proxy, "PUT", "/v1/kv/lww?consistency=ONE", "stale", etag);
        assertEquals(412, oneCas.statusCode(), "a conditional ONE write is judged against a replica: " + oneCas.body());
        assertFalse(Files.exists(proxyDir), "the proxy opened no data directory");
        // the proxy's Paxos messages to the workers are in a latency histogram (buckets, so a p99 can be computed):
        // its QUORUM reads and its ONE write's commits; its QUORUM writes it forwarded to each key's first replica,
        // which coordinated them (nimbus.paxos.forward-writes, on by default)
        String metrics = send(proxy, "GET", "/q/metrics", null, null).body();
        String forwarded = metrics.lines().filter(l -> l.startsWith("nimbus_paxos_forwards_total{outcome=\"answered\"}"))
                .findFirst().orElseThrow(() -> new AssertionError("the proxy's /q/metrics counts no forwards"));
        assertTrue(Double.parseDouble(forwarded.substring(forwarded.lastIndexOf(' ') + 1)) >= 2,
                "the proxy forwarded its QUORUM writes and CAS: " + forwarded);
        for (String phase : List.of("read", "commit")) {
            String series = "nimbus_paxos_phase_duration_seconds_bucket{answered=\"true\",phase=\"" + phase + "\",le=\"+Inf\"} ";
            String line = metrics.lines().filter(l -> l.startsWith(series)).findFirst()
                    .orElseThrow(() -> new AssertionError("the proxy's /q/metrics has no " + series));
            double count = Double.parseDouble(line.substring(series.length()));
            assertTrue(count >= 1, phase + " messages were sent but none was timed: " + line);
            assertTrue(metrics.lines().filter(l -> l.startsWith("nimbus_paxos_phase_duration_seconds_bucket{answered=\"true\",phase=\""
                    + phase + "\"")).count() >= 10, "too few buckets for " + phase);
        }
        System.out.printf("[it] proxy routed PUT/GET/CAS to %s and %s%n", w1.uri(""), w2.uri(""));
    }

    private NodeProcess start(String name, int clusterPort, String[] common, String... more) throws Exception {
        return start(name, NodeProcess.newDataDir(name), clusterPort, common, more);
    }

    private NodeProcess start(String name, Path dir, int clusterPort, String[] common, String... more) throws Exception {
        List<String> props = new ArrayList<>(List.of(ClusterArgs.node(name, clusterPort).toArray()));
        props.addAll(List.of(common));
        props.addAll(List.of(more));
        NodeProcess n = NodeProcess.startReady(name, dir, props.toArray(String[]::new));
        all.add(n);
        return n;
    }

    private static HttpResponse<String> send(NodeProcess n, String method, String path, String body, String ifMatch)
            throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(n.uri(path)).timeout(Duration.ofSeconds(10))
                .method(method, body == null ? HttpRequest.BodyPublishers.noBody()
                        : HttpRequest.BodyPublishers.ofString(body, StandardCharsets.UTF_8));
        if (ifMatch != null) {
            b.header("If-Match", ifMatch);
        }
        return n.http().send(b.build(), HttpResponse.BodyHandlers.ofString());
    }

    private static String safeFetch(NodeProcess n, String path) {
        try {
            return n.fetch(path);
        } catch (Exception e) {
            return e.toString();
        }
    }
}
