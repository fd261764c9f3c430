package io.nimbus.it;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ThreadLocalRandom;
import java.util.stream.Collectors;

/**
 * A small multi-process cluster on one machine (in the spirit of Apache Ratis' MiniRaftCluster): N workers
 * and optionally proxies (from the any-role jar, or from the proxy build with {@link Builder#proxyJar}), each a {@link NodeProcess} with fixed HTTP and cluster ports, so that a
 * restarted node keeps its address and data directory. The first worker has no seeds; every other node is
 * seeded with it ({@link Builder#seededByAll()}: every node seeded with all the workers, the first named as
 * the founder). Shared by the process-level tests: the Jepsen-style test, partitions, the restart window,
 * the replication factor mismatch and the wiped founder.
 *
 * <p>Faults: {@link #kill9}, {@link #restart}, {@link #pause} / {@link #resume} (SIGSTOP / SIGCONT), and,
 * when built {@link Builder#partitionable()}, {@link #partition} / {@link #heal}: each node's cluster port
 * is then on its own loopback address 127.77.c.i and traffic between addresses is cut with nftables
 * ({@link LoopbackPartitions}). Clients always reach every node over HTTP on 127.0.0.1.
 *
 * <p>Scale-out: built with {@link Builder#startOnly(int)}, {@link Builder#start()} launches only the first
 * k workers (and the proxy, if any); each other worker is launched later, for the first time, by
 * {@link #startNewWorker(int)}, seeded as configured (with the first worker, unless seeded by all). Until
 * then it is left out of every wait ({@link #awaitReady}, {@link #awaitConverged}, {@link #awaitWritable})
 * and of {@link #restoreAll}.
 *
 * <p>Every wait is bounded. {@link #close()} kills every process this cluster started (by its pid) and
 * deletes its nftables table.
 */
final class LocalCluster implements AutoCloseable {
    static final Duration CONVERGE_TIMEOUT = Duration.ofSeconds(90);

    /** One node: its fixed identity and addresses, and its current process (null while it is down). */
    static final class Node {
        final String name;
        final boolean proxy;
        /** The application it runs. */
        final Path jar;
        final String address;
        final int httpPort;
        final int clusterPort;
        final Path dataDir;
        final String[] properties;
        private volatile NodeProcess process;
        private volatile boolean paused;

        private Node(String name, boolean proxy, Path jar, String address, int httpPort, int clusterPort, Path dataDir,
                     String[] properties) {
            this.name = name;
            this.proxy = proxy;
            this.jar = jar;
            this.address = address;
            this.httpPort = httpPort;
            this.clusterPort = clusterPort;
            this.dataDir = dataDir;
            this.properties = properties;
        }

        /** The running process; throws if the node is down. */
        NodeProcess process() {
            NodeProcess p = process;
            if (p == null) {
                throw new IllegalStateException(name + " is not running");
            }
            return p;
        }

        boolean isUp() {
            NodeProcess p = process;
            return p != null && p.isAlive();
        }

        boolean isPaused() {
            return paused;
        }

        /** Where its logs are: one file per process it ran. */
        String logs() {
            NodeProcess p = process;
            return p == null ? "(down)" : p.logFile().toString();
        }

        @Override
        public String toString() {
            return name + "@" + address + ":" + clusterPort + "/http:" + httpPort;
        }
    }

    static final class Builder {
        private int workers = 3;
        private int proxies;
        private Path proxyJar;
        private int replicationFactor = 3;
        private boolean partitionable;
        private String label = "lc";
        private boolean seededByAll;
        private int startOnly = -1;
        private final List<String> properties = new ArrayList<>();

        Builder workers(int n) {
            this.workers = n;
            return this;
        }

        Builder withProxy() {
            return proxies(1);
        }

        /** {@code n} proxies (named {@code <label>-proxy1..n}; one alone is {@code <label>-proxy}). */
        Builder proxies(int n) {
            this.proxies = n;
            return this;
        }

        /** The proxies run this jar (e.g. {@link NodeProcess#proxyJar()}) instead of the workers' one. */
        Builder proxyJar(Path jar) {
            this.proxyJar = jar;
            return this;
        }

        Builder replicationFactor(int rf) {
            this.replicationFactor = rf;
            return this;
        }

        /** Own loopback address per node and an nftables table for {@link #partition}; needs root and nft. */
        Builder partitionable() {
            this.partitionable = true;
            return this;
        }

        Builder label(String label) {
            this.label = label;
            return this;
        }

        /**
         * Every node seeded with every worker but itself, and the first worker named as the one that may
         * found the cluster (instead of: the first worker seedless, the others seeded with it).
         */
        Builder seededByAll() {
            this.seededByAll = true;
            return this;
        }

        /**
         * {@link #start()} launches only the first {@code k} workers (1 ≤ k ≤ workers; the proxy too, if
         * any) and waits until they converge; the others wait for {@link LocalCluster#startNewWorker(int)}.
         * Without this, every node is launched.
         */
        Builder startOnly(int k) {
            if (k < 1) {
                throw new IllegalArgumentException("startOnly(" + k + "): at least the first worker must start");
            }
            this.startOnly = k;
            return this;
        }

        /** The cluster, configured but not started (see {@link LocalCluster#startAll}). */
        LocalCluster build() throws IOException, InterruptedException {
            return new LocalCluster(this);
        }

        /** Gossip fast enough for a test: 200 ms rounds, a 2 s failure time-out, seeds retried at least every second. */
        Builder fastGossip() {
            return property("nimbus.gossip.interval=200ms").property("nimbus.gossip.failure-timeout=2s")
                    .property("nimbus.gossip.seed-backoff-max=1s");
        }

        /** A system property for every node, {@code name=value}. */
        Builder property(String p) {
            properties.add(p);
            return this;
        }

        /** Starts every node, waits until each is ready and all see each other and the whole ring. */
        LocalCluster start() throws IOException, InterruptedException {
            LocalCluster c = new LocalCluster(this);
            try {
                c.startAll();
                return c;
            } catch (IOException | InterruptedException | RuntimeException | Error e) {
                c.close();
                throw e;
            }
        }
    }

    private final List<Node> nodes = new ArrayList<>();
    /** Workers never launched yet ({@link Builder#startOnly}); left out of every wait until launched. */
    private final Set<Node> notYetStarted = java.util.concurrent.ConcurrentHashMap.newKeySet();
    private final int configuredReplicationFactor;
    private final int replicationFactor;
    private final LoopbackPartitions partitions;
    private volatile String currentCut = "none";

    static Builder builder() {
        return new Builder();
    }

    private LocalCluster(Builder b) throws IOException, InterruptedException {
        if (b.startOnly > b.workers) {
            throw new IllegalArgumentException("startOnly(" + b.startOnly + ") with only " + b.workers + " workers");
        }
        this.configuredReplicationFactor = b.replicationFactor;
        this.replicationFactor = Math.min(b.replicationFactor, b.workers);
        this.partitions = b.partitionable ? LoopbackPartitions.create() : null;
        // a /24 of loopback addresses of this cluster's own, so its cuts never touch anyone else's traffic
        int subnet = ThreadLocalRandom.current().nextInt(1, 255);
        int total = b.workers + b.proxies;
        Path workerJar = NodeProcess.jar();
        int[] clusterPorts = new int[total];
        String[] addresses = new String[total];
        for (int i = 0; i < total; i++) {
            clusterPorts[i] = NodeProcess.freePort();
            addresses[i] = b.partitionable ? "127.77." + subnet + "." + (i + 1) : "127.0.0.1";
        }
        for (int i = 0; i < total; i++) {
            boolean isProxy = i >= b.workers;
            String name = !isProxy ? b.label + "-w" + (i + 1)
                    : b.proxies == 1 ? b.label + "-proxy" : b.label + "-proxy" + (i - b.workers + 1);
            String address = addresses[i];
            int http = NodeProcess.freePort();
            int cluster = clusterPorts[i];
            Path dir = NodeProcess.newDataDir(name);
            if (isProxy) {
                Files.deleteIfExists(dir); // a proxy opens no data directory
            }
            ClusterArgs args = b.partitionable ? ClusterArgs.nodeAt(name, address, cluster)
                    : ClusterArgs.node(name, cluster);
            if (b.seededByAll) {
                List<String> seeds = new ArrayList<>();
                for (int j = 0; j < b.workers; j++) {
                    if (j != i) {
                        seeds.add(addresses[j] + ":" + clusterPorts[j]);
                    }
                }
                args.seedsAt(seeds.toArray(String[]::new)).with("nimbus.cluster.bootstrap=" + b.label + "-w1");
            } else if (i > 0) {
                args.seedsAt(nodes.get(0).address + ":" + nodes.get(0).clusterPort);
            }
            args.with("nimbus.replication-factor=" + b.replicationFactor);
            if (isProxy) {
                args.with("nimbus.role=proxy");
            }
            b.properties.forEach(args::with);
            Node node = new Node(name, isProxy, isProxy && b.proxyJar != null ? b.proxyJar : workerJar, address, http,
                    cluster, dir, args.toArray());
            nodes.add(node);
            if (b.startOnly >= 0 && !isProxy && i >= b.startOnly) {
                notYetStarted.add(node);
            }
        }
    }

    private void startAll() throws IOException, InterruptedException {
        for (Node n : launched()) {
            n.process = NodeProcess.startOnPort(n.jar, n.name, n.dataDir, n.httpPort, n.properties);
        }
        for (Node n : launched()) {
            n.process.awaitReady(NodeProcess.READY_TIMEOUT);
        }
        awaitConverged(CONVERGE_TIMEOUT);
    }

    /** The nodes launched at least once (all of them unless built with {@link Builder#startOnly}). */
    List<Node> launched() {
        return nodes.stream().filter(n -> !notYetStarted.contains(n)).toList();
    }

    /**
     * Launches worker {@code i}, which was left out by {@link Builder#startOnly} and never ran, with its
     * configured properties (seeded with the first worker, unless {@link Builder#seededByAll}) and
     * {@code extra} ones; returns without waiting for it (see {@link NodeProcess#awaitReady}). From now on
     * it counts in every wait as any other node.
     */
    NodeProcess startNewWorker(int i, String... extra) throws IOException {
        Node n = workers().get(i);
        if (!notYetStarted.contains(n)) {
            throw new IllegalStateException(n.name + " was started before: use restart or startWorker");
        }
        n.process = NodeProcess.startOnPort(n.jar, n.name, n.dataDir, n.httpPort, withExtra(n.properties, extra));
        notYetStarted.remove(n);
        return n.process;
    }

    List<Node> nodes() {
        return List.copyOf(nodes);
    }

    List<Node> workers() {
        return nodes.stream().filter(n -> !n.proxy).toList();
    }

    /** The first proxy. */
    Node proxy() {
        return nodes.stream().filter(n -> n.proxy).findFirst().orElseThrow();
    }

    List<Node> proxies() {
        return nodes.stream().filter(n -> n.proxy).toList();
    }

    Node node(String name) {
        return nodes.stream().filter(n -> n.name.equals(name)).findFirst().orElseThrow();
    }

    /** Worker {@code i}'s name. */
    String id(int i) {
        return workers().get(i).name;
    }

    /** Worker {@code i}'s current process (null while it is down). */
    NodeProcess process(int i) {
        return workers().get(i).process;
    }

    /** Worker {@code i}'s data directory. */
    Path dir(int i) {
        return workers().get(i).dataDir;
    }

    /** The workers' current processes, in order. */
    List<NodeProcess> processes() {
        return workers().stream().map(n -> n.process).toList();
    }

    /** Starts every node (each with {@code extra} system properties too) without waiting; see {@link #awaitReady}. */
    void startAll(String... extra) throws IOException {
        for (Node n : launched()) {
            n.process = NodeProcess.startOnPort(n.jar, n.name, n.dataDir, n.httpPort, withExtra(n.properties, extra));
        }
    }

    /** Starts worker {@code i} again (it must be down) with {@code extra} properties, without waiting for it. */
    NodeProcess startWorker(int i, String nameSuffix, String... extra) throws IOException {
        Node n = workers().get(i);
        if (n.isUp()) {
            throw new IllegalStateException(n.name + " is still running");
        }
        n.paused = false;
        n.process = NodeProcess.startOnPort(n.jar, n.name + nameSuffix, n.dataDir, n.httpPort, withExtra(n.properties, extra));
        notYetStarted.remove(n);
        return n.process;
    }

    private static String[] withExtra(String[] properties, String... extra) {
        List<String> all = new ArrayList<>(List.of(properties));
        all.addAll(List.of(extra));
        return all.toArray(String[]::new);
    }

    void awaitReady(Duration timeout) throws InterruptedException {
        for (Node n : launched()) {
            n.process().awaitReady(timeout);
        }
    }

    /** The generation of worker {@code i} as worker {@code observer} sees it. */
    long generationOf(int i, int observer) throws IOException, InterruptedException {
        return ClusterView.of(process(observer)).member(id(i)).orElseThrow().generation();
    }

    /** Waits until every other node marks worker {@code i} unreachable; returns the milliseconds. */
    long awaitUnreachable(int i, Duration timeout) throws InterruptedException {
        return Await.until("every other node marks " + id(i) + " unreachable", timeout, () -> {
            for (Node n : launched()) {
                if (!n.name.equals(id(i)) && ClusterView.of(n.process()).member(id(i))
                        .map(ClusterView.Member::reachable).orElse(true)) {
                    return false;
                }
            }
            return true;
        }, this::describeState);
    }

    /**
     * Waits until every node acknowledges a QUORUM write (of {@code keyPrefix + index}); 503 and 504
     * answers are retried, anything else fails. Returns the milliseconds it took.
     */
    long awaitWritable(String keyPrefix, Duration timeout) throws InterruptedException {
        java.net.http.HttpClient http = KvClient.newClient();
        long start = System.nanoTime();
        List<Node> launched = launched();
        for (int i = 0; i < launched.size(); i++) {
            NodeProcess n = launched.get(i).process();
            String key = keyPrefix + i;
            Await.until(n + " acknowledges a QUORUM write", timeout, () -> {
                java.net.http.HttpResponse<String> r = KvClient.put(http, n, key, "ready", "QUORUM", Duration.ofSeconds(8));
                if (r.statusCode() == 503 || r.statusCode() == 504) {
                    return false;
                }
                if (r.statusCode() != 204) {
                    throw new AssertionError("PUT " + key + " at QUORUM through " + n + ": " + r.statusCode() + " "
                            + r.body());
                }
                return true;
            }, this::describeState);
        }
        return KvClient.ms(System.nanoTime() - start);
    }

    /**
     * What each worker holds for {@code key} on its own replica (a {@code ONE} read is served by the
     * receiving worker's own replica first), for failure messages; best effort.
     */
    String localCopies(java.net.http.HttpClient http, String key) {
        StringBuilder b = new StringBuilder();
        for (Node w : workers()) {
            if (notYetStarted.contains(w)) {
                continue;
            }
            b.append(b.length() == 0 ? "" : ", ").append(w.name).append('=');
            if (!w.isUp()) {
                b.append("down");
                continue;
            }
            try {
                java.net.http.HttpResponse<String> r = KvClient.get(http, w.process, key, "ONE", Duration.ofSeconds(2));
                b.append(r.statusCode() == 200 ? "has it" : r.statusCode() == 404 ? "404" : r.statusCode() + "");
            } catch (Exception e) {
                b.append(e.getClass().getSimpleName());
            }
        }
        return b.toString();
    }

    /** {@code kill -9} of the node's process; it stays down until {@link #restart}. */
    void kill9(Node n) throws InterruptedException {
        NodeProcess p = n.process();
        p.killHard();
        n.paused = false;
        n.process = null;
    }

    /** Starts the node again on the same ports and data directory and waits until it is ready. */
    void restart(Node n) throws IOException, InterruptedException {
        if (n.isUp()) {
            throw new IllegalStateException(n.name + " is still running");
        }
        n.process = NodeProcess.startOnPort(n.jar, n.name, n.dataDir, n.httpPort, n.properties);
        notYetStarted.remove(n);
        n.process.awaitReady(NodeProcess.READY_TIMEOUT);
    }

    /**
     * Starts the node again on the same ports and data directory (it must be down), with {@code extra}
     * properties, and returns without waiting for it (a joining worker, for one, is not ready until its
     * join has finished).
     */
    NodeProcess relaunch(Node n, String... extra) throws IOException {
        if (n.isUp()) {
            throw new IllegalStateException(n.name + " is still running");
        }
        n.paused = false;
        n.process = NodeProcess.startOnPort(n.jar, n.name, n.dataDir, n.httpPort, withExtra(n.properties, extra));
        notYetStarted.remove(n);
        return n.process;
    }

    /** Clean stop (SIGTERM: the store checkpoints); it stays down until {@link #restart} or {@link #startWorker}. */
    void stop(Node n) throws InterruptedException {
        NodeProcess p = n.process();
        p.stop();
        n.paused = false;
        n.process = null;
    }

    /** SIGSTOP. */
    void pause(Node n) throws IOException, InterruptedException {
        n.process().pause();
        n.paused = true;
    }

    /** SIGCONT. */
    void resume(Node n) throws IOException, InterruptedException {
        n.process().resume();
        n.paused = false;
    }

    /**
     * Cuts all traffic between nodes of different groups (both directions); nodes in no group keep talking
     * to everyone. Replaces any previous cut.
     */
    @SafeVarargs
    final void partition(Collection<Node>... groups) throws IOException, InterruptedException {
        requirePartitionable();
        List<Set<String>> byAddress = new ArrayList<>();
        for (Collection<Node> g : groups) {
            byAddress.add(g.stream().map(n -> n.address).collect(Collectors.toCollection(LinkedHashSet::new)));
        }
        partitions.cut(byAddress);
        currentCut = describe(groups);
        System.out.printf("[it] partition %s%n", currentCut);
    }

    /** Removes every cut. */
    void heal() throws IOException, InterruptedException {
        requirePartitionable();
        partitions.heal();
        currentCut = "none";
        System.out.println("[it] healed");
    }

    /** Heals, resumes every paused node, restarts every node that is down; then awaits convergence. */
    void restoreAll(Duration timeout) throws IOException, InterruptedException {
        if (partitions != null) {
            heal();
        }
        for (Node n : nodes) {
            if (n.isUp() && n.paused) {
                resume(n);
            }
        }
        for (Node n : launched()) {
            if (!n.isUp()) {
                n.process = null;
                restart(n);
            }
        }
        awaitConverged(timeout);
    }

    /**
     * Every node is up, sees every node reachable and the ring of all the workers at the cluster's
     * replication factor; if {@code generationAbove[i] >= 0}, also sees worker {@code i} with a higher
     * generation than that (it restarted). Returns the milliseconds it took.
     */
    long awaitConverged(Duration timeout, long... generationAbove) throws InterruptedException {
        List<Node> launched = launched();
        Set<String> all = launched.stream().map(n -> n.name).collect(Collectors.toSet());
        int workerCount = (int) launched.stream().filter(n -> !n.proxy).count();
        // the ring's RF is the effective one: min(the cluster's, workers in the topology)
        int rf = notYetStarted.isEmpty() ? replicationFactor : Math.min(configuredReplicationFactor, workerCount);
        long ms = Await.until("every node sees all " + all.size() + " nodes reachable and a ring of " + workerCount
                + " workers", timeout, () -> {
            for (Node n : launched) {
                if (!n.isUp()) {
                    return false;
                }
                ClusterView v = ClusterView.of(n.process());
                if (!v.isExactlyReachable(all)) {
                    return false;
                }
                for (int i = 0; i < generationAbove.length; i++) {
                    if (generationAbove[i] >= 0 && v.member(id(i)).orElseThrow().generation() <= generationAbove[i]) {
                        return false;
                    }
                }
                var ring = KvClient.ring(n.process());
                if (ring.get("replicationFactor").asInt() != rf || ring.get("workers").size() != workerCount) {
                    return false;
                }
            }
            return true;
        }, this::describeState);
        System.out.printf("[it] cluster converged after %d ms%n", ms);
        return ms;
    }

    /** Each node's state, view, and the nftables rules, for failure messages. */
    String describeState() {
        StringBuilder b = new StringBuilder("cut: " + currentCut);
        for (Node n : nodes) {
            if (notYetStarted.contains(n)) {
                b.append("\n  ").append(n).append(" NOT STARTED YET");
                continue;
            }
            b.append("\n  ").append(n).append(n.isUp() ? (n.paused ? " PAUSED" : " up") : " DOWN")
                    .append(" log ").append(n.logs());
        }
        List<NodeProcess> running = nodes.stream().filter(n -> n.isUp() && !n.paused).map(n -> n.process).toList();
        b.append('\n').append(ClusterView.views(running));
        if (partitions != null) {
            b.append("\n").append(partitions.rules());
        }
        return b.toString();
    }

    String currentCut() {
        return currentCut;
    }

    /** The name of the nftables table (null unless partitionable). */
    String nftTable() {
        return partitions == null ? null : partitions.table();
    }

    /** Kills every process this cluster started (by pid; SIGKILL works on a paused one too), deletes its rules. */
    @Override
    public void close() {
        for (Node n : nodes) {
            NodeProcess p = n.process;
            if (p != null) {
                p.close();
            }
        }
        if (partitions != null) {
            try {
                partitions.close();
            } catch (Exception e) {
                System.out.printf("[it] could not delete nftables table %s: %s%n", partitions.table(), e);
            }
        }
    }

    private void requirePartitionable() {
        if (partitions == null) {
            throw new IllegalStateException("build the cluster with partitionable() to cut traffic");
        }
    }

    @SafeVarargs
    private static String describe(Collection<Node>... groups) {
        List<String> parts = new ArrayList<>();
        for (Collection<Node> g : groups) {
            parts.add(g.stream().map(n -> n.name).collect(Collectors.joining(",", "{", "}")));
        }
        return String.join(" | ", parts);
    }
}
