package io.nimbus.it;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;

/**
 * Workers on fixed HTTP and cluster ports, each seeded with all the others (as in ReplicationIT), so
 * that one can be killed with {@code kill -9} and restarted on the same data directory and ports,
 * possibly with different settings. Every process it starts is tracked and killed by {@link #close()}.
 */
final class FixedPortCluster implements AutoCloseable {
    static final String INTERVAL = "200ms";
    static final String FAILURE_TIMEOUT = "1s";
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String PROBLEM = "urn:nimbus:problem:";

    private final String label;
    private final int size;
    final String[] ids;
    final Path[] dirs;
    final int[] clusterPorts;
    final int[] httpPorts;
    final NodeProcess[] nodes;
    private final List<NodeProcess> started = new ArrayList<>();

    FixedPortCluster(String label, int size) throws IOException {
        this.label = label;
        this.size = size;
        ids = new String[size];
        dirs = new Path[size];
        clusterPorts = new int[size];
        httpPorts = new int[size];
        nodes = new NodeProcess[size];
        for (int i = 0; i < size; i++) {
            ids[i] = label + (i + 1);
            dirs[i] = NodeProcess.newDataDir(label + "-" + ids[i]);
            clusterPorts[i] = NodeProcess.freePort();
            httpPorts[i] = NodeProcess.freePort();
        }
    }

    /** Starts every worker (with {@code extra} system properties, e.g. {@code nimbus.replication-factor=3}). */
    void startAll(String... extra) throws IOException {
        for (int i = 0; i < size; i++) {
            start(i, "", extra);
        }
    }

    /** Starts worker {@code i} on its data directory and ports; returns without waiting. */
    NodeProcess start(int i, String nameSuffix, String... extra) throws IOException {
        nodes[i] = NodeProcess.startOnPort(label + "-" + ids[i] + nameSuffix, dirs[i], httpPorts[i], args(i, extra));
        started.add(nodes[i]);
        return nodes[i];
    }

    private String[] args(int i, String... extra) {
        int[] others = new int[size - 1];
        for (int j = 0, o = 0; j < size; j++) {
            if (j != i) {
                others[o++] = clusterPorts[j];
            }
        }
        List<String> props = new ArrayList<>(List.of(ClusterArgs.node(ids[i], clusterPorts[i])
                .gossip(INTERVAL, FAILURE_TIMEOUT).seeds(others).seedBackoffMax("1s").bootstrap(i == 0).toArray()));
        props.addAll(Arrays.asList(extra));
        return props.toArray(String[]::new);
    }

    void awaitReady(Duration timeout) throws InterruptedException {
        for (NodeProcess n : nodes) {
            n.awaitReady(timeout);
        }
    }

    /**
     * Waits until every node lists every worker reachable and has a ring of all the workers; if
     * {@code generationAbove[i] >= 0}, also until every node sees worker {@code i} with a higher
     * generation than that (it restarted). Returns the milliseconds it took.
     */
    long awaitConverged(Duration timeout, long... generationAbove) throws InterruptedException {
        Set<String> everyone = new TreeSet<>(List.of(ids));
        return Await.until("every node sees " + everyone + " reachable and a ring of " + size + " workers", timeout,
                () -> {
                    for (NodeProcess n : nodes) {
                        if (!n.isAlive()) {
                            throw new AssertionError(n + " died; log " + n.logFile() + ":\n" + n.tail(40));
                        }
                        ClusterView v = ClusterView.of(n);
                        if (!v.isExactlyReachable(everyone)) {
                            return false;
                        }
                        for (int i = 0; i < generationAbove.length; i++) {
                            if (generationAbove[i] >= 0
                                    && v.member(ids[i]).orElseThrow().generation() <= generationAbove[i]) {
                                return false;
                            }
                        }
                        if (ring(n).get("workers").size() != size) {
                            return false;
                        }
                    }
                    return true;
                }, this::views);
    }

    /**
     * Waits until every node acknowledges a QUORUM write (of {@code keyPrefix + index}); 503 and 504
     * answers are retried, anything else fails. Returns the milliseconds it took.
     */
    long awaitWritable(String keyPrefix, Duration timeout) throws InterruptedException {
        HttpClient http = newClient();
        long start = System.nanoTime();
        for (int i = 0; i < size; i++) {
            NodeProcess n = nodes[i];
            String key = keyPrefix + i;
            Await.until(n + " acknowledges a QUORUM write", timeout, () -> {
                HttpResponse<String> r = put(http, n, key, "ready", "QUORUM", Duration.ofSeconds(8));
                if (r.statusCode() == 503 || r.statusCode() == 504) {
                    return false;
                }
                if (r.statusCode() != 204) {
                    throw new AssertionError("PUT " + key + " at QUORUM through " + n + ": " + r.statusCode() + " "
                            + r.body());
                }
                return true;
            }, this::views);
        }
        return ms(System.nanoTime() - start);
    }

    /** {@code GET /v1/cluster/ring} of {@code n}, parsed. */
    static JsonNode ring(NodeProcess n) throws IOException, InterruptedException {
        return JSON.readTree(n.fetch("/v1/cluster/ring"));
    }

    /** The generation of worker {@code i} as node {@code observer} sees it. */
    long generationOf(int i, int observer) throws IOException, InterruptedException {
        return ClusterView.of(nodes[observer]).member(ids[i]).orElseThrow().generation();
    }

    /** Waits until every node but {@code i} marks worker {@code i} unreachable; returns the milliseconds. */
    long awaitUnreachable(int i, Duration timeout) throws InterruptedException {
        return Await.until("every other node marks " + ids[i] + " unreachable", timeout, () -> {
            for (int j = 0; j < size; j++) {
                if (j != i && ClusterView.of(nodes[j]).member(ids[i]).map(ClusterView.Member::reachable).orElse(true)) {
                    return false;
                }
            }
            return true;
        }, this::views);
    }

    /**
     * Connects to {@code port} on 127.0.0.1 every {@code pollMs} until it accepts a TCP connection;
     * fails if {@code node} exits or {@code timeout} passes. Returns {@link System#nanoTime()} at the
     * first accepted connection.
     */
    static long awaitPortOpen(NodeProcess node, int port, long pollMs, Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (true) {
            try (Socket s = new Socket()) {
                s.connect(new InetSocketAddress("127.0.0.1", port), 100);
                return System.nanoTime();
            } catch (IOException notYet) {
                // refused: not listening yet
            }
            if (!node.isAlive()) {
                throw new AssertionError(node + " exited before its HTTP port opened; log " + node.logFile() + ":\n"
                        + node.tail(40));
            }
            if (System.nanoTime() > deadline) {
                throw new AssertionError(node + ": HTTP port " + port + " did not accept connections within " + timeout
                        + "; log " + node.logFile() + ":\n" + node.tail(40));
            }
            Thread.sleep(pollMs);
        }
    }

    static HttpClient newClient() {
        return HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).connectTimeout(Duration.ofSeconds(2))
                .build();
    }

    /** {@code PUT /v1/kv/{key}?consistency=level}. */
    static HttpResponse<String> put(HttpClient http, NodeProcess n, String key, String value, String level,
                                    Duration timeout) throws IOException, InterruptedException {
        return http.send(HttpRequest.newBuilder(URI.create(n.kvUri(key) + "?consistency=" + level)).timeout(timeout)
                .PUT(HttpRequest.BodyPublishers.ofString(value, StandardCharsets.UTF_8)).build(),
                HttpResponse.BodyHandlers.ofString());
    }

    /** {@code GET /v1/kv/{key}?consistency=level}. */
    static HttpResponse<String> get(HttpClient http, NodeProcess n, String key, String level, Duration timeout)
            throws IOException, InterruptedException {
        return http.send(HttpRequest.newBuilder(URI.create(n.kvUri(key) + "?consistency=" + level)).timeout(timeout)
                .GET().build(), HttpResponse.BodyHandlers.ofString());
    }

    /**
     * Patience for a series of read-backs: 503/504 answers and unanswered requests (no verdict on the
     * key) are retried while retries are left; nothing is asked once the whole time is up.
     */
    static final class ReadBudget {
        private final long retryUntil;
        private final long giveUpAt;

        ReadBudget(Duration retrying, Duration total) {
            long now = System.nanoTime();
            retryUntil = now + retrying.toNanos();
            giveUpAt = now + total.toNanos();
        }
    }

    /**
     * Reads {@code key} at QUORUM through {@code reader}: null if it holds {@code value} with
     * {@code etag}, else what was found ({@code MISSING (404)}, another value, or the last non-answer).
     */
    static String readBack(HttpClient http, NodeProcess reader, String key, String value, String etag,
                           Duration timeout, ReadBudget budget) throws InterruptedException {
        String outcome = "not read: out of time for the read-backs";
        while (System.nanoTime() < budget.giveUpAt) {
            try {
                HttpResponse<String> r = get(http, reader, key, "QUORUM", timeout);
                String got = r.headers().firstValue("ETag").orElse(null);
                if (r.statusCode() == 200) {
                    return value.equals(r.body()) && etag.equals(got) ? null
                            : "read " + r.body() + " " + got + " instead of " + value + " " + etag;
                }
                if (r.statusCode() == 404) {
                    return "MISSING (404)";
                }
                outcome = "answered " + r.statusCode() + " " + problemType(r);
            } catch (IOException e) {
                outcome = "no answer: " + e;
            }
            if (System.nanoTime() >= budget.retryUntil) {
                return outcome + " (no retries left)";
            }
            Thread.sleep(100); // no verdict on the key: ask again
        }
        return outcome;
    }

    /** The problem type's last segment ({@code not-enough-replicas}), or a {@code <...>} note if there is none. */
    static String problemType(HttpResponse<String> r) {
        String ct = r.headers().firstValue("Content-Type").orElse("");
        if (!ct.startsWith("application/problem+json")) {
            return "<no problem body: Content-Type " + ct + ">";
        }
        try {
            String type = JSON.readTree(r.body()).path("type").asText("");
            return type.startsWith(PROBLEM) ? type.substring(PROBLEM.length()) : "<type " + type + ">";
        } catch (IOException e) {
            return "<problem body not JSON>";
        }
    }

    /**
     * What each node holds for {@code key} on its own replica (a {@code ONE} read is served by the
     * receiving worker's own replica first), for failure messages; best effort.
     */
    String localCopies(HttpClient http, String key) {
        StringBuilder b = new StringBuilder();
        for (int i = 0; i < size; i++) {
            b.append(i == 0 ? "" : ", ").append(ids[i]).append('=');
            NodeProcess n = nodes[i];
            if (n == null || !n.isAlive()) {
                b.append("down");
                continue;
            }
            try {
                HttpResponse<String> r = get(http, n, key, "ONE", Duration.ofSeconds(2));
                b.append(r.statusCode() == 200 ? "has it" : r.statusCode() == 404 ? "404" : r.statusCode() + "");
            } catch (Exception e) {
                b.append(e.getClass().getSimpleName());
            }
        }
        return b.toString();
    }

    String views() {
        return ClusterView.views(Arrays.asList(nodes));
    }

    static long ms(long nanos) {
        return TimeUnit.NANOSECONDS.toMillis(nanos);
    }

    @Override
    public void close() {
        NodeProcess.closeAll(started);
    }
}
