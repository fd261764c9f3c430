package io.nimbus.api;

import io.quarkus.test.common.http.TestHTTPResource;
import io.quarkus.test.junit.QuarkusTest;
import org.junit.jupiter.api.Test;

import java.net.URL;
import java.util.UUID;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Requests as they arrive on the wire, byte for byte: what the HTTP edge accepts and how it refuses. */
@QuarkusTest
class HttpEdgeTest {
    @TestHTTPResource("/")
    URL base;

    private RawHttp.Reply send(String request) {
        return RawHttp.exchange(base.getPort(), request);
    }

    private static String key() {
        return "edge-" + UUID.randomUUID();
    }

    private void assertProblem(int status, RawHttp.Reply r) {
        assertEquals(status, r.status(), r.toString());
        assertTrue(r.isProblem(), "not a problem body: " + r);
    }

    @Test
    void http10WithoutHostGetsProblemsNot500() {
        String k = key();
        // every error path used to build an absolute request URI from the missing Host: 500
        assertProblem(404, send("GET /v1/kv/" + k + " HTTP/1.0\r\n\r\n"));
        assertProblem(400, send("GET /v1/kv/" + k + "?consistency=SOME HTTP/1.0\r\n\r\n"));
        assertProblem(400, send("GET /get HTTP/1.0\r\n\r\n"));
        RawHttp.Reply set = send("GET /set?key=" + k + "&value=v HTTP/1.0\r\n\r\n");
        assertEquals(200, set.status(), set.toString());
        RawHttp.Reply put = send("PUT /v1/kv/" + k + " HTTP/1.0\r\nContent-Length: 2\r\n\r\nv2");
        assertEquals(204, put.status(), put.toString());
        RawHttp.Reply get = send("GET /v1/kv/" + k + " HTTP/1.0\r\n\r\n");
        assertEquals(200, get.status(), get.toString());
        assertEquals("v2", get.bodyText());
    }

    @Test
    void severalIfMatchLinesAreOneList() {
        String k = key();
        RawHttp.Reply first = send("PUT /v1/kv/" + k + " HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\nConnection: close\r\n\r\nv1");
        String etag = first.header("etag");
        assertNotNull(etag, first.toString());
        // the current version is on the second line: the write applies
        RawHttp.Reply cas = send("PUT /v1/kv/" + k + " HTTP/1.1\r\nHost: x\r\nIf-Match: \"1-stale\"\r\nIf-Match: " + etag
                + "\r\nContent-Length: 2\r\nConnection: close\r\n\r\nv2");
        assertEquals(204, cas.status(), cas.toString());
        // an empty line among others is still malformed
        assertProblem(400, send("PUT /v1/kv/" + k + " HTTP/1.1\r\nHost: x\r\nIf-Match: " + cas.header("etag")
                + "\r\nIf-Match:\r\nContent-Length: 2\r\nConnection: close\r\n\r\nv3"));
        // a bare empty If-Match on the wire
        assertProblem(400, send("DELETE /v1/kv/" + k + " HTTP/1.1\r\nHost: x\r\nIf-Match:\r\nConnection: close\r\n\r\n"));
        assertEquals(200, send("GET /v1/kv/" + k + " HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").status());
    }
}
