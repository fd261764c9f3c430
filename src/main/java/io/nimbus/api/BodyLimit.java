package io.nimbus.api;

import io.nimbus.config.NimbusConfig;
import io.vertx.core.http.HttpHeaders;
import io.vertx.ext.web.Router;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;

/**
 * Refuses a request whose declared Content-Length is over the value limit before its body is read,
 * so a client that sends a huge value gets a 413 problem at once and the node never buffers it.
 * (A chunked body is refused by {@link ValueBody} as soon as it passes the limit.)
 */
@ApplicationScoped
public class BodyLimit {
    private final int maxValueBytes;

    public BodyLimit(NimbusConfig config) {
        this.maxValueBytes = config.limits().maxValueBytes();
    }

    void install(@Observes Router router) {
        router.route("/v1/kv/*").order(-100).handler(ctx -> {
            String declared = ctx.request().getHeader(HttpHeaders.CONTENT_LENGTH);
            long length = declaredLength(declared);
            if (length > maxValueBytes) {
                ProblemException.ValueTooLarge p = new ProblemException.ValueTooLarge(length, maxValueBytes);
                String body = "{\"type\":\"urn:nimbus:problem:" + p.type() + "\",\"title\":\"" + p.title()
                        + "\",\"status\":413,\"detail\":\"" + p.getMessage().replace("\"", "\\\"") + "\"}";
                ctx.response().setStatusCode(413).putHeader(HttpHeaders.CONTENT_TYPE, Problem.MEDIA_TYPE)
                        .putHeader(HttpHeaders.CONNECTION, "close").end(body);
                return;
            }
            ctx.next();
        });
    }

    /** A request's declared Content-Length, or -1 if there is none or it does not parse. */
    static long declaredLength(String declared) {
        if (declared == null) {
            return -1;
        }
        try {
            return Long.parseLong(declared.trim());
        } catch (NumberFormatException e) {
            return -1; // Vert.x itself rejects a malformed Content-Length with 400
        }
    }
}
