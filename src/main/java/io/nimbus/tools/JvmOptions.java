package io.nimbus.tools;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * The JVM options a node runs with: {@code config/jvm.options} in the repository (README: {@code java
 * @config/jvm.options -jar ...}), packaged in the jar so that the bench starts its workers the way a user does.
 */
final class JvmOptions {
    static final String RESOURCE = "META-INF/nimbus/jvm.options";

    private JvmOptions() {
    }

    /** The file as packaged in this jar. */
    static String text() {
        try (InputStream in = JvmOptions.class.getClassLoader().getResourceAsStream(RESOURCE)) {
            if (in == null) {
                throw new IllegalStateException(RESOURCE + " is missing from this build (pom.xml packages config/jvm.options)");
            }
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Writes the packaged file into {@code dir}; returns the launcher argument that reads it: {@code @<file>}. */
    static String argFile(Path dir) throws IOException {
        Path file = dir.resolve("jvm.options");
        Files.writeString(file, text());
        return "@" + file.toAbsolutePath();
    }

    /**
     * The options of an argument file without its comments: a word that starts with {@code #} starts a comment to
     * the end of its line. A {@code #} inside a word, or a quote, is refused: the launcher's rules for them (it drops
     * such a word whole) are not worth relying on.
     */
    static List<String> options(String text) {
        List<String> options = new ArrayList<>();
        for (String line : text.lines().toList()) {
            for (String word : line.trim().split("\\s+")) {
                if (word.startsWith("#")) {
                    break;
                }
                if (word.contains("#") || word.contains("\"") || word.contains("'")) {
                    throw new IllegalArgumentException("an option with # or a quote in it: " + word);
                }
                if (!word.isEmpty()) {
                    options.add(word);
                }
            }
        }
        return List.copyOf(options);
    }
}
