package io.nimbus.it;

import io.nimbus.lin.History;
import io.nimbus.lin.Observed;
import io.nimbus.lin.Op;
import io.nimbus.lin.Output;

import java.io.IOException;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Supplier;

/**
 * The client side of the Jepsen-style tests ({@link JepsenIT}, {@link TopologyJepsenIT}): concurrent
 * clients doing QUORUM reads, writes, compare-and-sets, creates and deletes on a few hot keys (a fresh
 * set every key period, as Jepsen's independent keys), each operation recorded in one {@link History}
 * (the ETag is the version) with the node it was sent to; counters of what the nodes answered; the final
 * reads; the history file.
 *
 * <p>How an answer becomes an outcome: 2xx with an ETag (or a delete) is ok; 412 of a conditional
 * operation and 404 of a delete are rejections that observed the state the answer names (QUORUM: the
 * refusal comes from the linearized state); 503 is a failure (nothing was written); 504, a time-out or a
 * connection error leaves a write indeterminate (a read that did not answer changed nothing).
 */
final class JepsenClients {
    static final Duration CLIENT_TIMEOUT = Duration.ofMillis(3000);

    /** One answered (or unanswered) request, for a test that wants more than the history and counters. */
    record Answer(String client, Op op, String node, long invoke, long end, int status, String problemType,
                  String detail, String error) {
        boolean isWrite() {
            return !(op instanceof Op.Read);
        }

        /** A write whose outcome the client cannot know: 504, a time-out or a connection error. */
        boolean outcomeUnknown() {
            return isWrite() && (status == 504 || status == -1);
        }
    }

    interface Listener {
        void answered(Answer answer);
    }

    private final Object lock = new Object();
    private final History history = new History();
    /** The node each operation was sent to, by operation id (ids are given in invocation order from 0). */
    private final List<String> nodeOfOp = new ArrayList<>();
    private volatile boolean recording = true;
    /** Set by {@link #stopClients()}: every client ends after its current operation. */
    private volatile boolean stopped;
    private final Map<String, AtomicLong> counts = Collections.synchronizedMap(new HashMap<>());
    private final Set<String> usedKeys = ConcurrentHashMap.newKeySet();
    private final String keyPrefix;
    private final int keyCount;
    private final long keyPeriodNanos;
    private volatile long t0 = System.nanoTime();
    private volatile Listener listener;

    /** Hot keys {@code <keyPrefix><i>} ({@code i < keyCount}), a fresh generation every {@code keyPeriod}. */
    JepsenClients(String keyPrefix, int keyCount, Duration keyPeriod) {
        this.keyPrefix = keyPrefix;
        this.keyCount = keyCount;
        this.keyPeriodNanos = keyPeriod.toNanos();
    }

    /** History time 0 is now (and key generation 0 starts now). */
    void startClock() {
        t0 = System.nanoTime();
    }

    void listener(Listener l) {
        this.listener = l;
    }

    int keyCount() {
        return keyCount;
    }

    long keyPeriodNanos() {
        return keyPeriodNanos;
    }

    History history() {
        return history;
    }

    /** Every hot key used so far, sorted. */
    List<String> usedKeys() {
        return new ArrayList<>(new TreeSet<>(usedKeys));
    }

    /** Stops recording: operations still running stay pending (indeterminate). */
    void stopRecording() {
        synchronized (lock) {
            recording = false;
        }
    }

    /** Every client ends after its current operation (before its {@code end}). */
    void stopClients() {
        stopped = true;
    }

    /** A client that runs until {@code end} (nanoTime), each operation on a node drawn from {@code targets}. */
    Client client(String name, Random random, Supplier<List<LocalCluster.Node>> targets, long end) {
        return new Client(name, random, targets, end);
    }

    final class Client {
        final String name;
        final Random random;
        final Supplier<List<LocalCluster.Node>> targets;
        final long end;
        final HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
                .connectTimeout(Duration.ofSeconds(1)).build();
        /** The last version this client saw per key (absent: none, or the key was absent). */
        final Map<String, String> known = new HashMap<>();
        int seq;

        private Client(String name, Random random, Supplier<List<LocalCluster.Node>> targets, long end) {
            this.name = name;
            this.random = random;
            this.targets = targets;
            this.end = end;
        }

        void run() {
            try {
                while (!stopped && System.nanoTime() < end) {
                    String key = keyFor(random.nextInt(keyCount));
                    List<LocalCluster.Node> nodes = targets.get();
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
            long invoked;
            synchronized (lock) {
                if (!recording) {
                    return;
                }
                invoked = now();
                history.invoke(name, op, invoked);
                nodeOfOp.add(node.name);
            }
            HttpResponse<String> r;
            try {
                r = http.send(req.build(), HttpResponse.BodyHandlers.ofString());
            } catch (IOException e) { // time-out, refused, reset: a write may or may not have happened
                count(e instanceof java.net.http.HttpTimeoutException ? "client-timeout" : "client-io-error");
                end(op, null, null, false);
                tell(op, node, invoked, -1, null, null, e.getClass().getSimpleName());
                Thread.sleep(50); // a real client backs off a little from a node it cannot reach
                return;
            }
            record(op, r);
            tell(op, node, invoked, r.statusCode(), r.statusCode() >= 500 ? KvClient.problemType(r) : null,
                    r.statusCode() >= 500 ? problemDetail(r.body()) : null, null);
            if (r.statusCode() == 503) {
                Thread.sleep(50);
            }
        }

        private void tell(Op op, LocalCluster.Node node, long invoked, int status, String problemType, String detail,
                          String error) {
            Listener l = listener;
            if (l != null) {
                l.answered(new Answer(name, op, node.name, invoked, now(), status, problemType, detail, error));
            }
        }

        void record(Op op, HttpResponse<String> r) {
            int status = r.statusCode();
            String etag = r.headers().firstValue("ETag").map(JepsenClients::version).orElse(null);
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
    Map<String, String> finalReads(List<LocalCluster.Node> nodes, List<String> keys) throws InterruptedException {
        Map<String, String> finals = new java.util.TreeMap<>();
        for (int i = 0; i < keys.size(); i++) {
            String key = keys.get(i);
            Client reader = new Client("final-" + key, new Random(i), () -> nodes, 0);
            for (int attempt = 0; attempt < 20 && !finals.containsKey(key); attempt++) {
                LocalCluster.Node node = nodes.get((i + attempt) % nodes.size());
                String got = readOnce(reader, node, key);
                if (got != null) {
                    finals.put(key, got);
                }
                if (!finals.containsKey(key)) {
                    Thread.sleep(500);
                }
            }
        }
        return finals;
    }

    /**
     * A recorded QUORUM read of {@code key} through {@code node}, retried (each attempt recorded) until it
     * answers 200 or 404, at most {@code attempts} times: {@code value@"etag"}, {@code absent}, or null.
     */
    String readThrough(String reader, LocalCluster.Node node, String key, int attempts) throws InterruptedException {
        Client c = new Client(reader, new Random(0), () -> List.of(node), 0);
        for (int attempt = 0; attempt < attempts; attempt++) {
            String got = readOnce(c, node, key);
            if (got != null) {
                return got;
            }
            Thread.sleep(500);
        }
        return null;
    }

    private String readOnce(Client reader, LocalCluster.Node node, String key) {
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
                return r.body() + "@" + r.headers().firstValue("ETag").orElse("?");
            } else if (r.statusCode() == 404) {
                return "absent";
            }
        } catch (IOException e) {
            reader.end(Op.read(key), null, null, true);
        } catch (InterruptedException e) {
            reader.end(Op.read(key), null, null, true);
            Thread.currentThread().interrupt();
        }
        return null;
    }

    /** Hot key {@code i} of the current key generation (a fresh set every key period). */
    private String keyFor(int i) {
        long generation = (System.nanoTime() - t0) / keyPeriodNanos;
        String key = generation == 0 ? keyPrefix + i : keyPrefix + i + "-g" + generation;
        usedKeys.add(key);
        return key;
    }

    void writeHistory(Path runDir) throws IOException {
        List<String> lines = new ArrayList<>();
        lines.add("# [invoke, response] in microseconds since the workload started; in invocation order; @ the node asked");
        synchronized (lock) {
            history.operations().forEach(o -> lines.add(o + "   @" + nodeOfOp.get(o.id())));
        }
        Files.write(runDir.resolve("history.txt"), lines);
    }

    /** The node operation {@code id} was sent to. */
    String nodeOf(int id) {
        synchronized (lock) {
            return nodeOfOp.get(id);
        }
    }

    /** History time: microseconds since the workload started (equal times count as concurrent). */
    long now() {
        return (System.nanoTime() - t0) / 1000;
    }

    /** Seconds since the workload started. */
    double seconds() {
        return (System.nanoTime() - t0) / 1e9;
    }

    void count(String what) {
        counts.computeIfAbsent(what, k -> new AtomicLong()).incrementAndGet();
    }

    long countOf(String what) {
        AtomicLong a = counts.get(what);
        return a == null ? 0 : a.get();
    }

    Map<String, Long> snapshotCounts() {
        synchronized (counts) {
            Map<String, Long> m = new HashMap<>();
            counts.forEach((k, v) -> m.put(k, v.get()));
            return m;
        }
    }

    /** The {@code detail} of a problem body (or the body's start), at most 300 characters. */
    private static String problemDetail(String body) {
        String d = body;
        try {
            d = new com.fasterxml.jackson.databind.ObjectMapper().readTree(body).path("detail").asText(body);
        } catch (IOException e) {
            // not JSON: the body itself
        }
        return d.length() > 300 ? d.substring(0, 300) + "..." : d;
    }

    static String version(String etag) {
        String t = etag.trim();
        return t.length() >= 2 && t.startsWith("\"") && t.endsWith("\"") ? t.substring(1, t.length() - 1) : t;
    }
}
