package io.nimbus.it;

import org.junit.jupiter.api.Test;

import javax.imageio.ImageIO;
import java.awt.image.BufferedImage;
import java.io.File;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code bench} as a user runs it, short: every load, one connection count, 1 s per cell, its open-loop cells;
 * against etcd, which must be on the PATH ({@code .ci/run} installs etcd-server): a missing etcd is a failure rather
 * than a Nimbus-only run, unless {@code -Dbench.it.etcd=optional}. (Not under {@code nimbus.}:
 * Maven hands the property to the {@code @QuarkusTest} JVMs too, where an unknown {@code nimbus.*} key fails start-up.) Checks the table, the
 * CSV and the PNG, that every cell did work, and that the bench stopped every process it started.
 */
class BenchIT {
    private static final long EXIT_WITHIN_S = 300;
    private static final List<String> LOADS = List.of("put", "get", "mixed", "cas", "cas-hot");

    @Test
    void theBenchmarkRunsEveryLoadAgainstBothStoresAndWritesItsTableCsvAndChart() throws Exception {
        boolean etcd = onPath("etcd");
        if (!"optional".equals(System.getProperty("bench.it.etcd")) && !etcd) {
            throw new AssertionError("no etcd on the PATH: apt-get install etcd-server (or -Dbench.it.etcd=optional to "
                    + "test the Nimbus half only)");
        }
        Path out = NodeProcess.newDataDir("bench-out");
        List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-jar", NodeProcess.jar().toString(), "bench", "--seconds", "1", "--warmup-s", "0", "--store-warmup-s", "1",
                "--store-warmup-max-s", "1", "--connections", "2", "--open-loop-connections", "2", "--keys", "200", "--etcd-to", "spread",
                "--out", out.toString(), "--keep"));
        if (!etcd) {
            cmd.add("--no-etcd");
        }
        Path log = out.resolve("bench.log");
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(log.toFile()).start();
        boolean exited = p.waitFor(EXIT_WITHIN_S, TimeUnit.SECONDS);
        if (!exited) {
            p.destroyForcibly();
        }
        String output = Files.readString(log, StandardCharsets.UTF_8);
        assertTrue(exited, "bench ended within " + EXIT_WITHIN_S + " s:\n" + output);
        assertEquals(0, p.exitValue(), output);

        Matcher pids = Pattern.compile("pids \\[([0-9, ]+)]").matcher(output);
        int clusters = 0;
        while (pids.find()) {
            clusters++;
            for (String pid : pids.group(1).split(",\\s*")) {
                assertFalse(ProcessHandle.of(Long.parseLong(pid)).map(ProcessHandle::isAlive).orElse(false),
                        "process " + pid + " the bench started is stopped:\n" + output);
            }
        }
        assertEquals(etcd ? 2 : 1, clusters, output);
        assertTrue(output.contains("routed by key (each URL gets the keys it coordinates)"),
                "the Nimbus cells route by key by default (--nimbus-to key):\n" + output);

        String table = Files.readString(out.resolve("bench.txt"), StandardCharsets.UTF_8);
        for (String load : LOADS) {
            for (String loop : List.of("closed", "open@\\d+")) {
                Matcher row = Pattern.compile("(?m)^" + load + "\\s+2 " + loop + "\\s+\\|\\s+(\\d+)\\s.*\\|\\s+(\\S+)\\s.*\\|"
                        + "\\s+(\\S+)\\s+(\\S+)$").matcher(table);
                assertTrue(row.find(), load + " " + loop + " row in:\n" + table);
                assertTrue(Long.parseLong(row.group(1)) > 0, "Nimbus did " + load + " operations:\n" + table);
                if (etcd) {
                    assertTrue(Double.parseDouble(row.group(2)) > 0, "etcd did " + load + " operations:\n" + table);
                    assertTrue(Double.parseDouble(row.group(3)) > 0, "a ratio:\n" + table);
                } else {
                    assertEquals("-", row.group(3), table);
                }
            }
        }
        assertTrue(table.contains("RSS after the loads (VmRSS): nimbus "), table);
        assertTrue(table.contains("QUORUM (JVM: config/jvm.options -XX:"),
                "the header names README's JVM options:\n" + table);
        // ... and the workers ran with them: the file's -XX:+PrintCommandLineFlags line in each worker's log names
        // the file's collector (a JVM started without the file would print G1, and no such line at all)
        Matcher kept = Pattern.compile("bench: stores' data and logs in (\\S+)").matcher(output);
        assertTrue(kept.find(), output);
        Path stores = Path.of(kept.group(1));
        try {
            String collector = Files.readAllLines(Path.of("config", "jvm.options")).stream()
                    .map(String::trim).filter(l -> l.matches("-XX:\\+Use\\w+GC")).findFirst().orElseThrow();
            for (String worker : List.of("b1", "b2", "b3")) {
                String workerLog = Files.readString(stores.resolve("nimbus").resolve(worker + ".log"), StandardCharsets.UTF_8);
                assertTrue(workerLog.lines().anyMatch(l -> l.startsWith("-XX:") && l.contains(" " + collector + " ")
                                && l.contains("-XX:InitialHeapSize=")),
                        worker + " started with config/jvm.options (" + collector + "):\n" + workerLog.lines().limit(5).toList());
            }
        } finally {
            ItDataCleanup.deleteTree(stores);
        }
        assertTrue(table.contains("load average (1, 5, 15 min) before: "), table);
        // the warm-up reads the workers' JIT compiler threads: in a fresh JVM's first second of load they are at work
        Matcher warm = Pattern.compile("warm-up before the cells [^:]*: nimbus 1 s \\(JIT compiler threads ([0-9.]+) cores")
                .matcher(table);
        assertTrue(warm.find(), "the header says how long Nimbus warmed up:\n" + table);
        assertTrue(Double.parseDouble(warm.group(1)) > 0, "the workers' compiler threads seen compiling:\n" + table);
        if (etcd) {
            assertTrue(table.contains("; etcd 1 s (JIT compiler threads 0.00 cores"), "etcd has none:\n" + table);
        }

        List<String> csv = Files.readAllLines(out.resolve("bench.csv"), StandardCharsets.UTF_8);
        assertEquals(1 + 2 * LOADS.size() * (etcd ? 2 : 1), csv.size(), String.join("\n", csv));
        assertTrue(csv.get(0).startsWith("load,connections,loop,store,"), csv.get(0));

        BufferedImage png = ImageIO.read(out.resolve("bench.png").toFile());
        assertNotNull(png, "bench.png is a PNG");
        assertTrue(png.getWidth() >= 800 && png.getHeight() >= 400, png.getWidth() + "x" + png.getHeight());
    }

    private static boolean onPath(String name) {
        for (String dir : System.getenv().getOrDefault("PATH", "").split(File.pathSeparator)) {
            if (Files.isExecutable(Path.of(dir.isEmpty() ? "." : dir, name))) {
                return true;
            }
        }
        return false;
    }
}
