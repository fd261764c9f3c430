package io.nimbus.tools;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/** The v1 API: {@code PUT /v1/kv/{key}}, {@code GET}, and {@code PUT} with {@code If-Match: <etag>} (a 412 is a lost race). */
final class NimbusLoadClient implements LoadClient {
    private final HttpConnection http;
    private final String base;
    private final String query;
    private final String token;
    private final byte[] value;

    /**
     * @param consistency the {@code ?consistency=} level, or null for the node's default
     * @param token       a bearer token, or null
     */
    NimbusLoadClient(URI url, String prefix, String consistency, String token, byte[] value, int timeoutMs) {
        this.http = new HttpConnection(url, timeoutMs);
        String path = url.getRawPath() == null ? "" : url.getRawPath();
        this.base = path + "/v1/kv/" + prefix;
        this.query = consistency == null ? "" : "?consistency=" + consistency;
        this.token = token;
        this.value = value;
    }

    private String[] withToken(String... headers) {
        if (token == null) {
            return headers;
        }
        String[] all = Arrays.copyOf(headers, headers.length + 2);
        all[headers.length] = "Authorization";
        all[headers.length + 1] = "Bearer " + token;
        return all;
    }

    private String target(int key) {
        return base + key + query;
    }

    @Override
    public Reply put(int key) {
        HttpConnection.Response r = send("PUT", target(key),
                withToken("Content-Type", "application/octet-stream"), value);
        return r.status() == 204 ? Reply.ok("204", r.etag()) : failed(r);
    }

    @Override
    public Reply get(int key) {
        HttpConnection.Response r = send("GET", target(key), withToken(), null);
        return r.status() == 200 ? Reply.ok("200", r.etag()) : failed(r);
    }

    @Override
    public Reply casPut(int key, String version) {
        HttpConnection.Response r = send("PUT", target(key),
                withToken("Content-Type", "application/octet-stream", "If-Match", version), value);
        return switch (r.status()) {
            case 204 -> Reply.ok("204", r.etag());
            case 412 -> Reply.conflict("412");
            default -> failed(r);
        };
    }

    /** A failure labelled with its status and, when the body is a Nimbus problem, its type: "503 peer-overloaded". */
    static Reply failed(HttpConnection.Response r) {
        String type = problemType(r.body());
        return Reply.failed(type == null ? Integer.toString(r.status()) : r.status() + " " + type);
    }

    private static final String PROBLEM_TYPE = "\"type\":\"urn:nimbus:problem:";

    /** The problem type of an RFC 9457 body from a Nimbus node ({@code urn:nimbus:problem:<type>}), or null. */
    static String problemType(byte[] body) {
        String text = new String(body, StandardCharsets.UTF_8);
        int at = text.indexOf(PROBLEM_TYPE);
        if (at < 0) {
            return null;
        }
        int from = at + PROBLEM_TYPE.length();
        int to = text.indexOf('"', from);
        return to <= from ? null : text.substring(from, to);
    }

    private HttpConnection.Response send(String method, String target, String[] headers, byte[] body) {
        try {
            return http.exchange(method, target, headers, body);
        } catch (IOException e) {
            throw new UncheckedIOException(method + " " + target + ": " + e.getMessage(), e);
        }
    }

    @Override
    public void close() {
        http.close();
    }
}
