package io.nimbus.storage;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/**
 * A file of zeros that holds disk space for the store's next checkpoint. It is written out block by
 * block (not a sparse file), so the space is really taken; when a checkpoint finds the disk full it
 * deletes the file and commits into the space that frees. While the file is missing the store takes
 * no writes, so everything it has accepted can always be checkpointed.
 */
final class DiskReserve {
    static final String FILE = "nimbus.reserve";
    private static final int CHUNK = 1 << 20;

    private final Path file;
    private final long bytes;
    private final DiskSpace space;
    private volatile boolean held;

    DiskReserve(Path dataDir, long bytes, DiskSpace space) throws IOException {
        this.file = dataDir.resolve(FILE);
        this.bytes = bytes;
        this.space = space;
        this.held = Files.isRegularFile(file) && Files.size(file) == bytes;
    }

    boolean held() {
        return held;
    }

    /** Looks at the file again (an operator may have deleted it); true if it is still there whole. */
    boolean recheck() throws IOException {
        held = Files.isRegularFile(file) && Files.size(file) == bytes;
        return held;
    }

    long bytes() {
        return bytes;
    }

    /** Free space now, not counting the reserve. */
    long usable() throws IOException {
        return space.usableBytes();
    }

    /**
     * True if {@code need} bytes are free, deleting the reserve first if that is what it takes; false if
     * even then they are not (the reserve is then kept, unless it was already gone).
     */
    boolean makeRoom(long need) throws IOException {
        long free = space.usableBytes();
        if (free >= need) {
            return true;
        }
        if (!held && !Files.exists(file)) {
            return false;
        }
        long releasable = Files.exists(file) ? Files.size(file) : 0;
        if (free + releasable < need) {
            return false;
        }
        release();
        return space.usableBytes() >= need;
    }

    /** Deletes the reserve file (made durable in the directory). */
    void release() throws IOException {
        Files.deleteIfExists(file);
        syncDirectory();
        held = false;
    }

    /**
     * Writes the reserve if it is missing and {@code bytes + freeBytesMin} are free; true if it is held
     * afterwards. A write that runs out of space deletes the partial file and answers false.
     */
    boolean tryCreate(long freeBytesMin) throws IOException {
        if (held) {
            return true;
        }
        Files.deleteIfExists(file);
        if (space.usableBytes() < bytes + freeBytesMin) {
            return false;
        }
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
            ByteBuffer zeros = ByteBuffer.allocate(CHUNK);
            for (long written = 0; written < bytes; ) {
                zeros.clear();
                zeros.limit((int) Math.min(CHUNK, bytes - written));
                while (zeros.hasRemaining()) {
                    written += ch.write(zeros);
                }
            }
            ch.force(true);
        } catch (IOException e) {
            Files.deleteIfExists(file);
            if (DiskSpace.isNoSpace(e)) {
                return false;
            }
            throw e;
        }
        syncDirectory();
        held = true;
        return true;
    }

    private void syncDirectory() throws IOException {
        try (FileChannel d = FileChannel.open(file.getParent(), StandardOpenOption.READ)) {
            d.force(true);
        }
    }
}
