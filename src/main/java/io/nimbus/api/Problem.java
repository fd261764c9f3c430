package io.nimbus.api;

import com.fasterxml.jackson.annotation.JsonInclude;
import org.eclipse.microprofile.openapi.annotations.media.Schema;

/** An RFC 9457 problem body ({@code application/problem+json}). */
@JsonInclude(JsonInclude.Include.NON_NULL)
@Schema(name = "Problem", description = "RFC 9457 problem details")
public record Problem(
        @Schema(example = "urn:nimbus:problem:precondition-failed") String type,
        @Schema(example = "Precondition failed") String title,
        @Schema(example = "412") int status,
        @Schema(example = "If-Match \"18c1f0a2b3c40-n1\" does not match the current version \"18c1f0a2b3c41-n1\"") String detail,
        @Schema(example = "/v1/kv/user%3A42") String instance) {

    public static final String MEDIA_TYPE = "application/problem+json";

    public static Problem of(String type, String title, int status, String detail, String instance) {
        return new Problem("urn:nimbus:problem:" + type, title, status, detail, instance);
    }

    /**
     * A response carrying this kind of problem for {@code request}: the one place exception mappers build
     * problem bodies. The instance is the raw path: without a Host (HTTP/1.0) there is no absolute request
     * URI to take it from.
     */
    public static jakarta.ws.rs.core.Response.ResponseBuilder response(com.fasterxml.jackson.databind.ObjectMapper json,
            int status, String type, String title, String detail, io.vertx.core.http.HttpServerRequest request) {
        Problem p = of(type, title, status, detail, instanceOf(request.path()));
        try {
            return jakarta.ws.rs.core.Response.status(status).type(MEDIA_TYPE).entity(json.writeValueAsString(p));
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    /**
     * The problem's {@code instance}: the request's raw path when it is a plausible URI reference
     * (visible ASCII only), else null, so that a malformed target is never echoed back.
     */
    public static String instanceOf(String rawPath) {
        if (rawPath == null || rawPath.isEmpty() || rawPath.length() > 2048) {
            return null;
        }
        for (int i = 0; i < rawPath.length(); i++) {
            char c = rawPath.charAt(i);
            if (c < 0x21 || c > 0x7e || c == '"' || c == '\\') {
                return null;
            }
        }
        return rawPath;
    }
}
