package io.nimbus.api.auth;

import io.quarkus.security.identity.SecurityIdentity;
import io.quarkus.vertx.http.runtime.security.HttpSecurityPolicy;
import io.smallrye.mutiny.Uni;
import io.vertx.ext.web.RoutingContext;
import jakarta.enterprise.context.ApplicationScoped;

/**
 * The client API's authorization: the role {@link AccessRules} names for the request (method and raw
 * path, as sent: the same text the mapper and the OpenAPI document use), held by the
 * caller's identity. Applied to every REST endpoint ({@code quarkus.http.auth.permission.api.*} in
 * application.properties); lets everything through while authentication is off. A refused anonymous
 * caller gets 401, a refused authenticated one 403 ({@link AuthProblemMappers}).
 */
@ApplicationScoped
public class ApiAccessPolicy implements HttpSecurityPolicy {
    public static final String NAME = "nimbus-api";

    private final ClientAuth auth;

    public ApiAccessPolicy(ClientAuth auth) {
        this.auth = auth;
    }

    @Override
    public String name() {
        return NAME;
    }

    @Override
    public Uni<CheckResult> checkPermission(RoutingContext request, Uni<SecurityIdentity> identity,
                                            AuthorizationRequestContext context) {
        if (!auth.enabled()) {
            return CheckResult.permit();
        }
        ApiRole needed = AccessRules.required(request.request().method().name(), request.request().path());
        return identity.map(id -> !id.isAnonymous() && id.hasRole(needed.roleName())
                ? CheckResult.PERMIT : CheckResult.DENY);
    }
}
