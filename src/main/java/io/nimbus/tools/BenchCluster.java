package io.nimbus.tools;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Three local processes of one store that the benchmark started, on loopback, with their data under one
 * directory: three Nimbus workers (RF 3) from this jar, or a three-member etcd. Only these processes are ever
 * stopped ({@link #close}), by their handles: SIGTERM, then SIGKILL after a grace period.
 */
final class BenchCluster implements AutoCloseable {
    private static final Duration READY_TIMEOUT = Duration.ofSeconds(120);
    private static final Duration STOP_GRACE = Duration.ofSeconds(15);
    private static final Pattern MEMBER_ID = Pattern.compile("\"member_id\"\\s*:\\s*\"(\\d+)\"");
    private static final Pattern LEADER = Pattern.compile("\"leader\"\\s*:\\s*\"(\\d+)\"");

    final String name;
    final List<URI> urls;
    private final List<Process> processes;
    private final List<Path> logs;

    private BenchCluster(String name, List<URI> urls, List<Process> processes, List<Path> logs) {
        this.name = name;
        this.urls = java.util.Collections.unmodifiableList(urls); // filled as the processes start
        this.processes = processes;
        this.logs = logs;
    }

    /**
     * Three workers of {@code jar}, RF 3, b1 founding the cluster, each with the JVM options of config/jvm.options
     * and then {@code javaOptions}; returns once each is ready and a PUT succeeds.
     */
    static BenchCluster nimbus(Path jar, Path dir, List<String> javaOptions) throws IOException, InterruptedException {
        Files.createDirectories(dir);
        int[] http = freePorts(3);
        int[] cluster = freePorts(3);
        String seeds = "127.0.0.1:" + cluster[0] + ",127.0.0.1:" + cluster[1] + ",127.0.0.1:" + cluster[2];
        List<Process> started = new ArrayList<>();
        List<Path> logs = new ArrayList<>();
        List<URI> urls = new ArrayList<>();
        BenchCluster c = new BenchCluster("nimbus", urls, started, logs);
        String jvmOptions = JvmOptions.argFile(dir); // what README's node command gives: java @config/jvm.options
        try {
            for (int i = 0; i < 3; i++) {
                String id = "b" + (i + 1);
                List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                        jvmOptions));
                cmd.addAll(javaOptions.stream().map(s -> s.replace("{node}", id)).toList());
                cmd.addAll(List.of("-Dquarkus.http.host=127.0.0.1", "-Dquarkus.http.port=" + http[i],
                        "-Dnimbus.cluster.port=" + cluster[i], "-Dnimbus.node.id=" + id,
                        "-Dnimbus.data-dir=" + dir.resolve(id).toAbsolutePath(), "-Dnimbus.cluster.bootstrap=b1",
                        "-Dnimbus.cluster.seeds=" + seeds, "-jar", jar.toAbsolutePath().toString()));
                Path log = dir.resolve(id + ".log");
                logs.add(log);
                started.add(new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(log.toFile()).start());
                urls.add(URI.create("http://127.0.0.1:" + http[i]));
            }
            long deadline = System.nanoTime() + READY_TIMEOUT.toNanos();
            for (int i = 0; i < 3; i++) {
                c.await(i, deadline, "GET", "/q/health/ready", null, 200);
            }
            c.await(0, deadline, "PUT", "/v1/kv/bench-ready?consistency=QUORUM", new byte[]{'x'}, 204);
            return c;
        } catch (IOException | InterruptedException | RuntimeException e) {
            c.close();
            throw e;
        }
    }

    /** A three-member etcd with default durability (fsync of its WAL before it answers); returns once all answer. */
    static BenchCluster etcd(Path etcd, Path dir) throws IOException, InterruptedException {
        Files.createDirectories(dir);
        int[] client = freePorts(3);
        int[] peer = freePorts(3);
        StringBuilder initial = new StringBuilder();
        for (int i = 0; i < 3; i++) {
            initial.append(i == 0 ? "" : ",").append("e").append(i + 1).append("=http://127.0.0.1:").append(peer[i]);
        }
        List<Process> started = new ArrayList<>();
        List<Path> logs = new ArrayList<>();
        List<URI> urls = new ArrayList<>();
        BenchCluster c = new BenchCluster("etcd", urls, started, logs);
        try {
            for (int i = 0; i < 3; i++) {
                String id = "e" + (i + 1);
                String clientUrl = "http://127.0.0.1:" + client[i];
                String peerUrl = "http://127.0.0.1:" + peer[i];
                List<String> cmd = List.of(etcd.toString(), "--name", id,
                        "--data-dir", dir.resolve(id).toAbsolutePath().toString(),
                        "--listen-client-urls", clientUrl, "--advertise-client-urls", clientUrl,
                        "--listen-peer-urls", peerUrl, "--initial-advertise-peer-urls", peerUrl,
                        "--initial-cluster", initial.toString(), "--initial-cluster-state", "new",
                        "--initial-cluster-token", "nimbus-bench-" + ProcessHandle.current().pid());
                Path log = dir.resolve(id + ".log");
                logs.add(log);
                started.add(new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(log.toFile()).start());
                urls.add(URI.create(clientUrl));
            }
            long deadline = System.nanoTime() + READY_TIMEOUT.toNanos();
            byte[] put = EtcdLoadClient.putBody(EtcdLoadClient.keyBase64("bench-ready", 0), "eA==")
                    .getBytes(StandardCharsets.US_ASCII);
            for (int i = 0; i < 3; i++) {
                c.await(i, deadline, "POST", "/v3/kv/put", put, 200);
            }
            return c;
        } catch (IOException | InterruptedException | RuntimeException e) {
            c.close();
            throw e;
        }
    }

    /** The etcd member that is the Raft leader now, by asking each for its status. */
    URI etcdLeader() throws IOException {
        for (URI url : urls) {
            HttpConnection.Response r = call(url, "POST", "/v3/maintenance/status", "{}".getBytes(StandardCharsets.US_ASCII));
            String body = new String(r.body(), StandardCharsets.UTF_8);
            Matcher self = MEMBER_ID.matcher(body);
            Matcher leader = LEADER.matcher(body);
            if (r.status() == 200 && self.find() && leader.find() && self.group(1).equals(leader.group(1))) {
                return url;
            }
        }
        throw new IOException("no etcd member says it is the leader: " + urls);
    }

    private void await(int i, long deadline, String method, String path, byte[] body, int status)
            throws IOException, InterruptedException {
        String last = "no answer yet";
        while (System.nanoTime() < deadline) {
            if (!processes.get(i).isAlive()) {
                throw new IOException(name + " process " + (i + 1) + " exited with " + processes.get(i).exitValue()
                        + "; its log " + logs.get(i) + " ends:\n" + tail(logs.get(i)));
            }
            try {
                HttpConnection.Response r = call(urls.get(i), method, path, body);
                if (r.status() == status) {
                    return;
                }
                last = "status " + r.status();
            } catch (IOException e) {
                last = e.toString(); // not listening yet: the process is still starting
            }
            Thread.sleep(250);
        }
        throw new IOException(name + " process " + (i + 1) + " at " + urls.get(i) + " did not answer " + method + " "
                + path + " with " + status + " within " + READY_TIMEOUT.toSeconds() + " s (last: " + last + "); its log "
                + logs.get(i) + " ends:\n" + tail(logs.get(i)));
    }

    private static HttpConnection.Response call(URI url, String method, String path, byte[] body) throws IOException {
        try (HttpConnection http = new HttpConnection(url, 5_000)) {
            return http.exchange(method, path, body == null ? new String[0]
                    : new String[]{"Content-Type", "application/octet-stream"}, body);
        }
    }

    private static String tail(Path log) {
        try {
            List<String> lines = Files.readAllLines(log, StandardCharsets.UTF_8);
            return String.join("\n", lines.subList(Math.max(0, lines.size() - 30), lines.size()));
        } catch (IOException e) {
            return "(cannot read " + log + ": " + e + ")";
        }
    }

    /** CPU time all three processes used so far. */
    Duration cpu() {
        Duration total = Duration.ZERO;
        for (Process p : processes) {
            Optional<Duration> d = p.toHandle().info().totalCpuDuration();
            if (d.isPresent()) {
                total = total.plus(d.get());
            }
        }
        return total;
    }

    /** Resident set size of each process now (VmRSS from /proc/PID/status), in KiB. */
    List<Long> rssKib() {
        List<Long> rss = new ArrayList<>();
        for (Process p : processes) {
            rss.add(vmRssKib(p.pid()));
        }
        return rss;
    }

    static long vmRssKib(long pid) {
        try {
            for (String line : Files.readAllLines(Path.of("/proc", Long.toString(pid), "status"))) {
                if (line.startsWith("VmRSS:")) {
                    return Long.parseLong(line.replaceAll("[^0-9]", ""));
                }
            }
            throw new IllegalStateException("no VmRSS line in /proc/" + pid + "/status");
        } catch (IOException e) {
            throw new UncheckedIOException("reading /proc/" + pid + "/status", e);
        }
    }

    List<Long> pids() {
        return processes.stream().map(Process::pid).toList();
    }

    private static int[] freePorts(int n) throws IOException {
        int[] ports = new int[n];
        List<ServerSocket> held = new ArrayList<>();
        try {
            for (int i = 0; i < n; i++) {
                ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress());
                held.add(s);
                ports[i] = s.getLocalPort();
            }
        } finally {
            for (ServerSocket s : held) {
                s.close();
            }
        }
        return ports;
    }

    /** Stops the processes this cluster started: SIGTERM, then SIGKILL for any still running after the grace period. */
    @Override
    public void close() throws InterruptedException {
        for (Process p : processes) {
            p.destroy();
        }
        for (Process p : processes) {
            if (!p.waitFor(STOP_GRACE.toSeconds(), TimeUnit.SECONDS)) {
                p.destroyForcibly();
                p.waitFor(STOP_GRACE.toSeconds(), TimeUnit.SECONDS);
            }
        }
    }
}
