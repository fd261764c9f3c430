package io.nimbus.it;

import io.nimbus.testing.Tmpfs;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * A real worker whose data directory is on a small tmpfs (mounted by the test; needs root, as CI has):
 * writes until the node answers 503 {@code disk-full}, then another file takes every free byte, the node
 * is killed with {@code kill -9} mid-write and restarted on the full disk (it must either come up with
 * every acknowledged write or refuse to start saying the disk is full), then space is freed: the node
 * takes writes again by itself, every acknowledged write is there, and a clean restart finds the same.
 * {@code -Ddiskfull.it.runs=N} repeats it with other sizes and seeds (the figures in the issue note).
 */
class DiskFullIT {
    private static final int RUNS = Integer.getInteger("diskfull.it.runs", 1);
    private final List<NodeProcess> nodes = new ArrayList<>();
    private final List<Path> mounts = new ArrayList<>();

    @AfterEach
    void cleanUp() throws Exception {
        NodeProcess.closeAll(nodes);
        for (Path m : mounts) {
            Tmpfs.unmount(m);
        }
    }

    @Test
    void aFullDiskRefusesWritesCleanlyLosesNothingAndResumes() throws Exception {
        assumeTrue(Tmpfs.canMount(), "mounting a tmpfs needs root (CI runs as root)");
        List<String> reports = new ArrayList<>();
        for (int run = 0; run < RUNS; run++) {
            reports.add(oneRun(run, new SplittableRandom(31L * run + 5)));
        }
        System.out.println("[it] DiskFullIT:\n  " + String.join("\n  ", reports));
    }

    private String oneRun(int run, SplittableRandom random) throws Exception {
        Path mnt = NodeProcess.newDataDir("diskfull-" + run);
        long fsBytes = (40L << 20) + random.nextLong(8L << 20);
        Tmpfs.mount(mnt, fsBytes);
        mounts.add(mnt);
        Path data = mnt.resolve("data");
        Path other = mnt.resolve("other-process.data");
        Path filler = mnt.resolve("other-process.fill");
        Tmpfs.fill(other, 14L << 20);
        String[] props = {"nimbus.storage.disk-reserve-bytes=" + (8L << 20), "nimbus.storage.disk-free-bytes-min=" + (2L << 20)};
        Map<String, String> acked = new HashMap<>();
        Map<String, Set<String>> unknown = new HashMap<>();
        NodeProcess node = start("diskfull-" + run + "-a", data, props).awaitReady(NodeProcess.READY_TIMEOUT);

        // 1. Writes until the node refuses them for want of space: 503 disk-full, with a problem body, not applied.
        int refused = 0, ackedCount = 0;
        String problem = null;
        for (int i = 0; i < 20_000 && refused < 20; i++) {
            String key = "k" + random.nextInt(300);
            String value = key + "-" + i + "-" + "v".repeat(random.nextInt(1_000, 64_000));
            HttpResponse<String> r = node.put(key, value.getBytes(StandardCharsets.UTF_8));
            if (r.statusCode() == 204) {
                acked.put(key, value);
                unknown.remove(key);
                ackedCount++;
            } else if (r.statusCode() == 503 && r.body().contains("disk-full")) {
                refused++;
                problem = r.body();
                assertTrue(r.headers().firstValue("Content-Type").orElse("").startsWith("application/problem+json"), r.headers().toString());
                assertTrue(r.headers().firstValue("Retry-After").isPresent(), "503 disk-full without Retry-After");
                Thread.sleep(5);
            } else {
                fail("PUT answered " + r.statusCode() + " " + r.body());
            }
        }
        assertTrue(refused >= 20, "the node never refused a write for a full disk (" + ackedCount + " acknowledged)");
        assertEquals(200, node.get(acked.keySet().iterator().next()).statusCode(), "reads must go on when the disk is full");
        String ready = node.fetch("/q/health/ready");
        assertTrue(ready.contains("diskFull") || ready.contains("UP"), ready);

        // 2. Another process takes every byte while writes go on; kill -9 in the middle of them.
        Tmpfs.fill(filler, Long.MAX_VALUE);
        NodeProcess writing = node;
        Thread killer = new Thread(() -> {
            try {
                Thread.sleep(300);
                writing.killHard();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        });
        killer.start();
        while (node.isAlive()) {
            String key = "k" + random.nextInt(300);
            String value = key + "-late-" + random.nextInt() + "-" + "w".repeat(random.nextInt(100, 4_000));
            try {
                HttpResponse<String> r = node.put(key, value.getBytes(StandardCharsets.UTF_8));
                if (r.statusCode() == 204) {
                    acked.put(key, value);
                    unknown.remove(key);
                    ackedCount++;
                } else if (r.statusCode() >= 500) {
                    // 503 disk-full: not applied; anything else 5xx: maybe
                    if (!r.body().contains("disk-full")) {
                        unknown.computeIfAbsent(key, k -> new HashSet<>()).add(value);
                    }
                } else {
                    fail("PUT answered " + r.statusCode() + " " + r.body());
                }
            } catch (IOException e) {
                unknown.computeIfAbsent(key, k -> new HashSet<>()).add(value);
            }
        }
        killer.join();

        // 3. Restart on the full disk: up with everything, or a refusal that says the disk is full.
        NodeProcess b = start("diskfull-" + run + "-b", data, props);
        String restartOnFull;
        long resumeMs;
        if (awaitReadyOrExit(b)) {
            restartOnFull = "came up";
            check(b, acked, unknown, "restarted on the full disk");
            long freedAt = System.nanoTime();
            Files.delete(filler);
            Files.delete(other);
            resumeMs = awaitWrite(b, acked, freedAt);
            b.stop();
        } else {
            assertTrue(b.output().contains("full"), "refused to start for another reason:\n" + b.tail(30));
            restartOnFull = "refused: disk full";
            Files.delete(filler);
            Files.delete(other);
            resumeMs = -1;
        }

        // 4. With space back: every acknowledged write is there, writes work, and a clean restart finds the same.
        NodeProcess c = start("diskfull-" + run + "-c", data, props).awaitReady(NodeProcess.READY_TIMEOUT);
        check(c, acked, unknown, "after space was freed");
        if (resumeMs < 0) {
            resumeMs = awaitWrite(c, acked, System.nanoTime());
        }
        c.stop();
        NodeProcess d = start("diskfull-" + run + "-d", data, props).awaitReady(NodeProcess.READY_TIMEOUT);
        check(d, acked, unknown, "after a clean restart");
        d.stop();
        return String.format("run %d: tmpfs %d MiB, %d acknowledged writes (0 lost), %d refused 503 disk-full, "
                        + "restart on the full disk: %s, writes resumed %d ms after space was freed", run, fsBytes >> 20,
                ackedCount, refused, restartOnFull, resumeMs);
    }

    private NodeProcess start(String name, Path data, String... props) throws IOException {
        NodeProcess n = NodeProcess.start(name, data, props);
        nodes.add(n);
        return n;
    }

    /** True once ready; false if the process exited first. */
    private static boolean awaitReadyOrExit(NodeProcess n) throws InterruptedException {
        long deadline = System.nanoTime() + NodeProcess.READY_TIMEOUT.toNanos();
        while (System.nanoTime() < deadline) {
            if (!n.isAlive()) {
                return false;
            }
            try {
                HttpResponse<Void> r = n.http().send(HttpRequest.newBuilder(n.uri("/q/health/ready"))
                        .timeout(Duration.ofSeconds(1)).GET().build(), HttpResponse.BodyHandlers.discarding());
                if (r.statusCode() == 200) {
                    return true;
                }
            } catch (IOException notYet) {
                // not listening yet
            }
            Thread.sleep(100);
        }
        throw new AssertionError(n + " neither ready nor exited:\n" + n.tail(30));
    }

    private static long awaitWrite(NodeProcess n, Map<String, String> acked, long since) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(15);
        while (System.nanoTime() < deadline) {
            HttpResponse<String> r = n.put("resume", "back".getBytes(StandardCharsets.UTF_8));
            if (r.statusCode() == 204) {
                acked.put("resume", "back");
                return TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - since);
            }
            assertEquals(503, r.statusCode(), r.body());
            Thread.sleep(20);
        }
        throw new AssertionError("writes did not resume within 15 s of freeing space");
    }

    private static void check(NodeProcess n, Map<String, String> acked, Map<String, Set<String>> unknown, String when)
            throws Exception {
        List<String> bad = new ArrayList<>();
        Set<String> keys = new HashSet<>(acked.keySet());
        keys.addAll(unknown.keySet());
        for (String k : keys) {
            HttpResponse<byte[]> r = n.get(k);
            String found = r.statusCode() == 200 ? new String(r.body(), StandardCharsets.UTF_8) : null;
            assertTrue(r.statusCode() == 200 || r.statusCode() == 404, k + ": GET " + r.statusCode());
            String want = acked.get(k);
            boolean ok = found == null ? want == null : found.equals(want) || unknown.getOrDefault(k, Set.of()).contains(found);
            if (!ok) {
                bad.add(k + ": found " + (found == null ? "nothing" : found.substring(0, Math.min(30, found.length())))
                        + ", acknowledged " + (want == null ? "nothing" : want.substring(0, Math.min(30, want.length()))));
            }
            if (found != null) {
                acked.put(k, found);
            }
            unknown.remove(k);
        }
        assertTrue(bad.isEmpty(), when + ": " + bad.size() + " keys lost an acknowledged write: " + bad);
    }
}
