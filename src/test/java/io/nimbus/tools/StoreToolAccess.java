package io.nimbus.tools;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;

/** Runs {@code store verify} for tests in other packages: "exit code: output". */
public final class StoreToolAccess {
    private StoreToolAccess() {
    }

    public static String verify(Path dir) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        int code = StoreTool.run(new String[] {"verify", "--data-dir", dir.toString()},
                new PrintStream(out, true, StandardCharsets.UTF_8), new PrintStream(out, true, StandardCharsets.UTF_8));
        return code + ": " + out.toString(StandardCharsets.UTF_8);
    }
}
