package io.nimbus.it;

import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import java.util.zip.ZipFile;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * What {@code ./mvnw package} generates for the native images (quarkus.native.sources-only, per role): the
 * sources {@code src/main/docker/Dockerfile.<role>.native} compiles. Checked here: each role's native-image
 * arguments, that the runner jar carries Nimbus's native configuration (MapDB's reflection, the substitution
 * that keeps the store tool out of a MapDB-less image, the version file as a resource), that only the
 * role's storage bean was generated, and that the proxy's libraries hold no MapDB. Not checked (no
 * native-image here): that native-image accepts them and that the executable runs (docs/NATIVE.md).
 */
class NativeSourcesIT {
    private static final String NIMBUS_CONFIG = "META-INF/native-image/io.nimbus/nimbus/reflect-config.json";
    private static final String SUBSTITUTION = "io/nimbus/tools/graal/StoreToolWithoutMapDb.class";

    @Test
    void workerSources() throws IOException {
        Path dir = sources("worker");
        Set<String> jar = runnerEntries(dir);
        assertTrue(jar.contains("io/nimbus/node/WorkerStorage_Bean.class"), "the worker build has the MapDB storage bean");
        assertFalse(jar.contains("io/nimbus/node/ProxyStorage_Bean.class"), "... and not the proxy's");
        assertTrue(libs(dir).stream().anyMatch(j -> j.startsWith("org.mapdb.mapdb-")), "MapDB is in the worker's lib/");
    }

    @Test
    void proxySources() throws IOException {
        Path dir = sources("proxy");
        Set<String> jar = runnerEntries(dir);
        assertTrue(jar.contains("io/nimbus/node/ProxyStorage_Bean.class"), "the proxy build has the empty storage bean");
        assertFalse(jar.contains("io/nimbus/node/WorkerStorage_Bean.class"), "... and not the MapDB one");
        List<String> leaked = libs(dir).stream().filter(j -> j.startsWith("org.mapdb.") || j.startsWith("org.jetbrains.kotlin.")
                || j.startsWith("org.eclipse.collections.") || j.startsWith("com.google.guava.") || j.startsWith("net.jpountz."))
                .toList();
        assertTrue(leaked.isEmpty(), "the proxy's native image would carry " + leaked);
    }

    /** The sources of one role, with the parts every role needs. */
    private static Path sources(String role) throws IOException {
        Path dir = NodeProcess.targetDir().resolve(role + "-native").resolve("native-sources");
        Path args = dir.resolve("native-image.args");
        assertTrue(Files.isRegularFile(args), args + " missing: ./mvnw package writes it (unless -DskipRoleBuilds)");
        String a = Files.readString(args, StandardCharsets.UTF_8);
        assertTrue(a.contains("--link-at-build-time"), "every reachable class must resolve at build time: " + a);
        assertTrue(a.contains("--no-fallback"), a);
        assertTrue(a.contains("-runner.jar"), a);
        Set<String> jar = runnerEntries(dir);
        assertTrue(jar.contains(NIMBUS_CONFIG), "the runner jar carries MapDB's reflection configuration");
        assertTrue(jar.contains(SUBSTITUTION), "... and the store tool's substitution");
        assertTrue(jar.contains("nimbus-version.properties"), "... and the version file");
        try (ZipFile z = new ZipFile(runner(dir).toFile())) {
            String resources = new String(z.getInputStream(z.getEntry("META-INF/native-image/resource-config.json"))
                    .readAllBytes(), StandardCharsets.UTF_8);
            assertTrue(resources.contains("nimbus-version"), "the version file is a native resource: " + resources);
        }
        return dir;
    }

    private static Path runner(Path dir) throws IOException {
        try (Stream<Path> s = Files.list(dir)) {
            return s.filter(p -> p.getFileName().toString().endsWith("-runner.jar")).findFirst()
                    .orElseThrow(() -> new AssertionError("no runner jar in " + dir));
        }
    }

    private static Set<String> runnerEntries(Path dir) throws IOException {
        try (ZipFile z = new ZipFile(runner(dir).toFile())) {
            return z.stream().map(java.util.zip.ZipEntry::getName).collect(Collectors.toSet());
        }
    }

    private static List<String> libs(Path dir) throws IOException {
        try (Stream<Path> s = Files.list(dir.resolve("lib"))) {
            return s.map(p -> p.getFileName().toString()).sorted().toList();
        }
    }
}
