package io.nimbus.it;

import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The packaged applications' command line, as a user runs them: {@code --version} prints the version and an
 * unknown argument is refused with the usage (it used to start a node, which ran until killed: the 20 s
 * bound below is what fails on that). The proxy build ({@code target/proxy/quarkus-app}) has no store tool
 * and refuses to run as a worker.
 */
class CommandLineIT {
    private static final long EXIT_WITHIN_S = 20;

    @Test
    void versionPrintsTheVersionAndExits() throws Exception {
        for (Path jar : List.of(NodeProcess.jar(), NodeProcess.proxyJar())) {
            Run r = run(jar, "--version");
            assertEquals(0, r.code, jar + ": " + r);
            assertTrue(r.out.matches("nimbus \\d+\\.\\d+\\.\\d+(-SNAPSHOT)?\\R"), jar + ": " + r);
        }
    }

    @Test
    void anUnknownArgumentPrintsTheUsageAndExitsNonZero() throws Exception {
        Run r = run(NodeProcess.jar(), "--no-such-option");
        assertEquals(2, r.code, r.toString());
        assertTrue(r.err.contains("unknown argument '--no-such-option'"), r.toString());
        assertTrue(r.err.contains("Run a node:"), "the usage follows: " + r);
    }

    @Test
    void theProxyBuildHasNoStoreTool() throws Exception {
        Run r = run(NodeProcess.proxyJar(), "store", "verify", "--data-dir", "nowhere");
        assertEquals(2, r.code, r.toString());
        assertTrue(r.err.contains("the store tool is not part of this build"), r.toString());
        assertFalse(r.err.contains("NoClassDefFoundError"), r.toString());
    }

    @Test
    void theProxyBuildRefusesToRunAsAWorker() throws Exception {
        Path dir = NodeProcess.newDataDir("proxy-as-worker");
        Files.delete(dir);
        // nimbus.role is left at its default, worker
        NodeProcess n = NodeProcess.startOnPort(NodeProcess.proxyJar(), "proxy-as-worker", dir, NodeProcess.freePort(),
                "nimbus.cluster.port=" + NodeProcess.freePort());
        int code = n.runToExit(java.time.Duration.ofSeconds(60));
        assertNotEquals(0, code, n.tail(40));
        assertTrue(n.output().contains("this is a proxy build (nimbus.build.role=proxy), but nimbus.role is worker"),
                n.tail(40));
        assertFalse(Files.exists(dir), "a refused proxy build opened no data directory");
    }

    @Test
    void aPeerTimeOutShorterThanAForwardedWritesWaitIsRefusedAtStartUp() throws Exception {
        Path dir = NodeProcess.newDataDir("short-peer-timeout");
        // a forward waits write-timeout + 2 × phase-timeout = 11,000 + 2,000 ms; the guard's ceiling is 12,000
        NodeProcess n = NodeProcess.startOnPort(NodeProcess.jar(), "short-peer-timeout", dir, NodeProcess.freePort(),
                "nimbus.cluster.port=" + NodeProcess.freePort(), "nimbus.limits.write-timeout-ms=11000",
                "nimbus.peer.timeout-ms=12000");
        int code = n.runToExit(java.time.Duration.ofSeconds(60));
        assertNotEquals(0, code, n.tail(40));
        assertTrue(n.output().contains("nimbus.peer.timeout-ms is 12000 ms, below the longest time-out of a peer call "
                + "(13000 ms") && n.output().contains("raise it to at least 13000"), n.tail(40));
    }

    private record Run(int code, String out, String err) {
        @Override
        public String toString() {
            return "exit " + code + "\nstdout:\n" + out + "\nstderr:\n" + err;
        }
    }

    private static Run run(Path jar, String... args) throws IOException, InterruptedException {
        List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-jar", jar.toString()));
        cmd.addAll(List.of(args));
        Path out = Files.createTempFile("nimbus-cli", ".out");
        Path err = Files.createTempFile("nimbus-cli", ".err");
        Process p = new ProcessBuilder(cmd).redirectOutput(out.toFile()).redirectError(err.toFile())
                .redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null"))).start();
        try {
            if (!p.waitFor(EXIT_WITHIN_S, TimeUnit.SECONDS)) {
                throw new AssertionError(String.join(" ", cmd) + " still ran after " + EXIT_WITHIN_S
                        + " s (a node started instead of answering); stdout:\n" + Files.readString(out));
            }
            return new Run(p.exitValue(), Files.readString(out, StandardCharsets.UTF_8),
                    Files.readString(err, StandardCharsets.UTF_8));
        } finally {
            p.destroyForcibly();
            Files.deleteIfExists(out);
            Files.deleteIfExists(err);
        }
    }
}
