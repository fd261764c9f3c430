package io.nimbus.it;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.net.http.HttpResponse;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A node never runs over a data directory it must not use: one that another node holds, one whose
 * store file is damaged, or one whose store file has gone missing.
 */
class DataDirSafetyIT {
    /** Start-up that fails must fail on its own within this (a JVM start plus Quarkus boot is ~2-4 s here). */
    private static final Duration FAIL_FAST = Duration.ofSeconds(60);

    private final List<NodeProcess> nodes = new ArrayList<>();

    @AfterEach
    void killNodes() {
        NodeProcess.closeAll(nodes);
    }

    private NodeProcess track(NodeProcess node) {
        nodes.add(node);
        return node;
    }

    @Test
    void secondNodeOnALockedDataDirExitsAndTheFirstKeepsServing() throws Exception {
        Path dir = NodeProcess.newDataDir("locked");
        NodeProcess first = track(NodeProcess.startReady("lock-first", dir));
        byte[] value = "still-here".getBytes(StandardCharsets.UTF_8);
        assertEquals(204, first.put("k", value).statusCode());

        NodeProcess second = track(NodeProcess.start("lock-second", dir));
        long t0 = System.nanoTime();
        int exit = second.runToExit(FAIL_FAST);
        long ms = (System.nanoTime() - t0) / 1_000_000;
        String out = second.output();
        System.out.printf("[it] second node on a locked dir exited %d after %d ms%n", exit, ms);
        assertNotEquals(0, exit, "second node must exit non-zero; output:\n" + out);
        assertTrue(out.contains("is in use by another Nimbus process"), "no lock message in output:\n" + out);
        assertTrue(out.contains("(pid " + first.pid() + ")"), "lock message should name the owner pid "
                + first.pid() + ":\n" + out);

        assertTrue(first.isAlive(), "first node died when the second one tried the directory; log:\n" + first.tail(40));
        HttpResponse<byte[]> get = first.get("k");
        assertEquals(200, get.statusCode(), "first node stopped serving reads; log:\n" + first.tail(40));
        assertArrayEquals(value, get.body());
        assertEquals(204, first.put("k2", value).statusCode(), "first node stopped taking writes; log:\n"
                + first.tail(40));
        assertEquals(200, first.get("k2").statusCode());
    }

    @Test
    void damagedStoreFileStopsStartUpAndIsLeftAlone() throws Exception {
        Path dir = NodeProcess.newDataDir("damaged");
        NodeProcess node = track(NodeProcess.startReady("damaged-writer", dir));
        for (int i = 0; i < 20; i++) {
            assertEquals(204, node.put("key-" + i, ("value-" + i).getBytes(StandardCharsets.UTF_8)).statusCode());
        }
        int stopExit = node.stop();
        assertFalse(node.isAlive());
        assertTrue(node.output().contains("store closed"), "clean stop (SIGTERM, exit " + stopExit
                + ") did not close the store:\n" + node.tail(20));

        Path db = dir.resolve("nimbus.db");
        byte[] garbage = new byte[64];
        for (int i = 0; i < garbage.length; i++) {
            garbage[i] = (byte) (0xA5 ^ (i * 37));
        }
        try (FileChannel ch = FileChannel.open(db, StandardOpenOption.WRITE)) {
            ch.write(ByteBuffer.wrap(garbage), 0);
            ch.force(true);
        }
        String before = sha256(db);

        NodeProcess restarted = track(NodeProcess.start("damaged-restart", dir));
        int exit = restarted.runToExit(FAIL_FAST);
        String out = restarted.output();
        assertNotEquals(0, exit, "node started over a damaged store file; output:\n" + out);
        String lower = out.toLowerCase(Locale.ROOT);
        assertTrue(lower.contains("damaged") || lower.contains("corrupt"),
                "output does not say the store is damaged or corrupt:\n" + out);
        assertTrue(out.contains("nimbus.db"), "output does not name the damaged file:\n" + out);
        assertEquals(before, sha256(db), "the failed start-up modified the damaged store file");
        assertTrue(Files.exists(dir.resolve("NIMBUS_FORMAT")));
    }

    @Test
    void missingStoreFileWithFormatMarkerRefusesToStartEmpty() throws Exception {
        Path dir = NodeProcess.newDataDir("missing");
        NodeProcess node = track(NodeProcess.startReady("missing-writer", dir));
        assertEquals(204, node.put("k", "v".getBytes(StandardCharsets.UTF_8)).statusCode());
        node.stop();
        assertTrue(Files.exists(dir.resolve("NIMBUS_FORMAT")), "the node did not write NIMBUS_FORMAT");

        Files.delete(dir.resolve("nimbus.db"));
        NodeProcess restarted = track(NodeProcess.start("missing-restart", dir));
        int exit = restarted.runToExit(FAIL_FAST);
        String out = restarted.output();
        assertNotEquals(0, exit, "node started over a directory that lost its store file; output:\n" + out);
        assertTrue(out.contains("Refusing to start empty"), "no refusal message in output:\n" + out);
        assertFalse(Files.exists(dir.resolve("nimbus.db")), "the refused start-up created a new, empty nimbus.db");
        assertTrue(Files.exists(dir.resolve("NIMBUS_FORMAT")), "the refused start-up removed NIMBUS_FORMAT");
    }

    private static String sha256(Path file) throws Exception {
        return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(Files.readAllBytes(file)));
    }
}
