package io.nimbus.api;

import io.quarkus.test.common.http.TestHTTPResource;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.QuarkusTestProfile;
import io.quarkus.test.junit.TestProfile;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.net.URL;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.TreeMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

import static io.restassured.RestAssured.given;
import static org.hamcrest.Matchers.equalTo;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Raw-socket fuzzing of the HTTP edge with a fixed seed ({@code -Dfuzz.seed=S} replays another): malformed
 * request lines, headers, escapes, encodings, lengths and versions, then random mutations of valid
 * requests. Asserts that no request ever gets a 5xx (but the 505 problem for an unknown version), that
 * every 4xx carries a problem body or is one of the codec's documented bare refusals, that every request
 * whose head is complete is answered, that the node stays live and that data written before is intact.
 */
@QuarkusTest
@TestProfile(HttpEdgeFuzzTest.ShortTimeouts.class)
class HttpEdgeFuzzTest {
    private static final long SEED = Long.getLong("fuzz.seed", 20261130L);
    private static final int MUTATIONS = Integer.getInteger("fuzz.mutations", 2400);
    private static final long BUDGET_MS = 45_000;
    private static final int THREADS = 8;
    private static final int READ_TIMEOUT_MS = 5000;
    /** How long a request whose head never ends is given to be refused early, before the client gives up. */
    private static final int UNTERMINATED_WAIT_MS = 200;

    public static class ShortTimeouts implements QuarkusTestProfile {
        @Override
        public Map<String, String> getConfigOverrides() {
            return Map.of("nimbus.http.body-timeout-ms", "1000", "quarkus.http.idle-timeout", "2s",
                    "nimbus.data-dir", "target/test-data/http-fuzz");
        }
    }

    @TestHTTPResource("/")
    URL base;

    /** One generated request: its bytes, what produced it, and what must come back when that is known. */
    record Case(String kind, byte[] bytes, Integer expectStatus, boolean expectProblem) {
    }

    /** What one exchange showed; {@code failure} is null when the reply was acceptable. */
    record Outcome(Case c, RawHttp.Reply reply, String failure) {
    }

    /** How long a client waits, after a bare refusal, to see the connection closed. */
    private static final int CLOSE_WAIT_MS = 1000;

    @Test
    void theEdgeNeverFailsAndNeverLosesData() throws Exception {
        Map<String, String> kept = new LinkedHashMap<>();
        for (int i = 0; i < 20; i++) {
            String k = "keep-" + i + "-" + Long.toHexString(SEED);
            String v = "value " + i + " é";
            given().body(v.getBytes(StandardCharsets.UTF_8)).put("/v1/kv/{key}", k).then().statusCode(204);
            kept.put(k, v);
        }

        SplittableRandom random = new SplittableRandom(SEED);
        List<Case> cases = new ArrayList<>(structured());
        for (int i = 0; i < MUTATIONS; i++) {
            cases.add(mutated(random.split(), i));
        }

        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(BUDGET_MS);
        ExecutorService pool = Executors.newFixedThreadPool(THREADS);
        List<Future<Outcome>> futures = new ArrayList<>();
        for (Case c : cases) {
            futures.add(pool.submit(() -> System.nanoTime() > deadline ? null : exchange(c)));
        }
        pool.shutdown();
        assertTrue(pool.awaitTermination(BUDGET_MS + 60_000, TimeUnit.MILLISECONDS), "fuzz clients did not finish");

        Map<String, Integer> statuses = new TreeMap<>();
        Map<String, Integer> silent = new TreeMap<>();
        int sent = 0;
        int bare = 0;
        List<String> failures = new ArrayList<>();
        Map<String, Integer> failureKinds = new TreeMap<>();
        for (Future<Outcome> f : futures) {
            Outcome o = f.get();
            if (o == null) {
                continue;
            }
            sent++;
            RawHttp.Reply r = o.reply();
            if (r.closedWithoutReply()) {
                String why = !headTerminated(o.c().bytes()) ? "head never ended" : chunked(o.c().bytes())
                        ? "chunked body broken" : "complete head";
                silent.merge(o.c().kind() + ", " + why + (r.timedOut() ? ", client gave up" : ", closed"), 1,
                        Integer::sum);
            } else {
                statuses.merge(Integer.toString(r.status()), 1, Integer::sum);
                if (r.status() >= 400 && r.status() < 500 && r.header("content-type") == null) {
                    if (bare++ < 12 || (o.c().kind().equals("mutation") && bare % 60 == 0)) {
                        System.out.println("  bare " + r.status() + " for " + o.c().kind() + ": " + escape(o.c().bytes()));
                    }
                }
            }
            if (o.failure() != null) {
                failureKinds.merge(o.failure() + " [" + o.c().kind() + ", " + (r.closedWithoutReply() ? "no reply"
                        : Integer.toString(r.status())) + "]", 1, Integer::sum);
                failures.add(o.failure() + "\n    request " + o.c().kind() + ": " + escape(o.c().bytes()) + "\n    reply: " + r);
            }
        }
        System.out.printf("HTTP edge fuzz, seed %d: %d of %d requests sent in the budget; statuses %s; bare codec "
                + "4xx %d; no reply %s%n", SEED, sent, cases.size(), statuses, bare, silent);
        assertTrue(failures.isEmpty(), failures.size() + " bad replies (seed " + SEED + ", replay with -Dfuzz.seed="
                + SEED + "): " + failureKinds + "; first ones:\n" + String.join("\n", failures.subList(0, Math.min(10, failures.size()))));
        assertTrue(sent >= cases.size() / 2, "only " + sent + " of " + cases.size() + " requests fit the time budget");

        given().get("/q/health/live").then().statusCode(200).body("status", equalTo("UP"));
        for (Map.Entry<String, String> e : kept.entrySet()) {
            byte[] got = given().get("/v1/kv/{key}", e.getKey()).then().statusCode(200).extract().asByteArray();
            assertEquals(e.getValue(), new String(got, StandardCharsets.UTF_8), "data written before the fuzz changed");
        }
    }

    private Outcome exchange(Case c) {
        boolean terminated = headTerminated(c.bytes());
        RawHttp.Reply reply;
        try (Socket s = new Socket()) {
            s.connect(new InetSocketAddress("127.0.0.1", base.getPort()), 2000);
            s.setSoTimeout(terminated ? READ_TIMEOUT_MS : UNTERMINATED_WAIT_MS);
            try {
                s.getOutputStream().write(c.bytes());
                s.getOutputStream().flush();
            } catch (IOException e) {
                // refused and closed while we were still writing: read what was said
            }
            boolean closedAfter = false;
            try {
                reply = RawHttp.read(s.getInputStream(), startsWith(c.bytes(), "HEAD "));
                if (!reply.closedWithoutReply() && reply.status() >= 400 && reply.header("content-type") == null) {
                    closedAfter = closedWithin(s, CLOSE_WAIT_MS);
                }
            } catch (SocketTimeoutException e) {
                reply = new RawHttp.Reply(-1, null, Map.of(), new byte[0], true, true);
            }
            return new Outcome(c, reply, judge(c, reply, terminated, closedAfter));
        } catch (IOException | RuntimeException e) {
            return new Outcome(c, new RawHttp.Reply(-1, null, Map.of(), new byte[0], true, false),
                    "unreadable reply: " + e);
        }
    }

    private static boolean closedWithin(Socket s, int timeoutMs) throws IOException {
        s.setSoTimeout(timeoutMs);
        try {
            return s.getInputStream().read() < 0;
        } catch (SocketTimeoutException e) {
            return false;
        } catch (IOException e) {
            return true; // reset
        }
    }

    /** Null if the reply is acceptable for the request, else why not. */
    private static String judge(Case c, RawHttp.Reply r, boolean terminated, boolean closedAfter) {
        if (r.closedWithoutReply()) {
            // a head that never ends cannot be answered: the idle time-out closes it; nor can a chunked body
            // whose framing breaks after the head was accepted: Vert.x fails the request and closes (README)
            return terminated && !chunked(c.bytes()) ? "a complete request head got no reply" : null;
        }
        if (r.status() >= 500 && !(r.status() == 505 && r.isProblem())) {
            return "a 5xx";
        }
        boolean head = startsWith(c.bytes(), "HEAD ");
        boolean problem = head ? Problem.MEDIA_TYPE.equals(r.header("content-type")) : r.isProblem();
        if (r.status() >= 400 && !problem && !(bareCodecRefusal(r) && closedAfter)) {
            return "a 4xx without a problem body that is not one of the codec's bare refusals";
        }
        if (c.expectStatus() != null && r.status() != c.expectStatus()) {
            return "expected " + c.expectStatus();
        }
        if (c.expectProblem() && !problem) {
            return "expected a problem body";
        }
        return null;
    }

    /**
     * What Vert.x answers when the HTTP codec refuses a request before any route (README: what gets no
     * problem body): 400, 414 or 431, empty, and the connection closed.
     */
    private static boolean bareCodecRefusal(RawHttp.Reply r) {
        return (r.status() == 400 || r.status() == 414 || r.status() == 431) && r.body().length == 0
                && r.header("content-type") == null;
    }

    private static boolean chunked(byte[] b) {
        return new String(b, StandardCharsets.ISO_8859_1).toLowerCase(java.util.Locale.ROOT).contains("chunked");
    }

    // ---- generation ----

    private static final String[] TEMPLATES = {
            "GET /v1/kv/{k} HTTP/1.1\r\nHost: localhost\r\n\r\n",
            "GET /v1/kv/{k}?consistency=ONE HTTP/1.1\r\nHost: localhost\r\nIf-None-Match: \"1-x\"\r\n\r\n",
            "PUT /v1/kv/{k} HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/octet-stream\r\nContent-Length: 5\r\n\r\nhello",
            "PUT /v1/kv/{k} HTTP/1.1\r\nHost: localhost\r\nIf-None-Match: *\r\nContent-Length: 3\r\n\r\nabc",
            "PUT /v1/kv/{k} HTTP/1.1\r\nHost: localhost\r\nIf-Match: \"18c1f0a2b3c40-test-node\"\r\nContent-Length: 1\r\n\r\nx",
            "PUT /v1/kv/{k} HTTP/1.1\r\nHost: localhost\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n",
            "DELETE /v1/kv/{k} HTTP/1.1\r\nHost: localhost\r\nIf-Match: *\r\n\r\n",
            "DELETE /v1/kv/{k}?consistency=QUORUM HTTP/1.1\r\nHost: localhost\r\nIf-None-Match: *\r\n\r\n",
            "GET /set?key={k}&value=v%20w HTTP/1.1\r\nHost: localhost\r\n\r\n",
            "GET /get?key={k} HTTP/1.1\r\nHost: localhost\r\n\r\n",
            "GET /v1/cluster/locate/{k} HTTP/1.1\r\nHost: localhost\r\n\r\n",
            "GET /v1/kv/{k} HTTP/1.0\r\n\r\n",
            "PUT /v1/kv/{k} HTTP/1.0\r\nContent-Length: 2\r\n\r\nv1",
    };

    private static final String[] TOKENS = {
            "%", "%0", "%zz", "%00", "%C3", "%FF", "%E9", "\r\n", "\n", "\r", "\0", " ", "\t", "\u00e9", "\u00c3\u00a9",
            "\u007f", "\u0001", "\u00ff", ":", "\"", "*", ",", "{", "}", "|", "#", "?", "/..", "//", ";", "W/",
            "Transfer-Encoding: chunked\r\n", "Transfer-Encoding: gzip\r\n", "Transfer-Encoding: gzip, chunked\r\n",
            "Transfer-Encoding:\r\n", "Content-Length: 0\r\n", "Content-Length: -1\r\n",
            "Content-Length: 99999999999999999999\r\n", "Content-Length: 3\r\n", "Content-Length: 2000000\r\n",
            "Host: a\r\n", "Host:\r\n", "Host: a b\r\n", "If-Match:\r\n", "If-Match: *\r\n", "If-None-Match:\r\n",
            "If-None-Match: *\r\n", "If-Match: W/\"1-x\"\r\n", "Expect: 100-continue\r\n", "Connection: close\r\n",
            " HTTP/1.1", "HTTP/1.7", "HTTP/0.9", "HTTP/2.0", " folded\r\n", "X-Empty:\r\n", "\u00e9: x\r\n",
            "0\r\n\r\n", "5\r\nhello\r\n", "ffffffffffffffff\r\n", "x".repeat(9000), "y".repeat(17000),
    };

    private static final String[] METHODS = {"GET", "PUT", "POST", "DELETE", "HEAD", "OPTIONS", "TRACE", "PATCH",
            "get", "PUTT", "G T", "", "GE(T", "DELETE DELETE", "\u00e9"};

    private static Case mutated(SplittableRandom r, int i) {
        String key = "fz-" + (i % 50);
        byte[] b = latin1(TEMPLATES[r.nextInt(TEMPLATES.length)].replace("{k}", key));
        int n = 1 + r.nextInt(3);
        for (int m = 0; m < n; m++) {
            b = mutate(r, b);
        }
        return new Case("mutation", b, null, false);
    }

    private static byte[] mutate(SplittableRandom r, byte[] b) {
        int at = b.length == 0 ? 0 : r.nextInt(b.length + 1);
        String s = new String(b, StandardCharsets.ISO_8859_1);
        switch (r.nextInt(8)) {
            case 0 -> { // one byte changed
                if (b.length > 0) {
                    byte[] c = b.clone();
                    c[r.nextInt(c.length)] = (byte) r.nextInt(256);
                    return c;
                }
                return b;
            }
            case 1, 2 -> {
                return latin1(s.substring(0, at) + TOKENS[r.nextInt(TOKENS.length)] + s.substring(at));
            }
            case 3 -> { // a few bytes deleted
                int end = Math.min(b.length, at + 1 + r.nextInt(8));
                return latin1(s.substring(0, Math.min(at, b.length)) + s.substring(end));
            }
            case 4 -> { // a few bytes repeated
                int end = Math.min(b.length, at + 1 + r.nextInt(16));
                int from = Math.min(at, b.length);
                return latin1(s.substring(0, end) + s.substring(from, end) + s.substring(end));
            }
            case 5 -> { // another version
                String[] versions = {"HTTP/1.1", "HTTP/1.0", "HTTP/1.2", "HTTP/2.0", "HTTP/3", "http/1.1", "HTTP/1.1 ",
                        "HTTP/11", "HTTPS/1.1", "HTTP/1.1x", ""};
                return latin1(s.replaceFirst("HTTP/1\\.[01]", versions[r.nextInt(versions.length)]));
            }
            case 6 -> { // another method
                int sp = s.indexOf(' ');
                return sp < 0 ? b : latin1(METHODS[r.nextInt(METHODS.length)] + s.substring(sp));
            }
            default -> { // another Content-Length
                String[] lengths = {"-1", "0", "1", "4", "6", "99", "2000000", "99999999999999999999", "5 ", " 5", "5,5",
                        "+5", "0x5", "five", "", "5, 6"};
                return latin1(s.replaceFirst("Content-Length: \\d+", "Content-Length: "
                        + lengths[r.nextInt(lengths.length)]));
            }
        }
    }

    /** Hand-picked malformed requests, each with the reply it must get where that is known. */
    private static List<Case> structured() {
        List<Case> cases = new ArrayList<>();
        String h = " HTTP/1.1\r\nHost: localhost\r\n";
        // targets
        for (String t : new String[]{"/v1/kv/\u00e9", "/v1/kv/\u00c3\u00a9", "/v1/kv/a\u0001", "/v1/kv/a\u007f",
                "/v1/kv/a%zz", "/v1/kv/%", "/v1/kv/a|b", "/v1/kv/a{b}", "/v1/kv/a#b", "/get?key=\u00ff", "/v1/%G1"}) {
            cases.add(new Case("target", latin1("GET " + t + h + "\r\n"), 400, true));
        }
        cases.add(new Case("target", latin1("GET /v1/kv/%E9" + h + "\r\n"), 400, true));
        cases.add(new Case("target", latin1("GET /v1/kv/" + "a".repeat(9000) + h + "\r\n"), 414, true));
        cases.add(new Case("target", latin1("GET /v1/kv/" + "a".repeat(20000) + h + "\r\n"), 414, false));
        cases.add(new Case("target", latin1("GET v1/kv/a" + h + "\r\n"), 400, true));
        cases.add(new Case("target", latin1("GET /nowhere" + h + "\r\n"), 404, true));
        // versions
        for (String v : new String[]{"HTTP/1.7", "HTTP/2.0", "HTTP/3.0", "FOO/1.1", "HTTP/9.9"}) {
            cases.add(new Case("version", latin1("GET /v1/kv/a " + v + "\r\nHost: localhost\r\n\r\n"), 505, true));
        }
        cases.add(new Case("version", latin1("GET /v1/kv/a HTTP/1\r\nHost: localhost\r\n\r\n"), 400, false));
        cases.add(new Case("version", latin1("GET /v1/kv/a\r\nHost: localhost\r\n\r\n"), 400, false));
        // Host
        cases.add(new Case("host", latin1("GET /v1/kv/a HTTP/1.1\r\n\r\n"), 400, true));
        cases.add(new Case("host", latin1("GET /v1/kv/a HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n"), 400, true));
        cases.add(new Case("host", latin1("GET /v1/kv/fz-none HTTP/1.0\r\n\r\n"), 404, true));
        // headers
        cases.add(new Case("header", latin1("GET /v1/kv/a" + h + "X-Big: " + "a".repeat(20000) + "\r\n\r\n"), 431, true));
        cases.add(new Case("header", latin1("GET /v1/kv/a" + h + "X-Big: " + "a".repeat(70000) + "\r\n\r\n"), 431, false));
        cases.add(new Case("header", latin1("PUT /v1/kv/fz-h" + h + "If-Match:\r\nContent-Length: 1\r\n\r\nx"), 400, true));
        cases.add(new Case("header", latin1("DELETE /v1/kv/fz-h" + h + "If-Match:\r\n\r\n"), 400, true));
        cases.add(new Case("header", latin1("GET /v1/kv/a" + h + "Bad Name: x\r\n\r\n"), 400, false));
        // lengths and encodings
        String put = "PUT /v1/kv/fz-len" + h;
        cases.add(new Case("length", latin1(put + "Content-Length: 10\r\n\r\nabc"), 408, true));
        cases.add(new Case("length", latin1(put + "Content-Length: -1\r\n\r\n"), 400, false));
        cases.add(new Case("length", latin1(put + "Content-Length: 99999999999999999999\r\n\r\n"), 400, false));
        cases.add(new Case("length", latin1(put + "Content-Length: 2000000\r\n\r\n"), 413, true));
        cases.add(new Case("length", latin1(put + "Content-Length: 1\r\nContent-Length: 2\r\n\r\nxx"), 400, false));
        cases.add(new Case("length", latin1(put + "Content-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n1\r\nx\r\n0\r\n\r\n"),
                400, false));
        cases.add(new Case("length", latin1(put + "Content-Length: 1\r\n\r\nxGET / HTTP/1.1\r\n\r\n"), 204, false));
        cases.add(new Case("encoding", latin1(put + "Transfer-Encoding: gzip\r\n\r\nGET /v1/kv/fz-len HTTP/1.1\r\n"
                + "Host: x\r\n\r\n"), 400, true));
        cases.add(new Case("encoding", latin1(put + "Transfer-Encoding: gzip, chunked\r\n\r\n1\r\nx\r\n0\r\n\r\n"), 400, true));
        cases.add(new Case("encoding", latin1(put + "Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n"
                + "1\r\nx\r\n0\r\n\r\n"), 400, true));
        cases.add(new Case("encoding", latin1(put + "Transfer-Encoding: chunked\r\n\r\nzz\r\nx\r\n0\r\n\r\n"), 400, false));
        cases.add(new Case("encoding", latin1(put + "Transfer-Encoding: chunked\r\n\r\n5\r\nx"), 408, true));
        cases.add(new Case("encoding", latin1("PUT /v1/kv/fz-len HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n"
                + "1\r\nx\r\n0\r\n\r\n"), 400, false));
        // methods
        cases.add(new Case("method", latin1("POST /v1/kv/a" + h + "Content-Length: 0\r\n\r\n"), 405, true));
        cases.add(new Case("method", latin1("BREW /v1/kv/a" + h + "\r\n"), null, false));
        cases.add(new Case("method", latin1("G(T /v1/kv/a" + h + "\r\n"), 400, false));
        return cases;
    }

    // ---- bytes ----

    private static boolean headTerminated(byte[] b) {
        String s = new String(b, StandardCharsets.ISO_8859_1);
        return s.contains("\n\n") || s.contains("\n\r\n");
    }

    private static boolean startsWith(byte[] b, String prefix) {
        return new String(b, 0, Math.min(b.length, prefix.length()), StandardCharsets.ISO_8859_1).equals(prefix);
    }

    private static byte[] latin1(String s) {
        return s.getBytes(StandardCharsets.ISO_8859_1);
    }

    private static String escape(byte[] b) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (int i = 0; i < Math.min(b.length, 300); i++) {
            int c = b[i] & 0xff;
            String e = c == '\r' ? "\\r" : c == '\n' ? "\\n" : (c < 0x20 || c > 0x7e) ? String.format("\\x%02X", c)
                    : String.valueOf((char) c);
            out.writeBytes(e.getBytes(StandardCharsets.ISO_8859_1));
        }
        return out.toString(StandardCharsets.ISO_8859_1) + (b.length > 300 ? "… (" + b.length + " bytes)" : "");
    }
}
