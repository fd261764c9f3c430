package io.nimbus.api;

import io.quarkus.smallrye.openapi.OpenApiFilter;
import org.eclipse.microprofile.openapi.OASFactory;
import org.eclipse.microprofile.openapi.OASFilter;
import org.eclipse.microprofile.openapi.models.OpenAPI;
import org.eclipse.microprofile.openapi.models.Operation;
import org.eclipse.microprofile.openapi.models.PathItem;
import org.eclipse.microprofile.openapi.models.media.MediaType;
import org.eclipse.microprofile.openapi.models.parameters.Parameter;
import org.eclipse.microprofile.openapi.models.responses.APIResponse;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Gives every problem response in the OpenAPI description that has no example one or more examples of
 * the problem bodies the server sends for that status (type, title and a detail as {@link ProblemMappers}
 * and {@link ProblemException} word them), so that Swagger UI shows what a 412 or a 503 looks like. The
 * details are illustrations: the real ones name the actual key, versions and counts.
 */
@OpenApiFilter(stages = OpenApiFilter.RunStage.BUILD)
public class ProblemExamplesOpenApiFilter implements OASFilter {

    /** One example problem: its slug, title and detail. */
    record Example(String name, String type, String title, String detail) {
    }

    @Override
    public void filterOpenAPI(OpenAPI api) {
        if (api.getPaths() == null || api.getPaths().getPathItems() == null) {
            return;
        }
        for (Map.Entry<String, PathItem> path : api.getPaths().getPathItems().entrySet()) {
            if (path.getKey().startsWith("/q/") || path.getValue().getOperations() == null) {
                continue;
            }
            path.getValue().getOperations().forEach((method, op) -> document(method, path.getKey(), op));
        }
    }

    private static void document(PathItem.HttpMethod method, String path, Operation op) {
        if (op.getResponses() == null || op.getResponses().getAPIResponses() == null) {
            return;
        }
        for (Map.Entry<String, APIResponse> r : op.getResponses().getAPIResponses().entrySet()) {
            if (r.getValue().getContent() == null) {
                continue;
            }
            MediaType problem = r.getValue().getContent().getMediaType(Problem.MEDIA_TYPE);
            if (problem == null || problem.getExample() != null
                    || (problem.getExamples() != null && !problem.getExamples().isEmpty())) {
                continue;
            }
            int status = Integer.parseInt(r.getKey());
            for (Example e : examples(status, method, path, op)) {
                problem.addExample(e.name(), OASFactory.createExample().summary(e.title())
                        .value(body(e, status, path)));
            }
        }
    }

    /** The problem as JSON, its instance the path with the example key (or node name) in it. */
    static Map<String, Object> body(Example e, int status, String path) {
        Map<String, Object> body = new LinkedHashMap<>();
        body.put("type", "urn:nimbus:problem:" + e.type());
        body.put("title", e.title());
        body.put("status", status);
        body.put("detail", e.detail());
        body.put("instance", path.replace("{key}", "user%3A42").replace("{name}", "n3"));
        return body;
    }

    static List<Example> examples(int status, PathItem.HttpMethod method, String path, Operation op) {
        String key = path.startsWith("/v1/kv/") ? "user:42" : "greeting";
        boolean read = method == PathItem.HttpMethod.GET && !path.equals("/set");
        return switch (status) {
            case 400 -> List.of(hasConsistency(op)
                    ? new Example("bad-consistency", "bad-request", "Bad request",
                            "unknown consistency level 'SOME': use ONE, QUORUM or ALL")
                    : new Example("bad-key", "bad-request", "Bad request", "key has a bad percent-escape at position "
                            + "4: use %XX with two hex digits (encode '%' itself as %25)"));
            case 404 -> List.of(new Example("key-not-found", "key-not-found", "No such key",
                    "key '" + key + "' does not exist (never written, or deleted)"));
            case 409 -> List.of(new Example("topology-change-refused", "topology-change-refused",
                    "Topology change refused", "the topology moved from epoch 7 to 8 while the change was prepared; "
                    + "read GET /v1/cluster/topology and try again"));
            case 412 -> List.of(new Example("version-mismatch", "precondition-failed", "Precondition failed",
                    "If-Match \"18c1f0a2b3c40-node1\" does not match the current version \"18c1f0a2b3c41-node1\" of key '"
                            + key + "'; read it again and retry with the new ETag"),
                    new Example("already-exists", "precondition-failed", "Precondition failed", "key '" + key
                            + "' already exists (version \"18c1f0a2b3c41-node1\"); If-None-Match: * requires that it "
                            + "does not"));
            case 413 -> List.of(new Example("value-too-large", "value-too-large", "Value too large",
                    new ProblemException.ValueTooLarge(2_097_152, 1_048_576).getMessage()));
            case 503 -> method == PathItem.HttpMethod.POST && path.startsWith("/v1/cluster")
                    ? List.of(new Example("topology-change-failed", "topology-change-failed", "Topology change failed",
                            "the topology register could not be changed: QUORUM of the electorate n1, n2, n3 not "
                            + "reached (1 answered). Retry; nothing was started unless GET /v1/cluster/topology shows "
                            + "the operation"))
                    : path.startsWith("/v1/cluster")
                    ? List.of(notReady())
                    : List.of(new Example("not-enough-replicas", "not-enough-replicas", "Not enough replicas",
                                    "QUORUM needs 2 replica(s), 1 reachable: replicas of key '" + key + "' are n1, n2, "
                                    + "n3, unreachable: n2, n3. Nothing was written; retry later or at a lower "
                                    + "consistency level."),
                            new Example("overloaded", "overloaded", "Overloaded", "this node has 4096 writes waiting "
                                    + "for disk (nimbus.limits.write-queue-max); the write was not applied, retry after "
                                    + "the Retry-After delay"),
                            notReady());
            case 504 -> List.of(read
                    ? new Example("timed-out", "timed-out", "Timed out", "the request did not reach its consistency level in "
                            + "time (nimbus.limits.write-timeout-ms). It is safe to retry.")
                    : new Example("outcome-unknown", "outcome-unknown", "Outcome unknown", "the write was accepted "
                            + "by 1 of the 2 replicas QUORUM needs within nimbus.limits.write-timeout-ms: the outcome is "
                            + "unknown, the write may still be applied. Read the key (or retry with If-Match) to find "
                            + "out."));
            default -> List.of();
        };
    }

    private static Example notReady() {
        return new Example("node-not-ready", "node-not-ready", "Node not ready", "this node holds no cluster topology "
                + "yet: it is joining through its seeds. Nothing was written; retry after the Retry-After delay, or "
                + "through another node.");
    }

    private static boolean hasConsistency(Operation op) {
        if (op.getParameters() == null) {
            return false;
        }
        for (Parameter p : op.getParameters()) {
            if ("consistency".equals(p.getName())) {
                return true;
            }
        }
        return false;
    }
}
