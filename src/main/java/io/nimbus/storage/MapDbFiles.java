package io.nimbus.storage;

import io.quarkus.runtime.ImageMode;
import org.mapdb.DBMaker;

import java.nio.file.Path;

/**
 * How every MapDB file of Nimbus is opened (the store, and its salvage): MapDB's own transaction log on.
 * On the JVM the file is memory-mapped and unmapped on close through MapDB's cleaner hack (which reaches
 * {@code sun.misc.Unsafe#invokeCleaner} by reflection). In a native image it is read and written through a
 * {@code FileChannel} instead: no mapping, so no cleaner hack and no {@code Unsafe} on MapDB's file path
 * (MapDB 3.1 does not support GraalVM, jankotek/mapdb#970; docs/NATIVE.md).
 */
final class MapDbFiles {
    private MapDbFiles() {
    }

    static DBMaker.Maker maker(Path file) {
        DBMaker.Maker m = DBMaker.fileDB(file.toFile()).transactionEnable();
        return ImageMode.current() == ImageMode.NATIVE_RUN ? m.fileChannelEnable()
                : m.fileMmapEnableIfSupported().cleanerHackEnable();
    }
}
