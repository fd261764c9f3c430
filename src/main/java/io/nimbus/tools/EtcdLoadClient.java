package io.nimbus.tools;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * etcd v3's JSON gateway on its client port (etcd 3.4: {@code /v3/kv/...}): {@code put}, {@code range} (linearizable:
 * no {@code serializable} flag) and, for compare-and-set, a {@code txn} whose compare is the key's
 * {@code mod_revision} as read by {@link #get}. Keys and values travel base64-encoded, int64s as JSON strings, and
 * a field holding its default value is left out ({@code "succeeded"} is absent when the compare failed).
 */
final class EtcdLoadClient implements LoadClient {
    private static final Pattern MOD_REVISION = Pattern.compile("\"mod_revision\"\\s*:\\s*\"(\\d+)\"");
    private static final Pattern SUCCEEDED = Pattern.compile("\"succeeded\"\\s*:\\s*true");
    private static final String[] HEADERS = {"Content-Type", "application/json"};

    private final HttpConnection http;
    private final String prefix;
    private final String valueBase64;

    EtcdLoadClient(URI url, String prefix, byte[] value, int timeoutMs) {
        this.http = new HttpConnection(url, timeoutMs);
        this.prefix = prefix;
        this.valueBase64 = Base64.getEncoder().encodeToString(value);
    }

    static String keyBase64(String prefix, int key) {
        return Base64.getEncoder().encodeToString((prefix + key).getBytes(StandardCharsets.UTF_8));
    }

    static String putBody(String keyBase64, String valueBase64) {
        return "{\"key\":\"" + keyBase64 + "\",\"value\":\"" + valueBase64 + "\"}";
    }

    static String rangeBody(String keyBase64) {
        return "{\"key\":\"" + keyBase64 + "\"}";
    }

    static String casBody(String keyBase64, String modRevision, String valueBase64) {
        return "{\"compare\":[{\"key\":\"" + keyBase64 + "\",\"target\":\"MOD\",\"result\":\"EQUAL\",\"mod_revision\":\""
                + modRevision + "\"}],\"success\":[{\"request_put\":" + putBody(keyBase64, valueBase64) + "}]}";
    }

    /** The first key's mod_revision in a range answer, or null when it found no key. */
    static String modRevision(String rangeAnswer) {
        Matcher m = MOD_REVISION.matcher(rangeAnswer);
        return m.find() ? m.group(1) : null;
    }

    static boolean succeeded(String txnAnswer) {
        return SUCCEEDED.matcher(txnAnswer).find();
    }

    @Override
    public Reply put(int key) {
        HttpConnection.Response r = post("/v3/kv/put", putBody(keyBase64(prefix, key), valueBase64));
        return r.status() == 200 ? Reply.ok("200", null) : Reply.failed(Integer.toString(r.status()));
    }

    @Override
    public Reply get(int key) {
        HttpConnection.Response r = post("/v3/kv/range", rangeBody(keyBase64(prefix, key)));
        if (r.status() != 200) {
            return Reply.failed(Integer.toString(r.status()));
        }
        String revision = modRevision(new String(r.body(), StandardCharsets.UTF_8));
        return revision == null ? Reply.failed("200-no-key") : Reply.ok("200", revision);
    }

    @Override
    public Reply casPut(int key, String version) {
        HttpConnection.Response r = post("/v3/kv/txn", casBody(keyBase64(prefix, key), version, valueBase64));
        if (r.status() != 200) {
            return Reply.failed(Integer.toString(r.status()));
        }
        return succeeded(new String(r.body(), StandardCharsets.UTF_8))
                ? Reply.ok("200-txn-applied", null) : Reply.conflict("200-txn-compare-failed");
    }

    private HttpConnection.Response post(String path, String json) {
        try {
            return http.exchange("POST", path, HEADERS, json.getBytes(StandardCharsets.US_ASCII));
        } catch (IOException e) {
            throw new UncheckedIOException("POST " + path + ": " + e.getMessage(), e);
        }
    }

    @Override
    public void close() {
        http.close();
    }
}
