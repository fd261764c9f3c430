package io.nimbus.api.auth;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.nimbus.api.Problem;
import io.quarkus.security.AuthenticationFailedException;
import io.quarkus.security.ForbiddenException;
import io.quarkus.security.UnauthorizedException;
import jakarta.ws.rs.core.HttpHeaders;
import jakarta.ws.rs.core.Response;
import io.vertx.core.http.HttpServerRequest;
import org.jboss.resteasy.reactive.server.ServerExceptionMapper;

import java.util.Objects;

/**
 * The client API's 401 and 403 as RFC 9457 problems that say what to send instead. A 401 carries
 * {@code WWW-Authenticate: Bearer} (RFC 6750 §3: {@code error="invalid_request"} for a malformed header,
 * {@code error="invalid_token"} for an unknown token). Details never echo the presented token.
 */
public class AuthProblemMappers {
    private final ObjectMapper json;

    public AuthProblemMappers(ObjectMapper json) {
        this.json = json;
    }

    /** No credentials on a request that needs a role. */
    @ServerExceptionMapper
    public Response unauthorized(UnauthorizedException e, HttpServerRequest request) {
        ApiRole needed = AccessRules.required(request.method().name(), request.path());
        return problem(401, "unauthorized", "Unauthorized", "this node requires client authentication "
                + "(nimbus.api.auth.enabled=true): send 'Authorization: Bearer <token>' with a token holding role '"
                + needed.roleName() + "'; the operator lists tokens in nimbus.api.auth.tokens-file", request)
                .header(HttpHeaders.WWW_AUTHENTICATE, BearerTokenMechanism.CHALLENGE).build();
    }

    /** Credentials sent, but not a well-formed bearer token, or a token this node does not know. */
    @ServerExceptionMapper
    public Response authenticationFailed(AuthenticationFailedException e, HttpServerRequest request) {
        String header = request.getHeader(HttpHeaders.AUTHORIZATION);
        if (header == null || BearerHeader.token(header) == null) {
            return problem(401, "unauthorized", "Unauthorized", "the Authorization header is not a bearer token: "
                    + "send 'Authorization: Bearer <token>' (one space, the token as issued, nothing else)", request)
                    .header(HttpHeaders.WWW_AUTHENTICATE, BearerTokenMechanism.CHALLENGE + ", error=\"invalid_request\"")
                    .build();
        }
        return problem(401, "unauthorized", "Unauthorized", "this node does not know the bearer token sent (mistyped, "
                + "revoked, or issued for another cluster); ask the operator for a token listed in "
                + "nimbus.api.auth.tokens-file", request)
                .header(HttpHeaders.WWW_AUTHENTICATE, BearerTokenMechanism.CHALLENGE + ", error=\"invalid_token\"")
                .build();
    }

    /** A known token without the role the request needs. */
    @ServerExceptionMapper
    public Response forbidden(ForbiddenException e, HttpServerRequest request) {
        ApiRole needed = AccessRules.required(request.method().name(), request.path());
        return problem(403, "forbidden", "Forbidden", request.method().name() + " "
                + Objects.requireNonNullElse(Problem.instanceOf(request.path()), "this path")
                + " needs role '" + needed.roleName() + "' (" + AccessRules.allows(needed) + "), which this token "
                + "does not hold; use a token with that role", request).build();
    }

    private Response.ResponseBuilder problem(int status, String type, String title, String detail,
                                             HttpServerRequest request) {
        return Problem.response(json, status, type, title, detail, request);
    }
}
