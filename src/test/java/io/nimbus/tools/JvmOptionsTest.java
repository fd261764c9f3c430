package io.nimbus.tools;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** config/jvm.options: what README's node command, the bench and the JVM images start a node with. */
class JvmOptionsTest {
    private static final Path FILE = Path.of("config", "jvm.options");
    /** A line of -XX:+PrintFlagsFinal: type, name, value, origin. */
    private static final Pattern FLAG = Pattern.compile("^\\s*\\S+\\s+(\\w+)\\s+:?=\\s+(\\S*)\\s+\\{[^}]*}\\s+\\{([^}]*)}");

    @Test
    void theJarCarriesTheRepositorysFileSoTheBenchStartsWorkersAsTheReadmeDoes(@TempDir Path dir) throws Exception {
        assertEquals(Files.readString(FILE), JvmOptions.text());
        String arg = JvmOptions.argFile(dir);
        assertTrue(arg.startsWith("@"), arg);
        assertEquals(Files.readString(FILE), Files.readString(Path.of(arg.substring(1))));
    }

    @Test
    void commentsAndBlankLinesAreNotOptions() {
        assertEquals(List.of("-Xms32m", "-XX:+UseSerialGC", "-Xmn24m"),
                JvmOptions.options("# a comment -Xmx1g\n\n  -Xms32m   -XX:+UseSerialGC #trailing -Xmx1g\n-Xmn24m\n"));
        assertThrows(IllegalArgumentException.class, () -> JvmOptions.options("-Dx=a#b\n"));
        assertThrows(IllegalArgumentException.class, () -> JvmOptions.options("\"-Dx=a b\"\n"));
    }

    /** The launcher reads the file and every option in it takes effect on this JDK (a misspelt one would not start). */
    @Test
    void everyOptionOfTheFileIsInEffectWhenTheLauncherReadsIt() throws Exception {
        Process p = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "@" + FILE, "-XX:+PrintFlagsFinal", "-version").redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(60, TimeUnit.SECONDS), out);
        assertEquals(0, p.exitValue(), out);
        Map<String, String> fromCommandLine = new HashMap<>();
        for (String line : out.split("\n")) {
            Matcher m = FLAG.matcher(line);
            if (m.find() && m.group(3).contains("command line")) {
                fromCommandLine.put(m.group(1), m.group(2));
            }
        }
        List<String> options = JvmOptions.options(Files.readString(FILE));
        assertTrue(options.size() >= 4, options.toString());
        for (String option : options) {
            if (option.startsWith("-XX:+") || option.startsWith("-XX:-")) {
                assertEquals(option.startsWith("-XX:+") ? "true" : "false", fromCommandLine.get(option.substring(5)),
                        option + " in effect:\n" + fromCommandLine);
            } else if (option.startsWith("-XX:")) {
                String[] nameValue = option.substring(4).split("=", 2);
                String value = nameValue[1].matches("\\d+[kKmMgG]") ? bytes(nameValue[1]) : nameValue[1];
                assertEquals(value, fromCommandLine.get(nameValue[0]), option + " in effect:\n" + fromCommandLine);
            } else if (option.startsWith("-Xms")) {
                assertEquals(bytes(option.substring(4)), fromCommandLine.get("InitialHeapSize"), option);
            } else {
                throw new AssertionError("no check for " + option + ": add one here");
            }
        }
    }

    /**
     * The JVM images put the file where their start script (run-java.sh) puts its collector option, which it
     * replaces (with two collectors the JVM refuses to start), and JAVA_OPTS_APPEND stays the user's; the script's
     * heap free ratios, which come after, are set to the file's.
     */
    @Test
    void theJvmImagesStartTheNodeWithTheFileInPlaceOfTheirCollector() throws Exception {
        List<String> options = JvmOptions.options(Files.readString(FILE));
        assertEquals(1, options.stream().filter(o -> o.matches("-XX:\\+Use\\w+GC")).count(), options.toString());
        for (String role : List.of("worker", "proxy")) {
            String dockerfile = Files.readString(Path.of("src", "main", "docker", "Dockerfile." + role + ".jvm"));
            assertTrue(dockerfile.contains("COPY --chown=185 config/jvm.options /deployments/jvm.options\n"), role);
            assertTrue(dockerfile.contains("ENV GC_CONTAINER_OPTIONS=\"@/deployments/jvm.options\"\n"), role);
            for (String ratio : List.of("MinHeapFreeRatio", "MaxHeapFreeRatio")) {
                String value = options.stream().filter(o -> o.startsWith("-XX:" + ratio + "=")).findFirst()
                        .orElseThrow().split("=")[1];
                String env = ratio.startsWith("Min") ? "GC_MIN_HEAP_FREE_RATIO" : "GC_MAX_HEAP_FREE_RATIO";
                assertTrue(dockerfile.contains("ENV " + env + "=" + value + "\n"), role + ": " + env + "=" + value);
            }
            assertTrue(!dockerfile.contains("jvm.options -D") && !dockerfile.contains("APPEND=\"@"), role + ": once");
        }
        assertTrue(Files.readAllLines(Path.of(".dockerignore")).contains("!config/jvm.options"),
                "the build context lets the file in");
    }

    private static String bytes(String size) {
        long n = Long.parseLong(size.substring(0, size.length() - 1));
        return Long.toString(switch (Character.toLowerCase(size.charAt(size.length() - 1))) {
            case 'k' -> n << 10;
            case 'm' -> n << 20;
            case 'g' -> n << 30;
            default -> throw new AssertionError("a size with a unit: " + size);
        });
    }
}
