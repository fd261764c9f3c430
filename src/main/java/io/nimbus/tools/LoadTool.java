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
import java.util.concurrent.locks.LockSupport;
import java.util.function.IntFunction;

/**
 * A load generator for Nimbus's v1 API or etcd's v3 JSON gateway: N connections, each one thread with its own
 * HTTP/1.1 connection and one request in flight, issuing PUT / GET / CAS (GET then a conditional PUT) over a
 * keyspace, for a bounded time and a bounded number of operations. Prints ops/s and latency percentiles
 * (HdrHistogram).
 * <p>
 * Closed loop by default: each connection sends its next request when the last one is answered, so a stall
 * delays the requests that would have been sent meanwhile and they are never measured (coordinated omission:
 * the percentiles are those of the requests sent, not of a client arriving at a fixed rate). With
 * {@code --rate} it is open loop: each connection has a schedule of intended send times and a request's
 * latency runs from its intended time, so a stall is charged to every request it delayed; intended sends still
 * owed {@link #CUT_OFF_GRACE_NS} after the run's end are cut off, recorded as lower bounds and counted.
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
              --consistency LEVEL  ONE, QUORUM or ALL (the node's default; Nimbus only)
              --target STORE       nimbus (the v1 API) or etcd (v3 JSON gateway at the URLs: put, linearizable
                                   range, and CAS as range then a txn comparing mod_revision) (nimbus)
              --rate N             open loop: N requests/s in all, spread evenly over the connections, latency
                                   measured from each request's intended send time (0: closed loop) (0)
              --route WAY          spread: each connection picks any key; key: each connection picks only keys
                                   whose coordinator (first replica, GET /v1/cluster/ring) is its URL's node, so
                                   no QUORUM write is forwarded, as a token-aware client would (spread; Nimbus)
              --prefix P           key prefix (load-)
              --seed N             random seed for key choice (1)
              --token-file F       send 'Authorization: Bearer <first line of F>' (nimbus.api.auth.enabled
                                   nodes); default: the NIMBUS_API_TOKEN environment variable, else none
            https:// URLs verify the node's certificate against the JVM's trust store
            (-Djavax.net.ssl.trustStore=...).
            GET and CAS runs write every key once first (not measured).
            CAS counts one operation per GET+PUT If-Match pair (etcd: range+txn); a 412 (etcd: the txn's compare
            failed) is a lost race, a conflict, not an error.
            Writes that took effect are reported per kind: with --keys 1 --mix put:1,cas:1 the line
            "cas share" is the fairness of compare-and-set against blind writers on one hot key.
            """;

    enum Op { PUT, GET, CAS }

    enum Target { NIMBUS, ETCD }

    private static final int REQUEST_TIMEOUT_MS = 30_000;
    /**
     * Open loop: a send due before the end still goes out up to this long after it (a thread woken a little late
     * is not a store falling behind); after that the sends still owed are cut off and counted.
     */
    static final long CUT_OFF_GRACE_NS = Duration.ofSeconds(1).toNanos();

    private LoadTool() {
    }

    record Options(List<URI> urls, int connections, int durationS, int warmupS, long maxOps, int keys, int valueBytes,
                   Map<Op, Integer> mix, String consistency, String prefix, long seed, String token, Target target,
                   long rate, boolean preload, boolean routeByKey) {
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
            Runner runner = new Runner(o, out, clients(o));
            Result r = runner.measure();
            runner.report(r);
            return 0;
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
                Long.parseLong(a.getOrDefault("seed", "1")), token(a.get("token-file"), envToken),
                target(a.getOrDefault("target", "nimbus")), nonNegative(a, "rate", 0), true,
                route(a.getOrDefault("route", "spread")));
        a.keySet().removeAll(List.of("url", "connections", "duration-s", "warmup-s", "max-ops", "keys", "value-bytes",
                "mix", "consistency", "prefix", "seed", "token-file", "target", "rate", "route"));
        if (o.routeByKey() && o.target() != Target.NIMBUS) {
            throw new IllegalArgumentException("--route key is for --target nimbus (etcd's leader is the one to ask)");
        }
        if (o.routeByKey() && (o.prefix().contains("%") || o.prefix().contains("/"))) {
            throw new IllegalArgumentException("--route key needs a --prefix without '%' or '/' (the node would decode "
                    + "the key in the URL, and route it by another token than the one computed here)");
        }
        if (!a.isEmpty()) {
            throw new IllegalArgumentException("unknown options " + a.keySet());
        }
        if (mix.values().stream().mapToInt(Integer::intValue).sum() <= 0) {
            throw new IllegalArgumentException("--mix weights must add up to more than 0");
        }
        return o;
    }

    private static Target target(String name) {
        try {
            return Target.valueOf(name.trim().toUpperCase(Locale.ROOT));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("--target takes nimbus or etcd, not '" + name + "'");
        }
    }

    private static boolean route(String way) {
        return switch (way) {
            case "spread" -> false;
            case "key" -> true;
            default -> throw new IllegalArgumentException("--route takes spread or key, not '" + way + "'");
        };
    }

    /** A client per connection: connection {@code i} goes to URL {@code i mod n}. */
    static IntFunction<LoadClient> clients(Options o) {
        byte[] value = value(o.valueBytes());
        return i -> {
            URI url = o.urls().get(i % o.urls().size());
            return switch (o.target()) {
                case NIMBUS -> new NimbusLoadClient(url, o.prefix(), o.consistency(), o.token(), value, REQUEST_TIMEOUT_MS);
                case ETCD -> new EtcdLoadClient(url, o.prefix(), value, REQUEST_TIMEOUT_MS);
            };
        };
    }

    static byte[] value(int bytes) {
        byte[] value = new byte[bytes];
        for (int i = 0; i < value.length; i++) {
            value[i] = (byte) ('a' + i % 26);
        }
        return value;
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

    /** What one run measured. {@code cutOff}: open-loop sends the run's end cut off, recorded as lower bounds. */
    record Result(Map<Op, Histogram> histograms, Histogram cutOff, double seconds, Map<String, Long> statuses,
                  long conflicts, Map<String, Long> failures, long putsTried, long putsApplied,
                  long casTried, long casApplied, String firstError) {
        /** Measured operations that failed, whatever failed them. */
        long errors() {
            return failures.values().stream().mapToLong(Long::longValue).sum();
        }

        /** Every measured operation's latency, cut-off sends included (µs). */
        Histogram total() {
            Histogram all = new Histogram(3);
            histograms.values().forEach(all::add);
            all.add(cutOff);
            return all;
        }

        /** Completed operations per second (a CAS pair counts once, won or lost). */
        double opsPerSecond() {
            long done = histograms.values().stream().mapToLong(Histogram::getTotalCount).sum();
            return done / seconds;
        }
    }

    static final class Runner {
        private final Options o;
        private final PrintStream out;
        private final IntFunction<LoadClient> clients;
        private final AtomicLong measuredOps = new AtomicLong();
        /** With --route key: per URL, the keys it coordinates (connection i draws from URL i mod n's); else null. */
        private int[][] keysByUrl;

        Runner(Options o, PrintStream out, IntFunction<LoadClient> clients) {
            this.o = o;
            this.out = out;
            this.clients = clients;
        }

        Result measure() throws InterruptedException {
            out.printf("target %s %s  connections=%d  warmup=%ds  duration=%ds  keys=%d  value=%dB  mix=%s  consistency=%s  %s%n",
                    o.target().name().toLowerCase(Locale.ROOT), o.urls(), o.connections(), o.warmupS(), o.durationS(),
                    o.keys(), o.valueBytes(), o.mix(), o.consistency() == null ? "(node default)" : o.consistency(),
                    o.rate() > 0 ? "open loop at " + o.rate() + " req/s" : "closed loop");
            if (o.preload() && (o.mix().getOrDefault(Op.GET, 0) > 0 || o.mix().getOrDefault(Op.CAS, 0) > 0)) {
                preload();
            }
            if (o.routeByKey()) {
                routeByKey();
            }
            long now = System.nanoTime();
            long measureFrom = now + Duration.ofSeconds(o.warmupS()).toNanos();
            long stopAt = measureFrom + Duration.ofSeconds(o.durationS()).toNanos();
            long interval = o.rate() > 0 ? Math.max(1, Math.round(1e9 * o.connections() / o.rate())) : 0;
            List<Worker> workers = new ArrayList<>();
            for (int i = 0; i < o.connections(); i++) {
                // open loop: connections staggered over one interval, so the sends do not come in bursts
                workers.add(new Worker(i, now + interval * i / o.connections(), interval, measureFrom, stopAt));
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
            return collect(workers, measureFrom);
        }

        /** Learns which URL coordinates which key ({@link KeyRoutes}); a URL that coordinates none gets every key. */
        void routeByKey() throws InterruptedException {
            try {
                keysByUrl = KeyRoutes.byUrl(o.urls(), o.prefix(), o.keys(), o.token());
            } catch (java.io.IOException | RuntimeException e) {
                throw new IllegalStateException("--route key: could not read the ring: " + e.getMessage(), e);
            }
            StringBuilder line = new StringBuilder("routed by key (each URL gets the keys it coordinates):");
            for (int i = 0; i < keysByUrl.length; i++) {
                line.append(' ').append(o.urls().get(i)).append(' ').append(keysByUrl[i].length);
                if (keysByUrl[i].length == 0) {
                    line.append(" (none: its connections pick any key)");
                }
            }
            out.println(line);
        }

        void preload() throws InterruptedException {
            long start = System.nanoTime();
            List<Thread> threads = new ArrayList<>();
            AtomicLong failures = new AtomicLong();
            List<String> firstError = java.util.Collections.synchronizedList(new ArrayList<>());
            for (int c = 0; c < o.connections(); c++) {
                int first = c;
                Thread t = new Thread(() -> {
                    try (LoadClient client = clients.apply(first)) {
                        for (int k = first; k < o.keys(); k += o.connections()) {
                            if (!client.put(k).ok()) {
                                failures.incrementAndGet();
                            }
                        }
                    } catch (RuntimeException e) {
                        failures.incrementAndGet();
                        firstError.add(e.toString());
                    }
                }, "preload-" + c);
                t.start();
                threads.add(t);
            }
            for (Thread t : threads) {
                t.join();
            }
            out.printf("preloaded %d keys in %.1fs (%d failed)%s%n", o.keys(), (System.nanoTime() - start) / 1e9,
                    failures.get(), firstError.isEmpty() ? "" : "; first error: " + firstError.get(0));
        }

        private Result collect(List<Worker> workers, long measureFrom) {
            Map<Op, Histogram> hist = new EnumMap<>(Op.class);
            Histogram cutOff = new Histogram(3);
            Map<String, Long> statuses = new TreeMap<>();
            Map<String, Long> failures = new TreeMap<>();
            long conflicts = 0;
            long lastEnd = measureFrom;
            long putsApplied = 0;
            long putsTried = 0;
            long casApplied = 0;
            long casTried = 0;
            String firstError = null;
            for (Worker w : workers) {
                putsApplied += w.putsApplied;
                putsTried += w.putsTried;
                casApplied += w.casApplied;
                casTried += w.casTried;
                w.hist.forEach((op, h) -> hist.computeIfAbsent(op, x -> new Histogram(3)).add(h));
                cutOff.add(w.cutOff);
                w.statuses.forEach((s, n) -> statuses.merge(s, n, Long::sum));
                w.failures.forEach((s, n) -> failures.merge(s, n, Long::sum));
                conflicts += w.conflicts;
                lastEnd = Math.max(lastEnd, w.lastEnd);
                if (firstError == null) {
                    firstError = w.firstError;
                }
            }
            double seconds = Math.max(1e-9, (lastEnd - measureFrom) / 1e9);
            return new Result(hist, cutOff, seconds, statuses, conflicts, failures, putsTried, putsApplied,
                    casTried, casApplied, firstError);
        }

        void report(Result r) {
            out.printf("%-7s %10s %10s %9s %9s %9s %9s%n", "op", "count", "ops/s", "p50 ms", "p99 ms", "p99.9 ms", "max ms");
            for (Map.Entry<Op, Histogram> e : r.histograms().entrySet()) {
                line(e.getKey().name().toLowerCase(Locale.ROOT), e.getValue(), r.seconds());
            }
            if (r.cutOff().getTotalCount() > 0) {
                line("cut-off", r.cutOff(), r.seconds());
            }
            line("total", r.total(), r.seconds());
            out.printf("measured %.2fs  statuses %s  cas-conflicts %d  errors %d%s%n", r.seconds(), r.statuses(),
                    r.conflicts(), r.errors(), r.failures().isEmpty() ? "" : " " + r.failures());
            if (r.cutOff().getTotalCount() > 0) {
                out.printf("open loop: %d intended sends fell behind and were cut off by the run's end; they are in "
                        + "'total' with their wait so far (a lower bound)%n", r.cutOff().getTotalCount());
            }
            if (r.firstError() != null) {
                out.println("first error: " + r.firstError());
            }
            if (r.casTried() > 0) {
                out.printf("cas share: %d of %d compare-and-sets applied (%.1f%%), %d of %d blind puts applied (%.1f%%); "
                                + "cas made %.1f%% of the %d writes that took effect%n",
                        r.casApplied(), r.casTried(), 100.0 * r.casApplied() / r.casTried(), r.putsApplied(),
                        r.putsTried(), r.putsTried() == 0 ? 0.0 : 100.0 * r.putsApplied() / r.putsTried(),
                        r.casApplied() + r.putsApplied() == 0 ? 0.0
                                : 100.0 * r.casApplied() / (r.casApplied() + r.putsApplied()),
                        r.casApplied() + r.putsApplied());
            }
        }

        private void line(String name, Histogram h, double seconds) {
            out.printf("%-7s %10d %10.0f %9.3f %9.3f %9.3f %9.3f%n", name, h.getTotalCount(), h.getTotalCount() / seconds,
                    h.getValueAtPercentile(50) / 1e3, h.getValueAtPercentile(99) / 1e3,
                    h.getValueAtPercentile(99.9) / 1e3, h.getMaxValue() / 1e3);
        }

        private final class Worker implements Runnable {
            final int id;
            final long measureFrom;
            final long stopAt;
            /** Open loop: ns between this connection's intended sends (0: closed loop), and the next one. */
            final long interval;
            long intended;
            final Map<Op, Histogram> hist = new EnumMap<>(Op.class);
            final Histogram cutOff = new Histogram(3);
            final Map<String, Long> statuses = new TreeMap<>();
            /** Measured operations that failed, by what failed them (a status with its problem type, or "exception"). */
            final Map<String, Long> failures = new TreeMap<>();
            /** What failed the operation being executed: the label of its failed reply, or null. */
            String failure;
            long conflicts;
            long lastEnd;
            String firstError;
            /** Measured writes: blind PUTs and CAS PUTs sent, and those that applied. */
            long putsTried;
            long putsApplied;
            long casTried;
            long casApplied;
            boolean measuring;

            Worker(int id, long firstIntended, long interval, long measureFrom, long stopAt) {
                this.id = id;
                this.intended = firstIntended;
                this.interval = interval;
                this.measureFrom = measureFrom;
                this.stopAt = stopAt;
            }

            @Override
            public void run() {
                try (LoadClient client = clients.apply(id)) {
                    loop(client);
                }
            }

            private void loop(LoadClient client) {
                SplittableRandom random = new SplittableRandom(o.seed() * 1_000_003L + id);
                int[] mine = keysByUrl == null ? null : keysByUrl[id % keysByUrl.length];
                int[] keys = mine == null || mine.length == 0 ? null : mine;
                int total = o.mix().values().stream().mapToInt(Integer::intValue).sum();
                while (true) {
                    long start = System.nanoTime();
                    if (interval > 0) {
                        if (intended >= stopAt) {
                            return;
                        }
                        if (start >= stopAt + CUT_OFF_GRACE_NS) {
                            cutOff(start);
                            return;
                        }
                        if (intended > start) {
                            LockSupport.parkNanos(intended - start);
                            continue;
                        }
                        start = intended; // the latency runs from when the request should have gone out
                        intended += interval;
                    } else if (start >= stopAt) {
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
                    int key = keys == null ? random.nextInt(o.keys()) : keys[random.nextInt(keys.length)];
                    measuring = start >= measureFrom;
                    failure = null;
                    boolean ok;
                    try {
                        ok = execute(client, op, key);
                    } catch (RuntimeException e) {
                        statuses.merge("exception", 1L, Long::sum);
                        if (firstError == null) {
                            firstError = e.toString();
                        }
                        failure = "exception";
                        ok = false;
                    }
                    long end = System.nanoTime();
                    if (measuring) {
                        if (measuredOps.incrementAndGet() > o.maxOps()) {
                            return;
                        }
                        if (ok) {
                            hist.computeIfAbsent(op, x -> new Histogram(3)).recordValue((end - start) / 1000);
                        } else {
                            failures.merge(failure, 1L, Long::sum);
                        }
                        lastEnd = end;
                    }
                }
            }

            /** Open loop, behind schedule past the end's grace: the sends still owed get their wait so far, a lower bound. */
            private void cutOff(long now) {
                for (long t = intended; t < stopAt; t += interval) {
                    if (t >= measureFrom && measuredOps.incrementAndGet() <= o.maxOps()) {
                        cutOff.recordValue((now - t) / 1000);
                    }
                }
                lastEnd = Math.max(lastEnd, now);
            }

            private boolean execute(LoadClient client, Op op, int key) {
                switch (op) {
                    case PUT -> {
                        LoadClient.Reply r = client.put(key);
                        if (measuring) {
                            putsTried++;
                            putsApplied += r.ok() ? 1 : 0;
                        }
                        return count(r);
                    }
                    case GET -> {
                        return count(client.get(key));
                    }
                    default -> {
                        LoadClient.Reply read = client.get(key);
                        if (!count(read)) {
                            return false;
                        }
                        LoadClient.Reply write = client.casPut(key, read.version());
                        if (measuring) {
                            casTried++;
                            casApplied += write.ok() ? 1 : 0;
                        }
                        if (write.conflict()) {
                            conflicts += measuring ? 1 : 0;
                            count(write);
                            return true;
                        }
                        return count(write);
                    }
                }
            }

            private boolean count(LoadClient.Reply r) {
                statuses.merge(r.status(), 1L, Long::sum);
                if (!r.ok() && !r.conflict()) {
                    failure = r.status();
                }
                return r.ok();
            }
        }
    }
}
