package io.nimbus.it;

import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * One Nimbus node as a separate JVM, for process-level integration tests.
 *
 * <p>The node runs with {@code config/jvm.options}, as README's node command does. It listens on 127.0.0.1 only, on
 * a free port, with the given data directory; its stdout
 * and stderr go to one file under {@code target/it-logs/}. Every wait is bounded. {@link #close()}
 * kills the process if it is still alive, and a JVM shutdown hook kills any node a test left behind.
 */
public final class NodeProcess implements AutoCloseable {
    public static final Duration READY_TIMEOUT = Duration.ofSeconds(60);
    public static final Duration EXIT_TIMEOUT = Duration.ofSeconds(30);

    private static final Set<Process> LIVE = ConcurrentHashMap.newKeySet();
    private static final AtomicInteger SEQ = new AtomicInteger();
    private static final Set<Integer> HANDED_OUT = ConcurrentHashMap.newKeySet();

    static {
        Runtime.getRuntime().addShutdownHook(new Thread(() -> LIVE.forEach(Process::destroyForcibly),
                "nimbus-it-reaper"));
    }

    private final String name;
    private final Path dataDir;
    private final int port;
    private final Path log;
    private final Process process;
    private final HttpClient http;
    /** Bearer token for the client API (a node started with nimbus.api.auth.enabled=true); null: none. */
    private volatile String token;

    private NodeProcess(String name, Path dataDir, int port, Path log, Process process) {
        this.name = name;
        this.dataDir = dataDir;
        this.port = port;
        this.log = log;
        this.process = process;
        this.http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
                .connectTimeout(Duration.ofSeconds(2)).build();
    }

    /** Path of the runnable jar, from the {@code nimbus.it.jar} system property that failsafe sets. */
    public static Path jar() {
        String jar = System.getProperty("nimbus.it.jar");
        if (jar == null || jar.isBlank()) {
            throw new IllegalStateException("system property nimbus.it.jar is not set: run with ./mvnw verify");
        }
        Path p = Path.of(jar).toAbsolutePath();
        if (!Files.isRegularFile(p)) {
            throw new IllegalStateException(p + " does not exist: run ./mvnw package first");
        }
        return p;
    }

    /**
     * The proxy build's runnable jar ({@code nimbus.build.role=proxy}: no storage bean, no MapDB), from the
     * {@code nimbus.it.proxy-jar} system property that failsafe sets.
     */
    public static Path proxyJar() {
        String jar = System.getProperty("nimbus.it.proxy-jar");
        if (jar == null || jar.isBlank()) {
            throw new IllegalStateException("system property nimbus.it.proxy-jar is not set: run with ./mvnw verify");
        }
        Path p = Path.of(jar).toAbsolutePath();
        if (!Files.isRegularFile(p)) {
            throw new IllegalStateException(p + " does not exist: run ./mvnw package (without -DskipRoleBuilds) first");
        }
        return p;
    }

    /** {@code target/}: the directory that holds {@code quarkus-app/quarkus-run.jar}. */
    public static Path targetDir() {
        return jar().getParent().getParent();
    }

    /** A new, empty directory under {@code target/it-data/} (kept for post-mortem inspection). */
    public static Path newDataDir(String label) throws IOException {
        Path dir = targetDir().resolve("it-data")
                .resolve(label + "-" + System.currentTimeMillis() + "-" + SEQ.incrementAndGet());
        Files.createDirectories(dir);
        return dir;
    }

    /** Starts a node and returns without waiting for it; see {@link #awaitReady} and {@link #runToExit}. */
    public static NodeProcess start(String name, Path dataDir, String... extraSystemProperties) throws IOException {
        return startOnPort(name, dataDir, freeLoopbackPort(), extraSystemProperties);
    }

    /**
     * Like {@link #start}, on a given HTTP port (e.g. {@link #port()} of the process this one replaces,
     * so a restarted node keeps its address).
     */
    public static NodeProcess startOnPort(String name, Path dataDir, int port, String... extraSystemProperties)
            throws IOException {
        return startOnPort(jar(), name, dataDir, port, extraSystemProperties);
    }

    /** Like {@link #startOnPort(String, Path, int, String...)}, from another application's jar (e.g. {@link #proxyJar()}). */
    public static NodeProcess startOnPort(Path jar, String name, Path dataDir, int port, String... extraSystemProperties)
            throws IOException {
        Path logs = targetDir().resolve("it-logs");
        Files.createDirectories(logs);
        Path log = logs.resolve(name + "-" + System.currentTimeMillis() + "-" + SEQ.incrementAndGet() + ".log");
        List<String> cmd = new ArrayList<>();
        cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        // the JVM options README's node command runs with, so the process tests (Jepsen's nemesis included) see
        // its collector's pauses and heap sizing rather than settings of their own
        cmd.add("@" + Path.of("config", "jvm.options").toAbsolutePath());
        cmd.add("-Dquarkus.http.host=127.0.0.1");
        cmd.add("-Dquarkus.http.port=" + port);
        cmd.add("-Dnimbus.data-dir=" + dataDir.toAbsolutePath());
        // Stable across restarts (as in production, where the port does not change); overridable.
        cmd.add("-Dnimbus.node.id=it-" + dataDir.getFileName());
        for (String p : extraSystemProperties) {
            cmd.add("-D" + p);
        }
        cmd.add("-jar");
        cmd.add(jar.toString());
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.to(log.toFile()))
                .redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")));
        Process p = pb.start();
        LIVE.add(p);
        System.out.printf("[it] started %s pid %d on 127.0.0.1:%d data %s log %s%n", name, p.pid(), port,
                dataDir, log);
        return new NodeProcess(name, dataDir, port, log, p);
    }

    /**
     * Starts a node and waits until it is ready; retries (bounded) with another port if the chosen
     * port was taken between probing and binding.
     */
    public static NodeProcess startReady(String name, Path dataDir, String... extraSystemProperties)
            throws IOException, InterruptedException {
        for (int attempt = 1; ; attempt++) {
            NodeProcess node = start(name, dataDir, extraSystemProperties);
            try {
                node.awaitReady(READY_TIMEOUT);
                return node;
            } catch (AssertionError e) {
                node.close();
                String out = node.output();
                boolean portClash = out.contains("Address already in use") || out.contains("Port already bound");
                if (!portClash || attempt >= 3) {
                    throw e;
                }
            }
        }
    }

    private static int freeLoopbackPort() throws IOException {
        return freePort();
    }

    /**
     * A TCP port free on 127.0.0.1 right now, never one this JVM has handed out before (so two nodes
     * of one test never get the same HTTP or cluster port).
     */
    public static int freePort() throws IOException {
        for (int attempt = 0; attempt < 100; attempt++) {
            try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
                s.setReuseAddress(true);
                if (HANDED_OUT.add(s.getLocalPort())) {
                    return s.getLocalPort();
                }
            }
        }
        throw new IOException("no fresh free loopback port in 100 attempts");
    }

    /** Polls {@code GET /q/health/ready} until 200; fails (with the log tail) if the process dies or time runs out. */
    public NodeProcess awaitReady(Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        long started = System.nanoTime();
        while (true) {
            if (!process.isAlive()) {
                throw new AssertionError(name + " exited with " + process.exitValue() + " before it was ready; log "
                        + log + ":\n" + tail(40));
            }
            try {
                HttpResponse<Void> r = http.send(HttpRequest.newBuilder(uri("/q/health/ready"))
                        .timeout(Duration.ofSeconds(1)).GET().build(), HttpResponse.BodyHandlers.discarding());
                if (r.statusCode() == 200) {
                    System.out.printf("[it] %s ready after %d ms%n", name,
                            TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - started));
                    return this;
                }
            } catch (IOException notYet) {
                // not listening yet
            }
            if (System.nanoTime() > deadline) {
                throw new AssertionError(name + " not ready within " + timeout + "; log " + log + ":\n" + tail(40));
            }
            Thread.sleep(100);
        }
    }

    /**
     * For a process expected to stop by itself (a failed start-up): waits up to {@code timeout} for
     * it to exit and returns the exit code; if it is still running then, kills it and fails.
     */
    public int runToExit(Duration timeout) throws InterruptedException {
        if (!process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
            killHard();
            throw new AssertionError(name + " was expected to exit by itself but still ran after " + timeout
                    + "; killed it. Log " + log + ":\n" + tail(40));
        }
        LIVE.remove(process);
        System.out.printf("[it] %s exited by itself with %d%n", name, process.exitValue());
        return process.exitValue();
    }

    /** {@code kill -9} (SIGKILL on Linux): no shutdown hooks, no final checkpoint. Returns the exit code. */
    public int killHard() throws InterruptedException {
        process.destroyForcibly();
        return awaitExit("kill -9");
    }

    /** Clean stop, SIGTERM: Quarkus shuts down and the store checkpoints. Returns the exit code. */
    public int stop() throws InterruptedException {
        process.destroy();
        return awaitExit("SIGTERM");
    }

    /**
     * SIGSTOP: the process stays alive, keeps its sockets and ports, and runs nothing (no heartbeats, no
     * answers; peers' connections to it stall) until {@link #resume()}.
     */
    public void pause() throws IOException, InterruptedException {
        signal("STOP");
    }

    /** SIGCONT: undoes {@link #pause()}. */
    public void resume() throws IOException, InterruptedException {
        signal("CONT");
    }

    /** Sends {@code SIG<name>} to this process only (by its pid), with a bounded wait for {@code kill}. */
    private void signal(String name) throws IOException, InterruptedException {
        Process kill = new ProcessBuilder("kill", "-" + name, Long.toString(process.pid()))
                .redirectErrorStream(true).start();
        if (!kill.waitFor(10, TimeUnit.SECONDS)) {
            kill.destroyForcibly();
            throw new IOException("kill -" + name + " " + process.pid() + " did not finish within 10 s");
        }
        String out = new String(kill.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim();
        if (kill.exitValue() != 0) {
            throw new IOException("kill -" + name + " " + process.pid() + " (" + this.name + ") exited with "
                    + kill.exitValue() + ": " + out);
        }
        System.out.printf("[it] %s pid %d: SIG%s%n", this.name, process.pid(), name);
    }

    private int awaitExit(String how) throws InterruptedException {
        if (!process.waitFor(EXIT_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS)) {
            process.destroyForcibly();
            process.waitFor(EXIT_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
            throw new AssertionError(name + " did not exit within " + EXIT_TIMEOUT + " of " + how + "; log " + log
                    + ":\n" + tail(40));
        }
        LIVE.remove(process);
        System.out.printf("[it] %s exited after %s with %d%n", name, how, process.exitValue());
        return process.exitValue();
    }

    public boolean isAlive() {
        return process.isAlive();
    }

    public long pid() {
        return process.pid();
    }

    public int port() {
        return port;
    }

    public Path dataDir() {
        return dataDir;
    }

    public Path logFile() {
        return log;
    }

    public URI uri(String path) {
        return URI.create("http://127.0.0.1:" + port + path);
    }

    public URI kvUri(String key) {
        return uri("/v1/kv/" + java.net.URLEncoder.encode(key, StandardCharsets.UTF_8).replace("+", "%20"));
    }

    /**
     * Sends {@code Authorization: Bearer <token>} on this node's client API requests from now on
     * ({@link #request}, {@link #put}, {@link #get}, {@link #fetch}, and {@link KvClient}'s); null: none.
     */
    public NodeProcess useToken(String token) {
        this.token = token;
        return this;
    }

    /** A request to this node, carrying the token if {@link #useToken} gave one. */
    public HttpRequest.Builder request(URI uri) {
        HttpRequest.Builder b = HttpRequest.newBuilder(uri);
        String t = token;
        return t == null ? b : b.header("Authorization", "Bearer " + t);
    }

    /** A client for this node (HTTP/1.1, bounded connect time). */
    public HttpClient http() {
        return http;
    }

    /** {@code PUT /v1/kv/{key}}; returns the response (body as text). */
    public HttpResponse<String> put(String key, byte[] value) throws IOException, InterruptedException {
        return http.send(request(kvUri(key)).timeout(Duration.ofSeconds(10))
                .PUT(HttpRequest.BodyPublishers.ofByteArray(value)).build(), HttpResponse.BodyHandlers.ofString());
    }

    /** {@code GET /v1/kv/{key}}; returns the response (body as bytes). */
    public HttpResponse<byte[]> get(String key) throws IOException, InterruptedException {
        return http.send(request(kvUri(key)).timeout(Duration.ofSeconds(10)).GET().build(),
                HttpResponse.BodyHandlers.ofByteArray());
    }

    /** {@code GET path} on the public port; the body as text (any status). */
    public String fetch(String path) throws IOException, InterruptedException {
        return http.send(request(uri(path))
                .timeout(Duration.ofSeconds(10)).GET().build(), HttpResponse.BodyHandlers.ofString()).body();
    }

    /** Everything the process has written to stdout and stderr so far. */
    public String output() {
        try {
            return Files.readString(log, StandardCharsets.UTF_8);
        } catch (IOException e) {
            return "<cannot read " + log + ": " + e + ">";
        }
    }

    /** The last {@code lines} lines of the output. */
    public String tail(int lines) {
        String[] all = output().split("\n", -1);
        int from = Math.max(0, all.length - lines);
        return String.join("\n", java.util.Arrays.asList(all).subList(from, all.length));
    }

    /** Kills the process if still alive (SIGKILL) and waits, bounded, for it to go. */
    @Override
    public void close() {
        if (process.isAlive()) {
            process.destroyForcibly();
            try {
                process.waitFor(EXIT_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        if (!process.isAlive()) {
            LIVE.remove(process);
        }
    }

    @Override
    public String toString() {
        return name + "[pid " + process.pid() + ", 127.0.0.1:" + port + "]";
    }

    /** Kills every node in {@code nodes} that is still alive; for {@code @AfterEach}. */
    public static void closeAll(Iterable<NodeProcess> nodes) {
        for (NodeProcess n : nodes) {
            if (n != null) {
                n.close();
            }
        }
    }
}
