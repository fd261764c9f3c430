package io.nimbus.tools;

import org.HdrHistogram.Histogram;

import java.io.PrintStream;
import java.net.URI;
import java.time.Duration;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.TreeMap;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A closed-loop load generator for the v1 API: N connections, each one thread with its own HTTP/1.1
 * connection, issuing PUT / GET / CAS (GET then PUT If-Match) over a keyspace, for a bounded time
 * and a bounded number of operations. Prints ops/s and latency percentiles (HdrHistogram).
 */
public final class LoadTool {

    static final String USAGE = """
            Usage: java -jar target/quarkus-app/quarkus-run.jar load [options]
              --url URL[,URL...]   base URL of a node, or of several: connection i uses URL i mod n
                                   (http://127.0.0.1:8080)
              --connections N      concurrent connections, one request in flight each (16)
              --duration-s S       measured seconds, after warm-up (10)
              --warmup-s S         unmeasured seconds first (2)
              --max-ops N          stop after N measured operations in all (10000000)
              --keys N             keyspace size (1000)
              --value-bytes N      bytes per written value (100)
              --mix SPEC           weights, e.g. put:1 | get:1 | cas:1 | put:20,get:80 (put:1)
              --consistency LEVEL  ONE, QUORUM or ALL (the node's default)
              --prefix P           key prefix (load-)
              --seed N             random seed for key choice (1)
              --token-file F       send 'Authorization: Bearer <first line of F>' (nimbus.api.auth.enabled
                                   nodes); default: the NIMBUS_API_TOKEN environment variable, else none
            https:// URLs verify the node's certificate against the JVM's trust store
            (-Djavax.net.ssl.trustStore=...).
            GET and CAS runs write every key once first (not measured).
            CAS counts one operation per GET+PUT If-Match pair; a 412 (lost race) is a conflict, not an error.
            Writes that took effect are reported per kind: with --keys 1 --mix put:1,cas:1 the line
            "cas share" is the fairness of compare-and-set against blind writers on one hot key.
            """;

    enum Op { PUT, GET, CAS }

    private LoadTool() {
    }

    record Options(List<URI> urls, int connections, int durationS, int warmupS, long maxOps, int keys, int valueBytes,
                   Map<Op, Integer> mix, String consistency, String prefix, long seed, String token) {
        @Override
        public String toString() { // never print the token
            return "Options[urls=" + urls + ", connections=" + connections + ", token=" + (token == null ? "none" : "set")
                    + "]";
        }
    }

    public static int run(String[] args, PrintStream out, PrintStream err) {
        return run(args, System.getenv("NIMBUS_API_TOKEN"), out, err);
    }

    /** {@code envToken}: the NIMBUS_API_TOKEN environment variable, used when no --token-file is given. */
    static int run(String[] args, String envToken, PrintStream out, PrintStream err) {
        Options o;
        try {
            o = parse(args, envToken);
        } catch (IllegalArgumentException e) {
            err.println("load: " + e.getMessage());
            err.print(USAGE);
            return 2;
        }
        if (o == null) {
            out.print(USAGE);
            return 0;
        }
        try {
            return new Runner(o, out).run();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            err.println("load: interrupted");
            return 1;
        }
    }

    static Options parse(String[] args, String envToken) {
        Map<String, String> a = new LinkedHashMap<>();
        for (int i = 0; i < args.length; i++) {
            if (args[i].equals("--help") || args[i].equals("-h")) {
                return null;
            }
            if (!args[i].startsWith("--") || i + 1 >= args.length) {
                throw new IllegalArgumentException("expected --option value, got '" + args[i] + "'");
            }
            a.put(args[i].substring(2), args[++i]);
        }
        Map<Op, Integer> mix = new EnumMap<>(Op.class);
        for (String part : a.getOrDefault("mix", "put:1").split(",")) {
            String[] kv = part.split(":");
            try {
                mix.put(Op.valueOf(kv[0].trim().toUpperCase(Locale.ROOT)), kv.length > 1 ? Integer.parseInt(kv[1].trim()) : 1);
            } catch (IllegalArgumentException | ArrayIndexOutOfBoundsException e) {
                throw new IllegalArgumentException("bad --mix part '" + part + "': use put:W,get:W,cas:W");
            }
        }
        List<URI> urls = new ArrayList<>();
        for (String u : a.getOrDefault("url", "http://127.0.0.1:8080").split(",")) {
            urls.add(URI.create(u.trim().replaceAll("/+$", "")));
        }
        Options o = new Options(List.copyOf(urls),
                positive(a, "connections", 16), positive(a, "duration-s", 10), nonNegative(a, "warmup-s", 2),
                Long.parseLong(a.getOrDefault("max-ops", "10000000")), positive(a, "keys", 1000),
                nonNegative(a, "value-bytes", 100), mix, a.get("consistency"), a.getOrDefault("prefix", "load-"),
                Long.parseLong(a.getOrDefault("seed", "1")), token(a.get("token-file"), envToken));
        a.keySet().removeAll(List.of("url", "connections", "duration-s", "warmup-s", "max-ops", "keys", "value-bytes",
                "mix", "consistency", "prefix", "seed", "token-file"));
        if (!a.isEmpty()) {
            throw new IllegalArgumentException("unknown options " + a.keySet());
        }
        if (mix.values().stream().mapToInt(Integer::intValue).sum() <= 0) {
            throw new IllegalArgumentException("--mix weights must add up to more than 0");
        }
        return o;
    }

    private static String token(String file, String envToken) {
        if (file == null) {
            return envToken == null || envToken.isBlank() ? null : envToken.trim();
        }
        List<String> lines;
        try {
            lines = java.nio.file.Files.readAllLines(java.nio.file.Path.of(file), java.nio.charset.StandardCharsets.UTF_8);
        } catch (java.io.IOException e) {
            throw new IllegalArgumentException("cannot read --token-file " + file + ": " + e.getMessage(), e);
        }
        if (lines.isEmpty() || lines.get(0).isBlank()) {
            throw new IllegalArgumentException("--token-file " + file + " is empty: put the token on its first line");
        }
        return lines.get(0).trim();
    }

    private static int positive(Map<String, String> a, String name, int dflt) {
        int v = nonNegative(a, name, dflt);
        if (v == 0) {
            throw new IllegalArgumentException("--" + name + " must be > 0");
        }
        return v;
    }

    private static int nonNegative(Map<String, String> a, String name, int dflt) {
        int v;
        try {
            v = Integer.parseInt(a.getOrDefault(name, Integer.toString(dflt)));
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("--" + name + " takes a whole number");
        }
        if (v < 0) {
            throw new IllegalArgumentException("--" + name + " must be >= 0");
        }
        return v;
    }

    private static final class Runner {
        private final Options o;
        private final PrintStream out;
        private final AtomicLong measuredOps = new AtomicLong();

        Runner(Options o, PrintStream out) {
            this.o = o;
            this.out = out;
        }

        int run() throws InterruptedException {
            out.printf("target %s  connections=%d  warmup=%ds  duration=%ds  keys=%d  value=%dB  mix=%s  consistency=%s%n",
                    o.urls(), o.connections(), o.warmupS(), o.durationS(), o.keys(), o.valueBytes(), o.mix(),
                    o.consistency() == null ? "(node default)" : o.consistency());
            if (o.mix().getOrDefault(Op.GET, 0) > 0 || o.mix().getOrDefault(Op.CAS, 0) > 0) {
                preload();
            }
            long now = System.nanoTime();
            long measureFrom = now + Duration.ofSeconds(o.warmupS()).toNanos();
            long stopAt = measureFrom + Duration.ofSeconds(o.durationS()).toNanos();
            List<Worker> workers = new ArrayList<>();
            for (int i = 0; i < o.connections(); i++) {
                workers.add(new Worker(i, measureFrom, stopAt));
            }
            List<Thread> threads = new ArrayList<>();
            for (Worker w : workers) {
                Thread t = new Thread(w, "load-" + w.id);
                t.start();
                threads.add(t);
            }
            for (Thread t : threads) {
                t.join();
            }
            report(workers, measureFrom);
            return 0;
        }

        private void preload() throws InterruptedException {
            long start = System.nanoTime();
            List<Thread> threads = new ArrayList<>();
            AtomicLong failures = new AtomicLong();
            for (int c = 0; c < o.connections(); c++) {
                int first = c;
                Thread t = new Thread(() -> {
                    Client client = new Client(o, first);
                    for (int k = first; k < o.keys(); k += o.connections()) {
                        int status = client.put(k, null, null).status;
                        if (status != 204) {
                            failures.incrementAndGet();
                        }
                    }
                }, "preload-" + c);
                t.start();
                threads.add(t);
            }
            for (Thread t : threads) {
                t.join();
            }
            out.printf("preloaded %d keys in %.1fs (%d failed)%n", o.keys(), (System.nanoTime() - start) / 1e9, failures.get());
        }

        private void report(List<Worker> workers, long measureFrom) {
            Map<Op, Histogram> hist = new EnumMap<>(Op.class);
            Map<String, Long> statuses = new TreeMap<>();
            long errors = 0;
            long conflicts = 0;
            long lastEnd = measureFrom;
            long putsApplied = 0;
            long putsTried = 0;
            long casApplied = 0;
            long casTried = 0;
            for (Worker w : workers) {
                putsApplied += w.putsApplied;
                putsTried += w.putsTried;
                casApplied += w.casApplied;
                casTried += w.casTried;
                w.hist.forEach((op, h) -> hist.computeIfAbsent(op, x -> new Histogram(3)).add(h));
                w.statuses.forEach((s, n) -> statuses.merge(s, n, Long::sum));
                errors += w.errors;
                conflicts += w.conflicts;
                lastEnd = Math.max(lastEnd, w.lastEnd);
            }
            double seconds = Math.max(1e-9, (lastEnd - measureFrom) / 1e9);
            out.printf("%-6s %10s %10s %9s %9s %9s %9s%n", "op", "count", "ops/s", "p50 ms", "p99 ms", "p99.9 ms", "max ms");
            Histogram all = new Histogram(3);
            for (Map.Entry<Op, Histogram> e : hist.entrySet()) {
                line(e.getKey().name().toLowerCase(Locale.ROOT), e.getValue(), seconds);
                all.add(e.getValue());
            }
            line("total", all, seconds);
            out.printf("measured %.2fs  statuses %s  cas-conflicts(412) %d  errors %d%n", seconds, statuses, conflicts, errors);
            if (casTried > 0) {
                out.printf("cas share: %d of %d compare-and-sets applied (%.1f%%), %d of %d blind puts applied (%.1f%%); "
                                + "cas made %.1f%% of the %d writes that took effect%n",
                        casApplied, casTried, 100.0 * casApplied / casTried, putsApplied, putsTried,
                        putsTried == 0 ? 0.0 : 100.0 * putsApplied / putsTried,
                        casApplied + putsApplied == 0 ? 0.0 : 100.0 * casApplied / (casApplied + putsApplied),
                        casApplied + putsApplied);
            }
        }

        private void line(String name, Histogram h, double seconds) {
            out.printf("%-6s %10d %10.0f %9.3f %9.3f %9.3f %9.3f%n", name, h.getTotalCount(), h.getTotalCount() / seconds,
                    h.getValueAtPercentile(50) / 1e3, h.getValueAtPercentile(99) / 1e3,
                    h.getValueAtPercentile(99.9) / 1e3, h.getMaxValue() / 1e3);
        }

        private final class Worker implements Runnable {
            final int id;
            final long measureFrom;
            final long stopAt;
            final Map<Op, Histogram> hist = new EnumMap<>(Op.class);
            final Map<String, Long> statuses = new TreeMap<>();
            long errors;
            long conflicts;
            long lastEnd;
            /** Measured writes: blind PUTs and CAS PUTs (If-Match) sent, and those answered 204. */
            long putsTried;
            long putsApplied;
            long casTried;
            long casApplied;
            boolean measuring;

            Worker(int id, long measureFrom, long stopAt) {
                this.id = id;
                this.measureFrom = measureFrom;
                this.stopAt = stopAt;
            }

            @Override
            public void run() {
                Client client = new Client(o, id);
                SplittableRandom random = new SplittableRandom(o.seed() * 1_000_003L + id);
                int total = o.mix().values().stream().mapToInt(Integer::intValue).sum();
                while (true) {
                    long start = System.nanoTime();
                    if (start >= stopAt) {
                        return;
                    }
                    int pick = random.nextInt(total);
                    Op op = null;
                    for (Map.Entry<Op, Integer> e : o.mix().entrySet()) {
                        pick -= e.getValue();
                        if (pick < 0) {
                            op = e.getKey();
                            break;
                        }
                    }
                    int key = random.nextInt(o.keys());
                    measuring = start >= measureFrom;
                    boolean ok;
                    try {
                        ok = execute(client, op, key);
                    } catch (RuntimeException e) {
                        statuses.merge("exception", 1L, Long::sum);
                        ok = false;
                    }
                    long end = System.nanoTime();
                    if (start >= measureFrom) {
                        if (measuredOps.incrementAndGet() > o.maxOps()) {
                            return;
                        }
                        if (ok) {
                            hist.computeIfAbsent(op, x -> new Histogram(3)).recordValue((end - start) / 1000);
                        } else {
                            errors++;
                        }
                        lastEnd = end;
                    }
                }
            }

            private boolean execute(Client client, Op op, int key) {
                switch (op) {
                    case PUT -> {
                        int status = client.put(key, null, null).status;
                        if (measuring) {
                            putsTried++;
                            putsApplied += status == 204 ? 1 : 0;
                        }
                        return count(status, 204);
                    }
                    case GET -> {
                        return count(client.get(key).status, 200);
                    }
                    default -> {
                        Client.Result read = client.get(key);
                        if (!count(read.status, 200)) {
                            return false;
                        }
                        int status = client.put(key, read.etag, null).status;
                        if (measuring) {
                            casTried++;
                            casApplied += status == 204 ? 1 : 0;
                        }
                        if (status == 412) {
                            conflicts++;
                            statuses.merge("412", 1L, Long::sum);
                            return true;
                        }
                        return count(status, 204);
                    }
                }
            }

            private boolean count(int status, int expected) {
                statuses.merge(Integer.toString(status), 1L, Long::sum);
                return status == expected;
            }
        }
    }

    /** One HTTP/1.1 connection's worth of client. */
    static final class Client {
        record Result(int status, String etag) {
        }

        private final HttpConnection http;
        private final Options o;
        private final String base;
        private final byte[] value;

        /** A connection to URL {@code index mod n} of the options. */
        Client(Options o, int index) {
            this.o = o;
            URI url = o.urls().get(index % o.urls().size());
            this.http = new HttpConnection(url, 30_000);
            String path = url.getRawPath() == null ? "" : url.getRawPath();
            this.base = path + "/v1/kv/" + o.prefix();
            this.value = new byte[o.valueBytes()];
            for (int i = 0; i < value.length; i++) {
                value[i] = (byte) ('a' + i % 26);
            }
        }

        private String[] withToken(String... headers) {
            if (o.token() == null) {
                return headers;
            }
            String[] all = java.util.Arrays.copyOf(headers, headers.length + 2);
            all[headers.length] = "Authorization";
            all[headers.length + 1] = "Bearer " + o.token();
            return all;
        }

        private String target(int key) {
            return base + key + (o.consistency() == null ? "" : "?consistency=" + o.consistency());
        }

        Result put(int key, String ifMatch, String ifNoneMatch) {
            String[] headers = ifMatch != null
                    ? new String[]{"Content-Type", "application/octet-stream", "If-Match", ifMatch}
                    : ifNoneMatch != null
                    ? new String[]{"Content-Type", "application/octet-stream", "If-None-Match", ifNoneMatch}
                    : new String[]{"Content-Type", "application/octet-stream"};
            return send("PUT", target(key), withToken(headers), value);
        }

        Result get(int key) {
            return send("GET", target(key), withToken(), null);
        }

        private Result send(String method, String target, String[] headers, byte[] body) {
            try {
                HttpConnection.Response r = http.exchange(method, target, headers, body);
                return new Result(r.status(), r.etag());
            } catch (java.io.IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
        }
    }
}
