package io.nimbus.api.auth;

import io.nimbus.api.Problem;
import org.eclipse.microprofile.openapi.OASFactory;
import org.eclipse.microprofile.openapi.OASFilter;
import org.eclipse.microprofile.openapi.models.OpenAPI;
import org.eclipse.microprofile.openapi.models.Operation;
import org.eclipse.microprofile.openapi.models.PathItem;
import org.eclipse.microprofile.openapi.models.media.Content;
import org.eclipse.microprofile.openapi.models.responses.APIResponse;
import org.eclipse.microprofile.openapi.models.security.SecurityScheme;

import java.util.Locale;
import java.util.Map;

/**
 * Documents client authentication in the OpenAPI description from the same {@link AccessRules} that
 * enforce it: a bearer security scheme, and on every client API operation its security requirement,
 * the role it needs, and its 401 and 403 problems. Registered with {@code mp.openapi.filter}.
 */
public class ApiSecurityOpenApiFilter implements OASFilter {
    public static final String SCHEME = "bearer";

    @Override
    public void filterOpenAPI(OpenAPI api) {
        if (api.getComponents() == null) {
            api.setComponents(OASFactory.createComponents());
        }
        api.getComponents().addSecurityScheme(SCHEME, OASFactory.createSecurityScheme()
                .type(SecurityScheme.Type.HTTP).scheme("bearer")
                .description("A token from nimbus.api.auth.tokens-file, needed when nimbus.api.auth.enabled=true "
                        + "(off by default). Roles: read < write < admin."));
        if (api.getPaths() == null || api.getPaths().getPathItems() == null) {
            return;
        }
        for (Map.Entry<String, PathItem> path : api.getPaths().getPathItems().entrySet()) {
            if (path.getKey().startsWith("/q/")) {
                continue;
            }
            Map<PathItem.HttpMethod, Operation> ops = path.getValue().getOperations();
            if (ops == null) {
                continue;
            }
            ops.forEach((method, op) -> document(method.name().toUpperCase(Locale.ROOT), path.getKey(), op));
        }
    }

    private static void document(String method, String path, Operation op) {
        ApiRole role = AccessRules.required(method, path);
        op.addSecurityRequirement(OASFactory.createSecurityRequirement().addScheme(SCHEME));
        String needs = "Needs role `" + role.roleName() + "` when client authentication is on.";
        op.setDescription(op.getDescription() == null ? needs : op.getDescription() + " " + needs);
        if (op.getResponses() == null) {
            op.setResponses(OASFactory.createAPIResponses());
        }
        op.getResponses().addAPIResponse("401", problem("Authentication is on and the request carries no bearer "
                + "token, a malformed one, or one this node does not know; see WWW-Authenticate"));
        op.getResponses().addAPIResponse("403", problem("The token does not hold role " + role.roleName()));
    }

    private static APIResponse problem(String description) {
        Content content = OASFactory.createContent().addMediaType(Problem.MEDIA_TYPE, OASFactory.createMediaType()
                .schema(OASFactory.createSchema().ref("Problem")));
        return OASFactory.createAPIResponse().description(description).content(content);
    }
}
