package io.nimbus.tools;

import io.quarkus.test.common.http.TestHTTPResource;
import io.quarkus.test.junit.QuarkusTest;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.net.URL;
import java.nio.charset.StandardCharsets;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The load tool drives a real node and reports what it measured; bad options are refused with usage. */
@QuarkusTest
class LoadToolTest {
    @TestHTTPResource("/")
    URL base;

    private static String run(String... args) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        int rc = LoadTool.run(args, new PrintStream(out, true, StandardCharsets.UTF_8), new PrintStream(err, true, StandardCharsets.UTF_8));
        return rc + "\n" + out.toString(StandardCharsets.UTF_8) + err.toString(StandardCharsets.UTF_8);
    }

    @Test
    void aShortMixedRunReportsThroughputAndPercentilesWithoutErrors() {
        String url = base.toString().replaceAll("/$", "");
        String report = run("--url", url, "--connections", "2", "--duration-s", "1", "--warmup-s", "0",
                "--keys", "20", "--mix", "put:1,get:1,cas:1", "--max-ops", "5000", "--prefix", "loadtest-");
        assertTrue(report.startsWith("0\n"), report);
        for (String op : new String[]{"put", "get", "cas", "total"}) {
            Matcher m = Pattern.compile("(?m)^" + op + "\\s+(\\d+)\\s+(\\d+)\\s+([0-9.]+)\\s+([0-9.]+)\\s+([0-9.]+)").matcher(report);
            assertTrue(m.find(), op + " line in:\n" + report);
            assertTrue(Long.parseLong(m.group(1)) > 0, op + " ran: " + report);
            assertTrue(Double.parseDouble(m.group(4)) >= Double.parseDouble(m.group(3)), "p99 >= p50: " + report);
        }
        assertTrue(report.contains("errors 0"), report);
        assertTrue(report.contains("preloaded 20 keys"), report);
    }

    @Test
    void theOperationBoundStopsTheRun() {
        String url = base.toString().replaceAll("/$", "");
        String report = run("--url", url, "--connections", "1", "--duration-s", "30", "--warmup-s", "0",
                "--keys", "5", "--max-ops", "50", "--prefix", "bound-");
        Matcher m = Pattern.compile("(?m)^total\\s+(\\d+)").matcher(report);
        assertTrue(m.find(), report);
        assertEquals(50, Long.parseLong(m.group(1)), "stops at --max-ops, long before 30 s: " + report);
    }

    @Test
    void failedOperationsAreCountedByStatusAndProblemType() {
        String url = base.toString().replaceAll("/$", "");
        String report = run("--url", url, "--connections", "1", "--duration-s", "30", "--warmup-s", "0",
                "--keys", "5", "--max-ops", "20", "--consistency", "SOMETIMES", "--prefix", "failing-");
        assertTrue(report.startsWith("0\n"), report);
        assertTrue(report.contains("errors 20 {400 bad-request=20}"), "each failure named by its problem type: " + report);
    }

    @Test
    void aProblemTypeIsReadFromANimbusProblemBodyOnly() {
        byte[] problem = "{\"type\":\"urn:nimbus:problem:peer-overloaded\",\"title\":\"Peer overloaded\",\"status\":503}"
                .getBytes(StandardCharsets.UTF_8);
        assertEquals("503 peer-overloaded",
                NimbusLoadClient.failed(new HttpConnection.Response(503, null, problem)).status());
        assertEquals("502", NimbusLoadClient.failed(new HttpConnection.Response(502, null,
                "<html>bad gateway</html>".getBytes(StandardCharsets.UTF_8))).status());
        assertEquals("500", NimbusLoadClient.failed(new HttpConnection.Response(500, null, new byte[0])).status());
    }

    @Test
    void badOptionsAreRefusedWithUsage() {
        assertTrue(run("--connections", "0").startsWith("2\n"));
        assertTrue(run("--mix", "fly:1").contains("bad --mix part"));
        assertTrue(run("--nope", "1").contains("unknown options"));
        assertTrue(run("--target", "consul").contains("--target takes nimbus or etcd"));
        assertTrue(run("--rate", "-5").contains("--rate must be >= 0"));
        assertTrue(run("--route", "nearest").contains("--route takes spread or key"));
        assertTrue(run("--route", "key", "--target", "etcd").contains("--route key is for --target nimbus"));
        assertTrue(run("--route", "key", "--prefix", "a%2Fb-").contains("--prefix without '%' or '/'"));
        assertTrue(run("--help").contains("Usage:"));
    }
}
