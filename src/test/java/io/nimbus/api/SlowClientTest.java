package io.nimbus.api;

import io.quarkus.test.common.http.TestHTTPResource;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.QuarkusTestProfile;
import io.quarkus.test.junit.TestProfile;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.URL;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.UUID;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Slow and stalled clients are cut off: a body that does not arrive in time, a connection that goes quiet. */
@QuarkusTest
@TestProfile(SlowClientTest.ShortTimeouts.class)
class SlowClientTest {
    private static final long BODY_TIMEOUT_MS = 1000;
    private static final long IDLE_TIMEOUT_MS = 2000;

    public static class ShortTimeouts implements QuarkusTestProfile {
        @Override
        public Map<String, String> getConfigOverrides() {
            return Map.of("nimbus.http.body-timeout-ms", Long.toString(BODY_TIMEOUT_MS),
                    "quarkus.http.idle-timeout", IDLE_TIMEOUT_MS + "ms",
                    "nimbus.data-dir", "target/test-data/slow-client");
        }
    }

    @TestHTTPResource("/")
    URL base;

    private Socket connect() throws IOException {
        Socket s = new Socket();
        s.connect(new InetSocketAddress("127.0.0.1", base.getPort()), 2000);
        s.setSoTimeout(10_000);
        return s;
    }

    @Test
    void anIncompleteBodyGets408AndTheWriteNeverApplies() throws IOException {
        String k = "slow-" + UUID.randomUUID();
        long start = System.nanoTime();
        try (Socket s = connect()) {
            s.getOutputStream().write(("PUT /v1/kv/" + k + " HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\nabc")
                    .getBytes(StandardCharsets.US_ASCII));
            RawHttp.Reply r = RawHttp.read(s.getInputStream());
            long tookMs = (System.nanoTime() - start) / 1_000_000;
            assertEquals(408, r.status(), r.toString());
            assertTrue(r.isProblem(), r.toString());
            assertEquals("close", r.header("connection"));
            assertTrue(tookMs >= BODY_TIMEOUT_MS - 100 && tookMs < IDLE_TIMEOUT_MS, "answered after " + tookMs + " ms");
            assertEquals(-1, s.getInputStream().read(), "the connection stays open after a 408");
        }
        assertEquals(404, RawHttp.exchange(base.getPort(), "GET /v1/kv/" + k + " HTTP/1.1\r\nHost: x\r\n"
                + "Connection: close\r\n\r\n").status());
    }

    @Test
    void aTricklingBodyIsCutOffByTheBodyTimeoutNotTheIdleTimeout() throws Exception {
        String k = "trickle-" + UUID.randomUUID();
        long start = System.nanoTime();
        try (Socket s = connect()) {
            OutputStream out = s.getOutputStream();
            out.write(("PUT /v1/kv/" + k + " HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n")
                    .getBytes(StandardCharsets.US_ASCII));
            // one byte every 300 ms never lets the connection go idle
            Thread writer = new Thread(() -> {
                try {
                    for (int i = 0; i < 100; i++) {
                        Thread.sleep(300);
                        out.write('x');
                        out.flush();
                    }
                } catch (IOException | InterruptedException e) {
                    // the server closed the connection: what this test expects
                }
            });
            writer.start();
            RawHttp.Reply r = RawHttp.read(s.getInputStream());
            long tookMs = (System.nanoTime() - start) / 1_000_000;
            writer.interrupt();
            writer.join(5000);
            assertEquals(408, r.status(), r.toString());
            assertTrue(r.isProblem(), r.toString());
            assertTrue(tookMs < 5 * BODY_TIMEOUT_MS, "answered after " + tookMs + " ms");
        }
    }

    @Test
    void aStalledRequestHeadIsClosedByTheIdleTimeoutWithoutAnAnswer() throws IOException {
        long start = System.nanoTime();
        try (Socket s = connect()) {
            s.getOutputStream().write("GET /v1/kv/k HTTP/1.1\r\nHost: x\r\nX-Slow: ".getBytes(StandardCharsets.US_ASCII));
            // nothing can be answered before the head is complete: the connection is simply closed
            int read;
            try {
                read = s.getInputStream().read();
            } catch (IOException e) {
                read = -1;
            }
            long tookMs = (System.nanoTime() - start) / 1_000_000;
            assertEquals(-1, read);
            assertTrue(tookMs >= IDLE_TIMEOUT_MS - 200 && tookMs < 4 * IDLE_TIMEOUT_MS, "closed after " + tookMs + " ms");
        }
    }
}
