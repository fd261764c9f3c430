package io.nimbus.api;

import io.nimbus.config.NimbusConfig;
import io.nimbus.core.kv.ConsistencyLevel;
import io.nimbus.core.kv.Mutation;
import io.nimbus.core.kv.Precondition;
import io.nimbus.cluster.coordinator.Coordinator;
import io.vertx.core.http.HttpServerRequest;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.QueryParam;
import jakarta.ws.rs.core.Context;
import jakarta.ws.rs.core.HttpHeaders;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.core.Response;
import org.eclipse.microprofile.openapi.annotations.Operation;
import org.eclipse.microprofile.openapi.annotations.enums.ParameterIn;
import org.eclipse.microprofile.openapi.annotations.enums.SchemaType;
import org.eclipse.microprofile.openapi.annotations.headers.Header;
import org.eclipse.microprofile.openapi.annotations.media.Content;
import org.eclipse.microprofile.openapi.annotations.media.ExampleObject;
import org.eclipse.microprofile.openapi.annotations.media.Schema;
import org.eclipse.microprofile.openapi.annotations.parameters.Parameter;
import org.eclipse.microprofile.openapi.annotations.responses.APIResponse;
import org.eclipse.microprofile.openapi.annotations.tags.Tag;

import java.nio.charset.StandardCharsets;
import java.util.concurrent.CompletionStage;

/**
 * The Hash Nimbus endpoints, for its existing clients: {@code GET /set?key=&value=} and
 * {@code GET /get?key=}. Same semantics as PUT/GET of /v1/kv at the default level; values are text.
 */
@Path("/")
@Tag(name = "Compatibility", description = "Hash Nimbus client endpoints (text values)")
public class CompatResource {
    private final Coordinator kv;
    private final NimbusConfig config;

    public CompatResource(Coordinator kv, NimbusConfig config) {
        this.kv = kv;
        this.config = config;
    }

    @GET
    @Path("set")
    @Produces(MediaType.TEXT_PLAIN)
    @Operation(operationId = "compatSet", summary = "Write a key (Hash Nimbus)", description = "Same as PUT /v1/kv/{key} with the value as UTF-8 text.")
    @APIResponse(responseCode = "200", description = "Written and durable; the body is OK, ETag the new version",
            headers = @Header(name = "ETag", description = KvResource.ETAG_DOC, schema = @Schema(type = SchemaType.STRING)),
            content = @Content(mediaType = MediaType.TEXT_PLAIN, schema = @Schema(type = SchemaType.STRING),
                    examples = @ExampleObject(name = "ok", value = "OK")))
    @APIResponse(responseCode = "400", description = "Missing or bad key or value", content = @Content(
            mediaType = Problem.MEDIA_TYPE, schema = @Schema(implementation = Problem.class)))
    @APIResponse(responseCode = "413", description = "Value over the limit", content = @Content(
            mediaType = Problem.MEDIA_TYPE, schema = @Schema(implementation = Problem.class)))
    @APIResponse(responseCode = "503", description = KvResource.UNAVAILABLE_DOC,
            headers = @Header(name = "Retry-After", description = KvResource.RETRY_DOC,
                    schema = @Schema(type = SchemaType.INTEGER)),
            content = @Content(mediaType = Problem.MEDIA_TYPE, schema = @Schema(implementation = Problem.class)))
    @APIResponse(responseCode = "504", description = "Not confirmed in time: the outcome is unknown", content = @Content(
            mediaType = Problem.MEDIA_TYPE, schema = @Schema(implementation = Problem.class)))
    @Parameter(name = "key", in = ParameterIn.QUERY, required = true, description = "The key", example = "greeting",
            schema = @Schema(type = SchemaType.STRING))
    @Parameter(name = "value", in = ParameterIn.QUERY, required = true, description = "The value, as text", example = "hello",
            schema = @Schema(type = SchemaType.STRING))
    public CompletionStage<Response> set(
            @Parameter(description = "ONE, QUORUM or ALL (case-insensitive); default nimbus.consistency",
                    schema = @Schema(implementation = ConsistencyLevel.class)) @QueryParam("consistency") String consistency,
            @Context HttpServerRequest request) {
        // the raw query, decoded strictly here (the framework would turn invalid UTF-8 into U+FFFD)
        String rawKey = Keys.rawQueryParam(request.query(), "key");
        String rawValue = Keys.rawQueryParam(request.query(), "value");
        String key = Keys.decode(rawKey, config.limits().maxKeyBytes(), true, "query parameter 'key'");
        ConsistencyLevel level = Requests.level(consistency, kv.defaultLevel());
        if (rawValue == null) {
            throw new ProblemException.BadRequest("query parameter 'value' is missing: /set?key=K&value=V");
        }
        byte[] value = Keys.percentDecode(rawValue, true, "query parameter 'value'");
        if (value.length > config.limits().maxValueBytes()) {
            throw new ProblemException.ValueTooLarge(value.length, config.limits().maxValueBytes());
        }
        return kv.write(new Mutation(key, value, Precondition.NONE), level).thenApply(outcome -> {
            Response written = KvResource.respond(key, outcome, null, null);
            return Response.ok("OK", MediaType.TEXT_PLAIN_TYPE)
                    .header(HttpHeaders.ETAG, written.getHeaderString(HttpHeaders.ETAG)).build();
        });
    }

    @GET
    @Path("get")
    @Produces(MediaType.TEXT_PLAIN)
    @Operation(operationId = "compatGet", summary = "Read a key (Hash Nimbus)", description = "Same as GET /v1/kv/{key}, the value as UTF-8 text.")
    @APIResponse(responseCode = "200", description = "The value; ETag is its version",
            headers = @Header(name = "ETag", description = KvResource.ETAG_DOC, schema = @Schema(type = SchemaType.STRING)),
            content = @Content(mediaType = MediaType.TEXT_PLAIN, schema = @Schema(type = SchemaType.STRING),
                    examples = @ExampleObject(name = "value", value = "hello")))
    @APIResponse(responseCode = "400", description = "Missing or bad key", content = @Content(
            mediaType = Problem.MEDIA_TYPE, schema = @Schema(implementation = Problem.class)))
    @APIResponse(responseCode = "404", description = "No such key", content = @Content(
            mediaType = Problem.MEDIA_TYPE, schema = @Schema(implementation = Problem.class)))
    @APIResponse(responseCode = "503", description = KvResource.UNAVAILABLE_DOC,
            headers = @Header(name = "Retry-After", description = KvResource.RETRY_DOC,
                    schema = @Schema(type = SchemaType.INTEGER)),
            content = @Content(mediaType = Problem.MEDIA_TYPE, schema = @Schema(implementation = Problem.class)))
    @APIResponse(responseCode = "504", description = "Not answered in time; nothing was changed by a read", content = @Content(
            mediaType = Problem.MEDIA_TYPE, schema = @Schema(implementation = Problem.class)))
    @Parameter(name = "key", in = ParameterIn.QUERY, required = true, description = "The key", example = "greeting",
            schema = @Schema(type = SchemaType.STRING))
    public CompletionStage<Response> get(
            @Parameter(description = "ONE, QUORUM or ALL (case-insensitive); default nimbus.consistency",
                    schema = @Schema(implementation = ConsistencyLevel.class)) @QueryParam("consistency") String consistency,
            @Context HttpServerRequest request) {
        String rawKey = Keys.rawQueryParam(request.query(), "key");
        String key = Keys.decode(rawKey, config.limits().maxKeyBytes(), true, "query parameter 'key'");
        return kv.read(key, Requests.level(consistency, kv.defaultLevel())).thenApply(committed -> {
            if (committed == null || committed.isTombstone()) {
                throw new ProblemException.KeyNotFound(key);
            }
            return Response.ok(new String(committed.value(), StandardCharsets.UTF_8), MediaType.TEXT_PLAIN_TYPE)
                    .header(HttpHeaders.ETAG, EntityTags.format(committed.version())).build();
        });
    }
}
