package io.nimbus.tools;

import io.nimbus.api.ClientAuthTest;
import io.quarkus.test.common.http.TestHTTPResource;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.TestProfile;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.net.URL;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The load tool against a node that requires client tokens: it sends one when given, and only then gets in. */
@QuarkusTest
@TestProfile(ClientAuthTest.AuthOn.class)
class LoadToolAuthTest {
    @TestHTTPResource("/")
    URL base;

    private String run(String envToken, String... extra) {
        String[] args = new String[]{"--url", base.toString().replaceAll("/$", ""), "--connections", "1",
                "--duration-s", "1", "--warmup-s", "0", "--keys", "5", "--mix", "put:1,get:1", "--max-ops", "20",
                "--prefix", "load-auth-"};
        String[] all = java.util.Arrays.copyOf(args, args.length + extra.length);
        System.arraycopy(extra, 0, all, args.length, extra.length);
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        int rc = LoadTool.run(all, envToken, new PrintStream(out, true, StandardCharsets.UTF_8),
                new PrintStream(out, true, StandardCharsets.UTF_8));
        return rc + "\n" + out.toString(StandardCharsets.UTF_8);
    }

    @Test
    void withATokenFileEveryRequestGetsIn(@TempDir Path dir) throws Exception {
        Path file = Files.writeString(dir.resolve("token"), ClientAuthTest.WRITER + "\n");
        String report = run(null, "--token-file", file.toString());
        assertTrue(report.startsWith("0\n") && report.contains(" errors 0"), report);
        // a status as the report counts it ("401 unauthorized=3"): a bare "401" can be a rate in the table (ops/s 401)
        assertFalse(report.contains("401 unauthorized=") || report.contains("403 forbidden="), report);
        assertFalse(report.contains(ClientAuthTest.WRITER), "the token is never printed: " + report);
    }

    @Test
    void theEnvironmentTokenIsUsedWhenNoFileIsGiven() {
        String report = run(ClientAuthTest.WRITER);
        assertTrue(report.contains(" errors 0"), report);
    }

    @Test
    void withoutATokenTheNodeAnswers401AndTheRunCountsErrors() {
        String report = run(null);
        assertTrue(report.contains("401 unauthorized="), "counted by status and problem type: " + report);
        assertFalse(report.contains(" errors 0"), report);
    }

    @Test
    void aReadTokenCannotWrite(@TempDir Path dir) throws Exception {
        Path file = Files.writeString(dir.resolve("token"), ClientAuthTest.READER);
        String report = run(null, "--token-file", file.toString(), "--mix", "put:1");
        assertTrue(report.contains("403 forbidden="), "counted by status and problem type: " + report);
    }

    @Test
    void anEmptyOrMissingTokenFileIsRefused(@TempDir Path dir) throws Exception {
        Path empty = Files.writeString(dir.resolve("empty"), "");
        assertTrue(run(null, "--token-file", empty.toString()).startsWith("2\n"));
        assertTrue(run(null, "--token-file", dir.resolve("missing").toString()).contains("cannot read --token-file"));
    }
}
