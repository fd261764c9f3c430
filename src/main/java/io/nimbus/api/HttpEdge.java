package io.nimbus.api;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.nimbus.config.NimbusConfig;
import io.vertx.core.Context;
import io.vertx.core.MultiMap;
import io.vertx.core.VertxException;
import io.vertx.core.http.HttpConnection;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.http.HttpServerResponse;
import io.vertx.core.http.HttpVersion;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import io.vertx.ext.web.handler.HttpException;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import org.jboss.logging.Logger;

import java.io.UncheckedIOException;
import java.net.URI;
import java.net.URISyntaxException;
import java.util.Collections;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.WeakHashMap;

/**
 * The public HTTP edge, before any resource runs: refuses what HTTP/1.1 (RFC 9112) says is malformed,
 * with an RFC 9457 problem, and gives a problem body to what the router itself refuses (no Host, a path
 * it cannot decode, no route). What the HTTP codec refuses before routing (a request line or header
 * block over {@code quarkus.http.limits.*}, a malformed request line or Content-Length) is answered by
 * Vert.x with a bare status and a close: Quarkus does not expose the server's invalid-request handler.
 * Nimbus's own limits ({@link NimbusConfig.Http}) sit below the codec's, so that ordinary oversized
 * requests get a problem body; and {@code NimbusMain} turns off Quarkus's own request-target check (a
 * bare 400 for what {@link URI} cannot parse) because {@link #targetProblem} is stricter and says why.
 */
@ApplicationScoped
public class HttpEdge {
    private static final Logger LOG = Logger.getLogger(HttpEdge.class);
    /** Ahead of every route that reads a request; only Quarkus's own bookkeeping routes come first. */
    static final int ORDER = Integer.MIN_VALUE + 10;

    private final NimbusConfig.Http limits;
    private final ObjectMapper json;
    /**
     * Connections whose framing can no longer be trusted (a Transfer-Encoding other than chunked: its body
     * would be read as further requests). Whatever else arrives on them is dropped unanswered and the
     * connection closed. Weak: a closed connection leaves the set by itself.
     */
    private final Set<HttpConnection> poisoned =
            Collections.synchronizedSet(Collections.newSetFromMap(new WeakHashMap<>()));

    public HttpEdge(NimbusConfig config, ObjectMapper json) {
        this.limits = config.http();
        this.json = json;
    }

    void install(@Observes Router router) {
        router.route().order(ORDER).handler(this::check);
        router.route().order(ORDER).failureHandler(this::routerFailed);
        router.errorHandler(404, ctx -> noRoute(ctx, 404));
        router.errorHandler(405, ctx -> noRoute(ctx, 405));
    }

    private void check(RoutingContext ctx) {
        HttpServerRequest request = ctx.request();
        HttpConnection connection = request.connection();
        if (connection != null && poisoned.contains(connection)) {
            // bytes after a request refused for its framing: not a request the client meant to send
            connection.close();
            return;
        }
        if (!request.isEnded()) {
            long timer = ctx.vertx().setTimer(limits.bodyTimeoutMs(), id -> bodyTimedOut(ctx));
            // the response may end on a worker thread; the request's events arrive on this event loop
            Context loop = ctx.vertx().getOrCreateContext();
            ctx.addEndHandler(done -> loop.runOnContext(v -> answered(ctx, timer)));
        }
        if (refused(ctx)) {
            return;
        }
        ctx.next();
    }

    /**
     * The response is out. If the body is still arriving (a 413 while chunks still come, a refusal), the
     * rest is read and thrown away, up to {@code max-drain-bytes} and {@code body-timeout-ms}, so that a
     * client still sending can read the answer; past either the connection is closed.
     */
    private void answered(RoutingContext ctx, long timer) {
        HttpServerRequest request = ctx.request();
        HttpConnection connection = request.connection();
        if (request.isEnded() || connection == null || ctx.response().closed()) {
            ctx.vertx().cancelTimer(timer);
            return;
        }
        long[] left = {limits.maxDrainBytes()};
        request.handler(chunk -> {
            left[0] -= chunk.length();
            if (left[0] < 0) {
                connection.close();
            }
        });
        request.endHandler(end -> ctx.vertx().cancelTimer(timer));
        request.resume();
    }

    /** Refuses a malformed request with a problem and returns true; false if it may go on. */
    private boolean refused(RoutingContext ctx) {
        HttpServerRequest request = ctx.request();
        MultiMap headers = request.headers();
        if (request.version() == null) {
            refuse(ctx, 505, "http-version-not-supported", "HTTP version not supported",
                    "this server speaks HTTP/1.0 and HTTP/1.1: send HTTP/1.1 in the request line", true);
            return true;
        }
        List<String> codings = headers.getAll(HttpHeaders.TRANSFER_ENCODING);
        if (!codings.isEmpty() && (request.version() == HttpVersion.HTTP_1_0 || codings.size() > 1
                || !codings.get(0).trim().equalsIgnoreCase("chunked"))) {
            // RFC 9112 §6.1/§6.3: the framing is unknown, so the body may be read as further requests
            refuse(ctx, 400, "bad-request", "Bad request", "Transfer-Encoding '" + printable(String.join(", ", codings))
                    + "' is not supported" + (request.version() == HttpVersion.HTTP_1_0 ? " in HTTP/1.0" : "")
                    + ": send the body with Content-Length, or with exactly Transfer-Encoding: chunked over HTTP/1.1. "
                    + "The connection is closed.", true);
            return true;
        }
        String target = request.uri();
        if (target.length() > limits.maxTargetBytes()) {
            refuse(ctx, 414, "uri-too-long", "URI too long", "the request target is " + target.length()
                    + " bytes; the limit is " + limits.maxTargetBytes() + " (nimbus.http.max-target-bytes). Keys are "
                    + "at most 1024 bytes of UTF-8; send large data in the body", false);
            return true;
        }
        String badTarget = targetProblem(target);
        if (badTarget != null) {
            refuse(ctx, 400, "bad-request", "Bad request", badTarget, false);
            return true;
        }
        long headerBytes = 0;
        for (Map.Entry<String, String> e : headers) {
            headerBytes += e.getKey().length() + e.getValue().length() + 4;
        }
        if (headerBytes > limits.maxHeaderBytes()) {
            refuse(ctx, 431, "header-fields-too-large", "Request header fields too large", "the request's header "
                    + "fields are " + headerBytes + " bytes; the limit is " + limits.maxHeaderBytes()
                    + " (nimbus.http.max-header-bytes)", false);
            return true;
        }
        List<String> hosts = headers.getAll(HttpHeaders.HOST);
        if (hosts.size() > 1 || (hosts.size() == 1 && !validHost(hosts.get(0)))) {
            refuse(ctx, 400, "bad-request", "Bad request", "send exactly one Host header with the server's host "
                    + "and port (RFC 9112 §3.2)", false);
            return true;
        }
        return false;
    }

    /** A body that has not arrived in time: 408 if nothing was answered yet; either way the connection goes. */
    private void bodyTimedOut(RoutingContext ctx) {
        if (ctx.request().isEnded()) {
            return;
        }
        HttpServerResponse response = ctx.response();
        if (!response.ended() && !response.closed()) {
            refuse(ctx, 408, "request-timeout", "Request timeout", "the request body did not arrive within "
                    + limits.bodyTimeoutMs() + " ms (nimbus.http.body-timeout-ms); nothing was written. "
                    + "The connection is closed.", true);
        } else if (ctx.request().connection() != null) {
            ctx.request().connection().close();
        }
    }

    /** A failure raised by the router before any resource ran (no Host, an undecodable path, ...). */
    private void routerFailed(RoutingContext ctx) {
        int status = ctx.statusCode();
        Throwable failure = ctx.failure();
        boolean routerRefusal = failure == null || failure instanceof HttpException || failure instanceof VertxException;
        if (ctx.response().ended() || ctx.response().closed() || status < 400 || status >= 500 || status == 401
                || status == 403 || !routerRefusal) {
            ctx.next(); // security's challenges and unexpected failures are for the handlers after this one
            return;
        }
        String badTarget = targetProblem(ctx.request().uri());
        if (badTarget != null) {
            // the router refuses a target that is not a path with a 404 "for compatibility"; RFC 9112 says 400
            refuse(ctx, 400, "bad-request", "Bad request", badTarget, false);
            return;
        }
        String why = failure == null || failure.getMessage() == null ? null : failure.getMessage();
        LOG.debugf(failure, "router refused %s with %d", Problem.instanceOf(ctx.request().path()), status);
        String detail = switch (status) {
            case 400 -> why != null && why.contains("'Host'")
                    ? "HTTP/1.1 requests must carry exactly one Host header (RFC 9112 §3.2)"
                    : "malformed request" + (why == null ? "" : " (" + printable(why) + ")")
                            + ": the path and query must be valid percent-encoded UTF-8 (RFC 3986)";
            case 404 -> "no such resource: the request target must be a path starting with '/'; keys live under "
                    + "/v1/kv/{key}; see /q/swagger-ui";
            case 413 -> "the request body is over the limit (nimbus.limits.max-value-bytes for values)";
            default -> "the request was refused" + (why == null ? "" : ": " + printable(why));
        };
        refuse(ctx, status, status == 400 ? "bad-request" : "http-" + status, title(status), detail, false);
    }

    /** No route took the request. */
    private void noRoute(RoutingContext ctx, int status) {
        if (ctx.response().ended() || ctx.response().closed()) {
            return;
        }
        refuse(ctx, status, "http-" + status, title(status), status == 404
                ? "no such resource: keys live under /v1/kv/{key}; see /q/swagger-ui"
                : "method " + ctx.request().method() + " is not allowed here; see /q/swagger-ui", false);
    }

    private void refuse(RoutingContext ctx, int status, String type, String title, String detail, boolean close) {
        HttpServerRequest request = ctx.request();
        HttpServerResponse response = ctx.response();
        HttpConnection connection = request.connection();
        String body;
        try {
            String instance = targetProblem(request.uri()) == null ? Problem.instanceOf(request.path()) : null;
            body = json.writeValueAsString(Problem.of(type, title, status, detail, instance));
        } catch (JsonProcessingException e) {
            throw new UncheckedIOException(e);
        }
        if (close && connection != null) {
            poisoned.add(connection);
            response.putHeader(HttpHeaders.CONNECTION, "close");
        }
        response.setStatusCode(status).putHeader(HttpHeaders.CONTENT_TYPE, Problem.MEDIA_TYPE);
        response.end(body).onComplete(written -> {
            if (close && connection != null) {
                connection.close();
            }
        });
    }

    /**
     * Why a request target (as sent) is not an RFC 3986 origin-form ({@code /path?query}), absolute-form or
     * {@code *}; null if it is. Stricter than {@link URI}: only visible ASCII from RFC 3986's sets, and every
     * {@code %} starts an escape of two hex digits. The codec reads the request line byte by byte, so a
     * character above 0x7E here is a raw byte as sent.
     */
    static String targetProblem(String target) {
        if (target.isEmpty()) {
            return "the request target is empty: send a path starting with '/'";
        }
        if (target.equals("*")) {
            return null;
        }
        boolean absolute = target.regionMatches(true, 0, "http://", 0, 7) || target.regionMatches(true, 0, "https://", 0, 8);
        if (target.charAt(0) != '/' && !absolute) {
            return "the request target must be a path starting with '/' (RFC 9112 §3.2); keys live under /v1/kv/{key}";
        }
        for (int i = 0; i < target.length(); i++) {
            char c = target.charAt(i);
            if (c < 0x21 || c > 0x7e) {
                return String.format(Locale.ROOT, "the request target has the raw byte 0x%02X at position %d: "
                        + "percent-encode every byte that is not visible ASCII (non-ASCII text as its UTF-8 bytes, "
                        + "e.g. é as %%C3%%A9; RFC 3986)", (int) c & 0xff, i);
            }
            if (c == '%') {
                if (i + 2 >= target.length() || !hexDigit(target.charAt(i + 1)) || !hexDigit(target.charAt(i + 2))) {
                    return "the request target has a bad percent-escape at position " + i
                            + ": use %XX with two hex digits (encode '%' itself as %25)";
                }
            } else if (!uriChar(c)) {
                return String.format(Locale.ROOT, "the request target has '%c' at position %d: percent-encode it "
                        + "(as %%%02X; RFC 3986)", c, i, (int) c);
            }
        }
        int query = target.indexOf('?');
        String path = query < 0 ? target : target.substring(0, query);
        for (String segment : path.split("/", -1)) {
            String decoded = segment.replace("%2e", ".").replace("%2E", ".");
            if (decoded.equals(".") || decoded.equals("..")) {
                // The router would resolve it away (RFC 3986 §5.2.4) while access rules and logs see it raw:
                // one target, two meanings. A key of "." or ".." cannot be addressed for the same reason.
                return "the request target has a dot segment ('" + segment + "'): send the path without '.' or "
                        + "'..' segments (also percent-encoded ones); a key may not be '.' or '..'";
            }
        }
        try {
            new URI(target);
        } catch (URISyntaxException e) {
            return "the request target is not a valid URI (" + printable(e.getReason()) + " at position "
                    + e.getIndex() + "); see RFC 3986";
        }
        return null;
    }

    /** RFC 3986 unreserved, sub-delims, and the gen-delims a target may carry unescaped. */
    private static boolean uriChar(char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')
                || "-._~!$&'()*+,;=:@/?".indexOf(c) >= 0;
    }

    private static boolean hexDigit(char c) {
        return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
    }

    /** reg-name / IPv4 / [IPv6], optional port, or empty (RFC 9110 §7.2, RFC 3986 §3.2.2). */
    static boolean validHost(String host) {
        for (int i = 0; i < host.length(); i++) {
            char c = host.charAt(i);
            boolean ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')
                    || "-._~!$&'()*+,;=:[]%".indexOf(c) >= 0;
            if (!ok) {
                return false;
            }
        }
        return true;
    }

    private static String title(int status) {
        return switch (status) {
            case 400 -> "Bad request";
            case 404 -> "Not found";
            case 405 -> "Method not allowed";
            case 408 -> "Request timeout";
            case 411 -> "Length required";
            case 413 -> "Content too large";
            case 414 -> "URI too long";
            case 415 -> "Unsupported media type";
            case 431 -> "Request header fields too large";
            default -> "HTTP " + status;
        };
    }

    private static String printable(String text) {
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < text.length() && sb.length() < 200; i++) {
            char c = text.charAt(i);
            sb.append(c < 0x20 || c > 0x7e ? String.format(Locale.ROOT, "\\x%02X", (int) c & 0xff) : String.valueOf(c));
        }
        return sb.toString();
    }
}
