package io.nimbus.it;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.stream.Collectors;
import java.util.stream.Stream;

import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.jupiter.api.extension.TestWatcher;

/**
 * Deletes the data directories an integration test class created under {@code target/it-data/} once every
 * test in it passed, and keeps them when one failed or was aborted (for post-mortem inspection).
 *
 * <p>Each worker's data directory holds its disk reserve ({@code nimbus.storage.disk-reserve-bytes}, 64 MiB
 * by default) besides its store, so a full run of the ITs would otherwise leave several GiB behind, and a CI
 * machine that keeps its clones runs out of disk. Registered for the ITs only (failsafe turns on JUnit's
 * extension auto-detection; {@code META-INF/services/org.junit.jupiter.api.extension.Extension}). It runs
 * after the class's own {@code @AfterAll}, which kills the class's processes.
 */
public final class ItDataCleanup implements BeforeAllCallback, AfterAllCallback, TestWatcher {

    private static final ExtensionContext.Namespace NS = ExtensionContext.Namespace.create(ItDataCleanup.class);

    @Override
    public void beforeAll(ExtensionContext context) {
        context.getStore(NS).put("before", dirs());
    }

    @Override
    public void testFailed(ExtensionContext context, Throwable cause) {
        classStore(context).put("failed", Boolean.TRUE);
    }

    @Override
    public void testAborted(ExtensionContext context, Throwable cause) {
        classStore(context).put("failed", Boolean.TRUE);
    }

    @Override
    public void afterAll(ExtensionContext context) {
        @SuppressWarnings("unchecked")
        Set<Path> before = context.getStore(NS).get("before", Set.class);
        boolean failed = context.getStore(NS).get("failed") != null || context.getExecutionException().isPresent();
        if (before == null || failed) {
            return;
        }
        for (Path dir : dirs()) {
            if (!before.contains(dir)) {
                deleteTree(dir);
            }
        }
    }

    private static ExtensionContext.Store classStore(ExtensionContext context) {
        ExtensionContext c = context;
        while (c.getParent().isPresent() && c.getTestMethod().isPresent()) {
            c = c.getParent().get();
        }
        return c.getStore(NS);
    }

    /** The directories under {@code target/it-data/} now (none when the ITs' jar is not configured). */
    static Set<Path> dirs() {
        if (System.getProperty("nimbus.it.jar") == null) {
            return Set.of();
        }
        Path root = NodeProcess.targetDir().resolve("it-data");
        if (!Files.isDirectory(root)) {
            return Set.of();
        }
        try (Stream<Path> s = Files.list(root)) {
            return s.collect(Collectors.toCollection(HashSet::new));
        } catch (IOException e) {
            throw new UncheckedIOException("could not list " + root, e);
        }
    }

    static void deleteTree(Path dir) {
        List<Path> paths;
        try (Stream<Path> s = Files.walk(dir)) {
            paths = s.sorted(Comparator.reverseOrder()).collect(Collectors.toList());
        } catch (IOException e) {
            throw new UncheckedIOException("could not list " + dir + " to delete it", e);
        }
        for (Path p : paths) {
            try {
                Files.deleteIfExists(p);
            } catch (IOException e) {
                throw new UncheckedIOException("could not delete " + p + " (a passing IT's data)", e);
            }
        }
    }
}
