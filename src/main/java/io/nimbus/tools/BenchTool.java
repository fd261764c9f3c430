package io.nimbus.tools;

import org.HdrHistogram.Histogram;

import java.io.File;
import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.EnumMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.stream.Stream;

/**
 * {@code bench}: Nimbus against etcd on the same machine. Starts three Nimbus workers from this jar (RF 3, every
 * request at QUORUM) and, when {@code etcd} is on the PATH, a three-member etcd; both acknowledge a write only
 * once it is fsynced on a majority. Runs the same loads through {@link LoadTool} against each, prints one table
 * with the ratios, and writes it with a CSV and a PNG chart. Stops only the processes it started.
 */
public final class BenchTool {

    static final String USAGE = """
            Usage: java -jar target/quarkus-app/quarkus-run.jar bench [options]
              --seconds S              measured seconds per cell (6)
              --warmup-s S             unmeasured seconds before each cell (2)
              --store-warmup-s S       unmeasured seconds of 50/50 put/get at 16 connections on each store once
                                       it is up, before any cell, at least (caches, etcd's first snapshot) (60)
              --store-warmup-max-s S   past --store-warmup-s the warm-up goes on in 10 s steps while the
                                       workers' JIT compiler threads used 0.2 cores or more in the last step
                                       (three JVMs on two cores compile for 100 s and more), up to S seconds
                                       in all; the header says how long it took (300)
              --connections N,N,...    connection counts (1,16,64)
              --loads L,L,...          put, get (linearizable), mixed (50/50 put/get), cas (distinct keys),
                                       cas-hot (one key) (put,get,mixed,cas,cas-hot)
              --keys N                 keyspace of the distinct-key loads, written once before them (10000)
              --value-bytes N          bytes per value (100)
              --max-ops N              operations per cell at most (5000000)
              --etcd-to WAY            spread (connections over the 3 members), leader (all to the Raft leader)
                                       or best (both, the row keeps the one with more ops/s) (best)
              --open-loop F            after the closed-loop cells, one open-loop cell per load and store at F times
                                       the lower of the two stores' closed-loop ops/s, at the connection count
                                       --open-loop-connections; 0: none (0.5)
              --open-loop-connections N  (16)
              --nimbus-to WAY          key (connections over the 3 workers, each picking only keys its worker
                                       coordinates, as a token-aware client does (Cassandra's drivers; etcd's
                                       counterpart is --etcd-to leader): no write forwarded; cas-hot, one key,
                                       goes spread), spread (connections over the 3 workers, any key on any:
                                       two QUORUM writes in three forwarded to their key's coordinator, what
                                       curl against any node gets) or one (all to the first worker: a
                                       diagnosis, not the comparison's shape) (key)
              --no-etcd                Nimbus only, even if etcd is on the PATH
              --etcd PATH              the etcd binary (the one on the PATH)
              --jar PATH               the jar the workers run (this one)
              --worker-opt OPT         a JVM option for every worker, after those of config/jvm.options (the
                                       node command's, packaged in the jar), {node} replaced by b1, b2, b3; repeatable
                                       (e.g. --worker-opt -XX:StartFlightRecording=filename=/tmp/{node}.jfr)
              --out DIR                where bench.txt, bench.csv and bench.png go (target/bench)
              --keep                   keep the stores' data directories and logs (deleted otherwise)
              --chart-from CSV         run nothing: draw bench.png in --out again from a bench.csv
            Each cell: N connections, one request in flight each (closed loop: latency of the requests sent; a
            stall hides the requests it delayed), then the open-loop cells measure from intended send times.
            """;

    enum Load {
        PUT("put:1", false), GET("get:1", false), MIXED("put:1,get:1", false), CAS("cas:1", false),
        CAS_HOT("cas:1", true);

        final String mix;
        final boolean hot;

        Load(String mix, boolean hot) {
            this.mix = mix;
            this.hot = hot;
        }

        String label() {
            return name().toLowerCase(Locale.ROOT).replace('_', '-');
        }

        static Load of(String label) {
            for (Load l : values()) {
                if (l.label().equals(label.trim())) {
                    return l;
                }
            }
            throw new IllegalArgumentException("unknown load '" + label + "': use put, get, mixed, cas, cas-hot");
        }
    }

    /** Seconds of one step of a store's warm-up past its minimum, after which the bench looks at its JIT again. */
    static final int WARMUP_STEP_S = 10;
    /** A store whose JIT compiler threads used less than this (cores, all its processes) in a step has compiled. */
    static final double JIT_SETTLED_CORES = 0.2;

    /**
     * Whether a store's warm-up goes on after {@code doneS} seconds whose last step saw its JIT compiler threads
     * use {@code compilerCores}: always up to {@code minS}; past it, while they use {@link #JIT_SETTLED_CORES} or
     * more, up to {@code maxS}. A store without a JIT (etcd) stops at {@code minS}.
     */
    static boolean warmUpMore(int doneS, double compilerCores, int minS, int maxS) {
        if (doneS < minS) {
            return true;
        }
        return doneS < maxS && (doneS == 0 || compilerCores >= JIT_SETTLED_CORES);
    }

    record Options(int seconds, int warmupS, List<Integer> connections, List<Load> loads, int keys, int valueBytes,
                   long maxOps, int storeWarmupS, int storeWarmupMaxS, String etcdTo, String nimbusTo, double openLoop, int openLoopConnections, boolean noEtcd, Path etcd,
                   Path jar, List<String> workerOptions, Path out, boolean keep, Path chartFrom) {
    }

    private BenchTool() {
    }

    public static int run(String[] args, PrintStream out, PrintStream err) {
        Options o;
        try {
            o = parse(args);
        } catch (IllegalArgumentException e) {
            err.println("bench: " + e.getMessage());
            err.print(USAGE);
            return 2;
        }
        if (o == null) {
            out.print(USAGE);
            return 0;
        }
        try {
            if (o.chartFrom() != null) {
                List<BenchReport.Row> rows = BenchReport.parseCsv(Files.readAllLines(o.chartFrom(), StandardCharsets.UTF_8));
                Files.createDirectories(o.out());
                BenchChart.write(rows, chartTitle(o.seconds()), o.out().resolve("bench.png"));
                out.println("bench: drew " + o.out().resolve("bench.png") + " from " + o.chartFrom());
                return 0;
            }
            return new BenchTool.Run(o, out).run();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            err.println("bench: interrupted");
            return 1;
        } catch (IOException | RuntimeException e) {
            err.println("bench: failed: " + e);
            e.printStackTrace(err);
            return 1;
        }
    }

    static Options parse(String[] args) {
        Map<String, String> a = new LinkedHashMap<>();
        List<String> workerOptions = new ArrayList<>();
        boolean noEtcd = false;
        boolean keep = false;
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--help", "-h" -> {
                    return null;
                }
                case "--no-etcd" -> noEtcd = true;
                case "--keep" -> keep = true;
                default -> {
                    if (!args[i].startsWith("--") || i + 1 >= args.length) {
                        throw new IllegalArgumentException("expected --option value, got '" + args[i] + "'");
                    }
                    String name = args[i].substring(2);
                    String value = args[++i];
                    if (name.equals("worker-opt")) {
                        workerOptions.add(value);
                    } else {
                        a.put(name, value);
                    }
                }
            }
        }
        List<Integer> connections = new ArrayList<>();
        for (String c : a.getOrDefault("connections", "1,16,64").split(",")) {
            connections.add(positive("connections", c));
        }
        List<Load> loads = new ArrayList<>();
        for (String l : a.getOrDefault("loads", "put,get,mixed,cas,cas-hot").split(",")) {
            loads.add(Load.of(l));
        }
        String etcdTo = a.getOrDefault("etcd-to", "best");
        if (!List.of("spread", "leader", "best").contains(etcdTo)) {
            throw new IllegalArgumentException("--etcd-to takes spread, leader or best");
        }
        String nimbusTo = a.getOrDefault("nimbus-to", "key");
        if (!List.of("spread", "one", "key").contains(nimbusTo)) {
            throw new IllegalArgumentException("--nimbus-to takes spread, one or key");
        }
        double openLoop;
        try {
            openLoop = Double.parseDouble(a.getOrDefault("open-loop", "0.5"));
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("--open-loop takes a fraction such as 0.5");
        }
        if (openLoop < 0 || openLoop > 1) {
            throw new IllegalArgumentException("--open-loop must be between 0 and 1");
        }
        Path etcd = a.containsKey("etcd") ? Path.of(a.get("etcd")) : onPath("etcd");
        Options o = new Options(positive("seconds", a.getOrDefault("seconds", "6")),
                nonNegative("warmup-s", a.getOrDefault("warmup-s", "2")), List.copyOf(connections), List.copyOf(loads),
                positive("keys", a.getOrDefault("keys", "10000")), nonNegative("value-bytes", a.getOrDefault("value-bytes", "100")),
                positive("max-ops", a.getOrDefault("max-ops", "5000000")),
                nonNegative("store-warmup-s", a.getOrDefault("store-warmup-s", "60")),
                nonNegative("store-warmup-max-s", a.getOrDefault("store-warmup-max-s", "300")), etcdTo, nimbusTo, openLoop,
                positive("open-loop-connections", a.getOrDefault("open-loop-connections", "16")), noEtcd, etcd,
                a.containsKey("jar") ? Path.of(a.get("jar")) : null, List.copyOf(workerOptions),
                Path.of(a.getOrDefault("out", "target/bench")), keep,
                a.containsKey("chart-from") ? Path.of(a.get("chart-from")) : null);
        a.keySet().removeAll(List.of("seconds", "warmup-s", "connections", "loads", "keys", "value-bytes", "max-ops",
                "store-warmup-s", "store-warmup-max-s", "etcd-to", "nimbus-to", "open-loop", "open-loop-connections", "etcd", "jar", "out", "chart-from"));
        if (!a.isEmpty()) {
            throw new IllegalArgumentException("unknown options " + a.keySet());
        }
        if (o.storeWarmupMaxS() < o.storeWarmupS()) {
            throw new IllegalArgumentException("--store-warmup-max-s must be at least --store-warmup-s");
        }
        return o;
    }

    private static int positive(String name, String v) {
        int n = nonNegative(name, v);
        if (n == 0) {
            throw new IllegalArgumentException("--" + name + " must be > 0");
        }
        return n;
    }

    private static int nonNegative(String name, String v) {
        int n;
        try {
            n = Integer.parseInt(v.trim());
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("--" + name + " takes a whole number, not '" + v + "'");
        }
        if (n < 0) {
            throw new IllegalArgumentException("--" + name + " must be >= 0");
        }
        return n;
    }

    /** The executable {@code name} in a PATH directory, or null. */
    static Path onPath(String name) {
        String path = System.getenv("PATH");
        if (path == null) {
            return null;
        }
        for (String dir : path.split(File.pathSeparator)) {
            Path p = Path.of(dir.isEmpty() ? "." : dir, name);
            if (Files.isRegularFile(p) && Files.isExecutable(p)) {
                return p;
            }
        }
        return null;
    }

    /** The jar this JVM was started from ({@code java -jar .../quarkus-run.jar bench}). */
    static Path ownJar() {
        String cp = System.getProperty("java.class.path", "");
        if (!cp.contains(File.pathSeparator) && cp.endsWith(".jar") && Files.isRegularFile(Path.of(cp))) {
            return Path.of(cp);
        }
        throw new IllegalArgumentException("cannot tell which jar the workers should run (class path '" + cp
                + "'): pass --jar target/quarkus-app/quarkus-run.jar");
    }

    private static final class Run {
        private final Options o;
        private final PrintStream out;
        private final List<BenchReport.Row> rows = new ArrayList<>();
        private final List<String> notes = new ArrayList<>();
        /** Per store: how long its warm-up took and why it stopped, for the header. */
        private final List<String> warmUps = new ArrayList<>();
        /** The stores this run started and has not stopped; read by the shutdown hook too. */
        private final List<BenchCluster> running = new java.util.concurrent.CopyOnWriteArrayList<>();
        /** Per cell: cores used by processes this run did not start. */
        private final List<Double> otherCores = new ArrayList<>();

        Run(Options o, PrintStream out) {
            this.o = o;
            this.out = out;
        }

        int run() throws IOException, InterruptedException {
            Path jar = o.jar() != null ? o.jar() : ownJar();
            boolean withEtcd = !o.noEtcd() && o.etcd() != null;
            String loadBefore = loadAverage();
            Instant started = Instant.now();
            Path dir = Files.createTempDirectory("nimbus-bench");
            out.println("bench: stores' data and logs in " + dir + (o.keep() ? "" : " (deleted at the end; --keep keeps them)"));
            if (!withEtcd) {
                notes.add(o.noEtcd() ? "etcd: not run (--no-etcd)" : "etcd: not on the PATH, not run (apt-get install etcd-server)");
            }
            BenchCluster nimbus = null;
            BenchCluster etcd = null;
            Thread hook = new Thread(() -> stopQuietly(running), "bench-stop");
            Runtime.getRuntime().addShutdownHook(hook); // Ctrl-C: still stop what this run started
            String rss;
            try {
                nimbus = BenchCluster.nimbus(jar, dir.resolve("nimbus"), o.workerOptions());
                running.add(nimbus);
                out.println("bench: nimbus workers " + nimbus.urls + " pids " + nimbus.pids());
                if (withEtcd) {
                    etcd = BenchCluster.etcd(o.etcd(), dir.resolve("etcd"));
                    running.add(etcd);
                    out.println("bench: etcd members " + etcd.urls + " pids " + etcd.pids() + " (" + version(o.etcd()) + ")");
                }
                warmUp(nimbus, LoadTool.Target.NIMBUS);
                if (etcd != null) {
                    warmUp(etcd, LoadTool.Target.ETCD);
                }
                if (o.loads().stream().anyMatch(l -> l != Load.PUT && !l.hot)) {
                    preload(nimbus, LoadTool.Target.NIMBUS);
                    if (etcd != null) {
                        preload(etcd, LoadTool.Target.ETCD);
                    }
                }
                for (Load load : o.loads()) {
                    for (int c : o.connections()) {
                        rows.add(closedRow(load, c, nimbus, etcd));
                    }
                }
                if (o.openLoop() > 0) {
                    for (Load load : o.loads()) {
                        openRow(load, nimbus, etcd).ifPresent(rows::add);
                    }
                }
                rss = rss(nimbus, etcd);
            } finally {
                stopQuietly(running);
                Runtime.getRuntime().removeShutdownHook(hook);
                if (!o.keep()) {
                    delete(dir);
                }
            }
            String loadAfter = loadAverage();
            String text = header(withEtcd, started, loadBefore, loadAfter) + "\n" + BenchReport.table(rows) + "\n" + rss
                    + String.join("", notes.stream().map(n -> n + "\n").toList());
            out.println();
            out.print(text);
            Files.createDirectories(o.out());
            Files.writeString(o.out().resolve("bench.txt"), text, StandardCharsets.UTF_8);
            Files.writeString(o.out().resolve("bench.csv"), BenchReport.csv(rows, o.nimbusTo()), StandardCharsets.UTF_8);
            BenchChart.write(rows, chartTitle(o.seconds()), o.out().resolve("bench.png"));
            out.println("bench: wrote " + o.out().resolve("bench.txt") + ", bench.csv, bench.png");
            return 0;
        }

        /**
         * Unmeasured 50/50 load on keys of their own, so that the first cell does not pay for a cold store: at
         * least {@code --store-warmup-s}, then on while the store's JIT compilers are busy ({@link #warmUpMore}).
         */
        private void warmUp(BenchCluster store, LoadTool.Target target) throws InterruptedException {
            out.printf("%n== %s warm-up, %d s and on while its JIT compiles, up to %d s (not measured)%n", store.name,
                    o.storeWarmupS(), o.storeWarmupMaxS());
            int done = 0;
            double compilerCores = 0;
            while (warmUpMore(done, compilerCores, o.storeWarmupS(), o.storeWarmupMaxS())) {
                int step = Math.min(WARMUP_STEP_S, o.storeWarmupMaxS() - done);
                LoadTool.Options lo = options(store.urls, target, Load.MIXED, 16, 0, "bench-warm-", step, 0);
                java.util.Map<Long, Long> before = CompilerCpu.ticks(store.pids());
                long start = System.nanoTime();
                LoadTool.Result r = new LoadTool.Runner(lo, new PrintStream(OutputStream.nullOutputStream()),
                        LoadTool.clients(lo)).measure();
                compilerCores = CompilerCpu.cores(before, CompilerCpu.ticks(store.pids()),
                        (System.nanoTime() - start) / 1e9);
                done += step;
                out.printf("warm-up %3d s: statuses %s (a read finds no key until it is written: 404, etcd "
                        + "200-no-key); JIT compiler threads %.2f cores%n", done, r.statuses(), compilerCores);
            }
            warmUps.add(done == 0 ? store.name + " none" : String.format(Locale.ROOT,
                    "%s %d s (JIT compiler threads %.2f cores in its last step%s)", store.name, done, compilerCores,
                    compilerCores >= JIT_SETTLED_CORES ? ", still compiling at --store-warmup-max-s" : ""));
        }

        private void preload(BenchCluster store, LoadTool.Target target) throws InterruptedException {
            LoadTool.Options lo = options(store.urls, target, Load.PUT, 16, 0, "bench-");
            out.print(store.name + ": ");
            new LoadTool.Runner(lo, out, LoadTool.clients(lo)).preload();
        }

        private LoadTool.Options options(List<URI> urls, LoadTool.Target target, Load load, int connections, long rate,
                                         String prefix) {
            return options(urls, target, load, connections, rate, prefix, o.seconds(), o.warmupS());
        }

        private LoadTool.Options options(List<URI> urls, LoadTool.Target target, Load load, int connections, long rate,
                                         String prefix, int seconds, int warmupS) {
            Map<LoadTool.Op, Integer> mix = new EnumMap<>(LoadTool.Op.class);
            for (String part : load.mix.split(",")) {
                String[] kv = part.split(":");
                mix.put(LoadTool.Op.valueOf(kv[0].toUpperCase(Locale.ROOT)), Integer.parseInt(kv[1]));
            }
            return new LoadTool.Options(urls, connections, seconds, warmupS, o.maxOps(), load.hot ? 1 : o.keys(),
                    o.valueBytes(), mix, target == LoadTool.Target.NIMBUS ? "QUORUM" : null,
                    load.hot ? "bench-hot-" : prefix, 1, null, target, rate, load.hot,
                    target == LoadTool.Target.NIMBUS && o.nimbusTo().equals("key") && !load.hot);
        }

        private record Measured(BenchReport.Cell cell, String via) {
        }

        private BenchReport.Row closedRow(Load load, int c, BenchCluster nimbus, BenchCluster etcd)
                throws InterruptedException, IOException {
            BenchReport.Cell n = cell(nimbus, nimbusUrls(nimbus), LoadTool.Target.NIMBUS, load, c, 0, o.nimbusTo());
            Measured e = null;
            if (etcd != null) {
                if (!o.etcdTo().equals("leader")) {
                    e = new Measured(cell(etcd, etcd.urls, LoadTool.Target.ETCD, load, c, 0, "spread"), "spread");
                }
                if (!o.etcdTo().equals("spread")) {
                    BenchReport.Cell l = cell(etcd, List.of(etcd.etcdLeader()), LoadTool.Target.ETCD, load, c, 0, "leader");
                    if (e == null || l.opsPerSecond() > e.cell().opsPerSecond()) {
                        e = new Measured(l, "leader");
                    }
                }
            }
            return new BenchReport.Row(load.label(), c, "closed", n, e == null ? null : e.cell(), e == null ? null : e.via());
        }

        /** Where the Nimbus cells send their requests: every worker (spread), or the first one alone (one). */
        private List<URI> nimbusUrls(BenchCluster nimbus) {
            return o.nimbusTo().equals("one") ? List.of(nimbus.urls.get(0)) : nimbus.urls;
        }

        private java.util.Optional<BenchReport.Row> openRow(Load load, BenchCluster nimbus, BenchCluster etcd)
                throws InterruptedException, IOException {
            int c = o.openLoopConnections();
            BenchReport.Row closed = rows.stream().filter(r -> r.load().equals(load.label()) && r.connections() == c
                    && r.loop().equals("closed")).findFirst().orElse(null);
            if (closed == null) {
                notes.add("open loop for " + load.label() + ": not run, no closed-loop cell at " + c
                        + " connections to take the rate from (--open-loop-connections)");
                return java.util.Optional.empty();
            }
            double lower = closed.etcd() == null ? closed.nimbus().opsPerSecond()
                    : Math.min(closed.nimbus().opsPerSecond(), closed.etcd().opsPerSecond());
            long rate = Math.max(1, Math.round(lower * o.openLoop()));
            BenchReport.Cell n = cell(nimbus, nimbusUrls(nimbus), LoadTool.Target.NIMBUS, load, c, rate, o.nimbusTo());
            BenchReport.Cell e = null;
            if (etcd != null) {
                List<URI> urls = "leader".equals(closed.etcdVia()) ? List.of(etcd.etcdLeader()) : etcd.urls;
                e = cell(etcd, urls, LoadTool.Target.ETCD, load, c, rate, closed.etcdVia());
            }
            return java.util.Optional.of(new BenchReport.Row(load.label(), c, "open@" + rate, n, e,
                    e == null ? null : closed.etcdVia()));
        }

        private BenchReport.Cell cell(BenchCluster store, List<URI> urls, LoadTool.Target target, Load load, int c,
                                      long rate, String via) throws InterruptedException {
            LoadTool.Options lo = options(urls, target, load, c, rate, "bench-");
            out.printf("%n== %s %s, %d connections, %s%s%n", store.name, load.label(), c,
                    rate > 0 ? "open loop at " + rate + " req/s" : "closed loop", ", " + via);
            LoadTool.Runner runner = new LoadTool.Runner(lo, out, LoadTool.clients(lo));
            long wallStart = System.nanoTime();
            Duration selfStart = selfCpu();
            Duration storeStart = store.cpu();
            Duration oursStart = oursCpu();
            double machineStart = machineBusySeconds();
            LoadTool.Result r = runner.measure();
            double wall = (System.nanoTime() - wallStart) / 1e9;
            double cpuLoad = (selfCpu().minus(selfStart).toNanos() / 1e9) / wall;
            double cpuStore = (store.cpu().minus(storeStart).toNanos() / 1e9) / wall;
            double cpuOther = Math.max(0, (machineBusySeconds() - machineStart) / wall
                    - (oursCpu().minus(oursStart).toNanos() / 1e9) / wall);
            otherCores.add(cpuOther);
            runner.report(r);
            if (!r.failures().isEmpty() || r.cutOff().getTotalCount() > 0) {
                notes.add("errors in " + store.name + " " + load.label() + " at " + c + " connections"
                        + (rate > 0 ? " (open loop)" : "") + ": " + (r.failures().isEmpty() ? "" : r.failures().toString())
                        + (r.cutOff().getTotalCount() > 0 ? " " + r.cutOff().getTotalCount() + " sends cut off" : ""));
            }
            out.printf("cpu: load generator %.2f cores, %s %.2f cores, everything else %.2f cores (average over %.1f s)%n",
                    cpuLoad, store.name, cpuStore, cpuOther, wall);
            Histogram all = r.total();
            long ops = r.histograms().values().stream().mapToLong(Histogram::getTotalCount).sum();
            return new BenchReport.Cell(r.opsPerSecond(), all.getValueAtPercentile(50) / 1e3,
                    all.getValueAtPercentile(99) / 1e3, all.getValueAtPercentile(99.9) / 1e3, ops, r.conflicts(),
                    r.errors() + r.cutOff().getTotalCount(), cpuLoad, cpuStore, cpuOther);
        }

        /** CPU time of this process and of every store process it started. */
        private Duration oursCpu() {
            Duration d = selfCpu();
            for (BenchCluster c : running) {
                d = d.plus(c.cpu());
            }
            return d;
        }

        private static Duration selfCpu() {
            return ProcessHandle.current().info().totalCpuDuration()
                    .orElseThrow(() -> new IllegalStateException("this OS reports no CPU time for the bench process"));
        }

        private String rss(BenchCluster nimbus, BenchCluster etcd) {
            StringBuilder sb = new StringBuilder("RSS after the loads (VmRSS): ");
            sb.append(rssLine(nimbus));
            if (etcd != null) {
                sb.append("; ").append(rssLine(etcd));
            }
            return sb.append('\n').toString();
        }

        private static String rssLine(BenchCluster c) {
            List<Long> kib = c.rssKib();
            return String.format(Locale.ROOT, "%s %d MiB (%s)", c.name, kib.stream().mapToLong(Long::longValue).sum() / 1024,
                    String.join(" + ", kib.stream().map(k -> k / 1024 + "").toList()));
        }

        private String header(boolean withEtcd, Instant started, String loadBefore, String loadAfter) {
            return String.format(Locale.ROOT, """
                    Nimbus vs %s — %s
                    machine: %s; java %s
                    started %s, %d s + %d s warm-up per cell; %d keys, %d-byte values; Nimbus: 3 workers, RF 3, QUORUM \
                    (JVM: %s), requests %s; etcd: 3 members, default flags (fsync on)
                    each store's warm-up before the cells (50/50 at 16 connections, not measured): %s
                    load average (1, 5, 15 min) before: %s, after: %s (the run's own threads waiting on fsync count in it)
                    other processes (not this run's) used %s cores on average per cell, at most %s (from /proc/stat)
                    ops x = Nimbus ops/s / etcd ops/s (above 1: Nimbus more); p99 x = Nimbus p99 / etcd p99 (below 1: \
                    Nimbus shorter). lost%% = CAS that lost its race (conflict); !N = N errors. cas = read then \
                    conditional write (Nimbus GET + PUT If-Match; etcd range + txn on mod_revision), counted once.
                    closed: one request in flight per connection, latency of the requests sent (coordinated omission \
                    applies); open@N: N req/s, latency from each request's intended send time.
                    """, withEtcd ? "etcd" : "(no etcd)", withEtcd ? version(o.etcd()) : "etcd not run", machine(),
                    System.getProperty("java.version"), started, o.seconds(), o.warmupS(), o.keys(), o.valueBytes(),
                    jvm(),
                    switch (o.nimbusTo()) {
                        case "one" -> "all to the first worker (--nimbus-to one)";
                        case "key" -> "spread over the workers, each connection picking keys its worker coordinates "
                                + "(--nimbus-to key; cas-hot spread)";
                        default -> "spread over the workers";
                    },
                    String.join("; ", warmUps), loadBefore, loadAfter,
                    String.format(Locale.ROOT, "%.2f", otherCores.stream().mapToDouble(Double::doubleValue).average().orElse(0)),
                    String.format(Locale.ROOT, "%.2f", otherCores.stream().mapToDouble(Double::doubleValue).max().orElse(0)));
        }

        /** The workers' JVM options as the header names them: config/jvm.options, then any --worker-opt. */
        private String jvm() {
            String file = "config/jvm.options " + String.join(" ", JvmOptions.options(JvmOptions.text()));
            return o.workerOptions().isEmpty() ? file : file + "; then --worker-opt " + String.join(" ", o.workerOptions());
        }

        private void stopQuietly(List<BenchCluster> running) {
            for (BenchCluster c : List.copyOf(running)) {
                try {
                    c.close();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    out.println("bench: interrupted while stopping " + c.name + " " + c.pids() + ": they may still run");
                }
            }
        }
    }

    static String chartTitle(int seconds) {
        return "Nimbus vs etcd, " + machine() + ", " + seconds + " s per cell";
    }

    static String machine() {
        String model = "unknown CPU";
        long memKib = 0;
        try {
            for (String line : Files.readAllLines(Path.of("/proc/cpuinfo"))) {
                if (line.startsWith("model name")) {
                    model = line.substring(line.indexOf(':') + 1).trim();
                    break;
                }
            }
            for (String line : Files.readAllLines(Path.of("/proc/meminfo"))) {
                if (line.startsWith("MemTotal:")) {
                    memKib = Long.parseLong(line.replaceAll("[^0-9]", ""));
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException("reading /proc/cpuinfo and /proc/meminfo", e);
        }
        return String.format(Locale.ROOT, "%d cores (%s), %.1f GiB", Runtime.getRuntime().availableProcessors(), model,
                memKib / 1024.0 / 1024.0);
    }

    /** Seconds of CPU the whole machine has been busy since boot: /proc/stat's cpu line, in USER_HZ ticks. */
    static double machineBusySeconds() {
        try {
            String[] f = Files.readAllLines(Path.of("/proc/stat")).get(0).trim().split("\\s+");
            // cpu user nice system idle iowait irq softirq steal ...: busy = all but idle and iowait
            long busy = 0;
            for (int i = 1; i < Math.min(f.length, 9); i++) {
                if (i != 4 && i != 5) {
                    busy += Long.parseLong(f[i]);
                }
            }
            return busy / (double) CompilerCpu.USER_HZ;
        } catch (IOException e) {
            throw new UncheckedIOException("reading /proc/stat", e);
        }
    }

    static String loadAverage() {
        try {
            String[] f = Files.readString(Path.of("/proc/loadavg")).trim().split("\\s+");
            return f[0] + " " + f[1] + " " + f[2];
        } catch (IOException e) {
            throw new UncheckedIOException("reading /proc/loadavg", e);
        }
    }

    static String version(Path etcd) {
        try {
            Process p = new ProcessBuilder(etcd.toString(), "--version").redirectErrorStream(true).start();
            String first = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).lines().findFirst().orElse("");
            p.waitFor();
            return first.trim();
        } catch (IOException e) {
            throw new UncheckedIOException("running " + etcd + " --version", e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return "etcd (version unknown: interrupted)";
        }
    }

    private static void delete(Path dir) throws IOException {
        try (Stream<Path> paths = Files.walk(dir)) {
            for (Path p : paths.sorted(Comparator.reverseOrder()).toList()) {
                Files.delete(p);
            }
        }
    }
}
