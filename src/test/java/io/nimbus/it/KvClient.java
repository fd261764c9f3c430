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
import java.time.Duration;
import java.util.concurrent.TimeUnit;

/** The HTTP side of the process-level tests: KV requests with time-outs, read-backs, problem types, port probes. */
final class KvClient {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String PROBLEM = "urn:nimbus:problem:";

    private KvClient() {
    }

    /** {@code GET /v1/cluster/ring} of {@code n}, parsed. */
    static JsonNode ring(NodeProcess n) throws IOException, InterruptedException {
        return JSON.readTree(n.fetch("/v1/cluster/ring"));
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
        return http.send(n.request(URI.create(n.kvUri(key) + "?consistency=" + level)).timeout(timeout)
                .PUT(HttpRequest.BodyPublishers.ofString(value, StandardCharsets.UTF_8)).build(),
                HttpResponse.BodyHandlers.ofString());
    }

    /** {@code GET /v1/kv/{key}?consistency=level}. */
    static HttpResponse<String> get(HttpClient http, NodeProcess n, String key, String level, Duration timeout)
            throws IOException, InterruptedException {
        return http.send(n.request(URI.create(n.kvUri(key) + "?consistency=" + level)).timeout(timeout)
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

    static long ms(long nanos) {
        return TimeUnit.NANOSECONDS.toMillis(nanos);
    }
}
