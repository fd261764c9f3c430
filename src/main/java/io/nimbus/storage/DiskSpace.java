package io.nimbus.storage;

import java.io.IOException;
import java.nio.file.FileStore;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Free space on the file system that holds a store, and the estimate of what MapDB needs to absorb
 * records. MapDB 3.1 does not survive running out of space inside a commit (its mmap and file-channel
 * volumes both leave the file damaged: "Broken bit parity" on the next open), so the store never starts
 * a commit without room for it; see {@link MapDbStore}.
 */
@FunctionalInterface
public interface DiskSpace {
    /** Fixed allowance in every estimate: MapDB grows its file in 1 MiB steps and writes headers and its own log. */
    long COMMIT_OVERHEAD_BYTES = 2L << 20;
    /** Allowance per record for MapDB's index pages and its log's record headers (measured: ~250 B). */
    long BYTES_PER_RECORD = 512;
    /** Allowance per logged byte: the record in MapDB's log, in its file, and the space it frees only after. */
    long BYTES_PER_LOGGED_BYTE = 3;

    /** Bytes the caller may still write (what {@link FileStore#getUsableSpace()} says). */
    long usableBytes() throws IOException;

    /** The real file system under {@code dir} (looked up on first use: the directory may not exist yet). */
    static DiskSpace of(Path dir) {
        FileStore[] store = new FileStore[1];
        return () -> {
            if (store[0] == null) {
                store[0] = Files.getFileStore(dir);
            }
            return store[0].getUsableSpace();
        };
    }

    /**
     * An upper bound on the disk space MapDB needs to take in {@code records} records of {@code loggedBytes}
     * bytes of write-ahead log and commit them: {@code 3 × bytes + 512 × records + 2 MiB}. Measured on
     * MapDB 3.1 (mmap volume, transactions on) from records of 16 B to 100 KB: at most about 7 × the value
     * bytes for 16-byte values (mostly per-record index), at most about 2.4 × for 1 KB values.
     */
    static long commitBytes(long loggedBytes, long records) {
        return BYTES_PER_LOGGED_BYTE * loggedBytes + BYTES_PER_RECORD * records + COMMIT_OVERHEAD_BYTES;
    }

    /** Whether {@code t} (or a cause) is the file system saying it is full (ENOSPC, EDQUOT). */
    static boolean isNoSpace(Throwable t) {
        for (Throwable c = t; c != null; c = c.getCause()) {
            String m = c.getMessage();
            if (m != null && (m.contains("No space left on device") || m.contains("Disk quota exceeded"))) {
                return true;
            }
            if (c.getCause() == c) {
                break;
            }
        }
        return false;
    }
}
