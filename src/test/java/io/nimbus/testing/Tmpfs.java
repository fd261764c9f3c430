package io.nimbus.testing;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Arrays;
import java.util.concurrent.TimeUnit;

/** Small file systems for disk-full tests: mounting a tmpfs (root only), and filling it as another process would. */
public final class Tmpfs {
    private Tmpfs() {
    }

    /** Whether this process may mount (CI runs as root). */
    public static boolean canMount() {
        try {
            Process p = new ProcessBuilder("id", "-u").redirectErrorStream(true).start();
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim();
            return p.waitFor() == 0 && out.equals("0");
        } catch (IOException | InterruptedException e) {
            return false;
        }
    }

    public static void mount(Path at, long bytes) throws IOException, InterruptedException {
        run("mount", "-t", "tmpfs", "-o", "size=" + bytes, "tmpfs", at.toString());
    }

    /** Lazily: memory maps of closed stores keep it busy until they are collected. */
    public static void unmount(Path at) throws IOException, InterruptedException {
        run("umount", "-l", at.toString());
    }

    /** A file that takes {@code bytes} or, when fewer are free, every free byte. */
    public static void fill(Path file, long bytes) throws IOException {
        ByteBuffer block = ByteBuffer.allocate(64 << 10);
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
                StandardOpenOption.APPEND)) {
            for (int size = block.capacity(); size >= 512 && ch.size() < bytes; ) {
                try {
                    block.clear().limit((int) Math.min(size, bytes - ch.size()));
                    ch.write(block);
                } catch (IOException e) {
                    if (e.getMessage() == null || !e.getMessage().contains("No space left")) {
                        throw e;
                    }
                    size /= 2;
                }
            }
        }
    }

    private static void run(String... cmd) throws IOException, InterruptedException {
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!p.waitFor(30, TimeUnit.SECONDS) || p.exitValue() != 0) {
            throw new IOException(Arrays.toString(cmd) + " failed: " + out);
        }
    }
}
