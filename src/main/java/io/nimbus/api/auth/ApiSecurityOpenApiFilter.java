package io.nimbus.api.auth;

import io.nimbus.api.Problem;
import org.eclipse.microprofile.openapi.OASFactory;
import org.eclipse.microprofile.openapi.OASFilter;
import org.eclipse.microprofile.openapi.models.OpenAPI;
import org.eclipse.microprofile.openapi.models.Operation;
import org.eclipse.microprofile.openapi.models.PathItem;
import org.eclipse.microprofile.openapi.models.media.Content;
import org.eclipse.microprofile.openapi.models.media.Schema;
import org.eclipse.microprofile.openapi.models.responses.APIResponse;
import org.eclipse.microprofile.openapi.models.security.SecurityScheme;

import java.util.LinkedHashMap;
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
                + "token, a malformed one, or one this node does not know; see WWW-Authenticate", example(401,
                "unauthorized", "Unauthorized", "this node requires client authentication (nimbus.api.auth.enabled="
                        + "true): send 'Authorization: Bearer <token>' with a token holding role '" + role.roleName()
                        + "'; the operator lists tokens in nimbus.api.auth.tokens-file", path))
                .addHeader("WWW-Authenticate", OASFactory.createHeader().description("The bearer challenge")
                        .schema(OASFactory.createSchema().addType(Schema.SchemaType.STRING))));
        op.getResponses().addAPIResponse("403", problem("The token does not hold role " + role.roleName(),
                example(403, "forbidden", "Forbidden", method + " " + path + " needs role '" + role.roleName()
                        + "' (" + AccessRules.allows(role) + "), which this token does not hold; use a token with "
                        + "that role", path)));
    }

    private static APIResponse problem(String description, Map<String, Object> example) {
        Content content = OASFactory.createContent().addMediaType(Problem.MEDIA_TYPE, OASFactory.createMediaType()
                .schema(OASFactory.createSchema().ref("Problem"))
                .addExample(String.valueOf(example.get("title")).toLowerCase(Locale.ROOT),
                        OASFactory.createExample().value(example)));
        return OASFactory.createAPIResponse().description(description).content(content);
    }

    /** The problem body AuthProblemMappers sends, as an example (the path as a template stands for the instance). */
    private static Map<String, Object> example(int status, String type, String title, String detail, String path) {
        Map<String, Object> body = new LinkedHashMap<>();
        body.put("type", "urn:nimbus:problem:" + type);
        body.put("title", title);
        body.put("status", status);
        body.put("detail", detail);
        body.put("instance", path.replace("{key}", "user%3A42").replace("{name}", "n3"));
        return body;
    }
}
