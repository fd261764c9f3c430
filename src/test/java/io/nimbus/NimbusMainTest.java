package io.nimbus;

import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The command line: a node runs only without arguments; {@code --help} and {@code --version} answer and exit 0;
 * any other argument is refused with the usage and exit code 2 (it used to start a node that ignored it).
 * The process-level check of the same is {@code CommandLineIT}.
 */
class NimbusMainTest {
    private final ByteArrayOutputStream out = new ByteArrayOutputStream();
    private final ByteArrayOutputStream err = new ByteArrayOutputStream();

    private int run(String... args) {
        return NimbusMain.command(args, new PrintStream(out, true, StandardCharsets.UTF_8),
                new PrintStream(err, true, StandardCharsets.UTF_8));
    }

    @Test
    void versionPrintsTheProjectVersion() {
        assertEquals(0, run("--version"));
        assertTrue(out.toString(StandardCharsets.UTF_8).matches("nimbus \\d+\\.\\d+\\.\\d+(-SNAPSHOT)?\\R"), out.toString());
        assertEquals("", err.toString(StandardCharsets.UTF_8));
    }

    @Test
    void helpPrintsTheUsage() {
        assertEquals(0, run("--help"));
        assertEquals(NimbusMain.USAGE, out.toString(StandardCharsets.UTF_8));
    }

    @Test
    void anUnknownArgumentIsRefusedWithTheUsage() {
        assertEquals(2, run("--verison"));
        String e = err.toString(StandardCharsets.UTF_8);
        assertTrue(e.startsWith("nimbus: unknown argument '--verison'"), e);
        assertTrue(e.contains(NimbusMain.USAGE), e);
        assertEquals("", out.toString(StandardCharsets.UTF_8));
    }

    @Test
    void aSystemPropertyAfterTheJarIsRefusedWithAHint() {
        assertEquals(2, run("-Dnimbus.role=proxy"));
        assertTrue(err.toString(StandardCharsets.UTF_8).contains("a system property goes before -jar"), err.toString());
    }

    @Test
    void theToolsStillTakeTheirArguments() {
        assertEquals(0, run("load", "--help"));
        assertTrue(out.toString(StandardCharsets.UTF_8).contains("load"), out.toString());
    }
}
