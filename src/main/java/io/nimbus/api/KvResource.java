package io.nimbus.api;

import io.nimbus.config.NimbusConfig;
import io.nimbus.core.kv.Ballot;
import io.nimbus.core.kv.ConsistencyLevel;
import io.nimbus.core.kv.Mutation;
import io.nimbus.core.kv.Precondition;
import io.nimbus.core.kv.WriteOutcome;
import io.nimbus.cluster.coordinator.Coordinator;
import io.vertx.core.http.HttpServerRequest;
import jakarta.ws.rs.Consumes;
import jakarta.ws.rs.DELETE;
import jakarta.ws.rs.Encoded;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.PUT;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.PathParam;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.QueryParam;
import jakarta.ws.rs.core.Context;
import jakarta.ws.rs.core.HttpHeaders;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.core.Request;
import jakarta.ws.rs.core.Response;
import jakarta.ws.rs.core.Variant;
import org.eclipse.microprofile.openapi.annotations.Operation;
import org.eclipse.microprofile.openapi.annotations.enums.ParameterIn;
import org.eclipse.microprofile.openapi.annotations.enums.SchemaType;
import org.eclipse.microprofile.openapi.annotations.headers.Header;
import org.eclipse.microprofile.openapi.annotations.media.Content;
import org.eclipse.microprofile.openapi.annotations.media.ExampleObject;
import org.eclipse.microprofile.openapi.annotations.media.Schema;
import org.eclipse.microprofile.openapi.annotations.parameters.Parameter;
import org.eclipse.microprofile.openapi.annotations.parameters.RequestBody;
import org.eclipse.microprofile.openapi.annotations.responses.APIResponse;
import org.eclipse.microprofile.openapi.annotations.tags.Tag;

import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.CompletionStage;

/** The v1 key-value API (DESIGN §1). */
@Path("/v1/kv")
@Tag(name = "Key-value", description = "Read, write, compare-and-set and delete keys")
public class KvResource {
    private static final String KEY_DOC = "The key, 1..1024 bytes of UTF-8; in a URL it is one path segment, percent-encoded "
            + "(user:42 is sent as user%3A42; Swagger UI encodes it for you)";
    private static final String LEVEL_DOC = "ONE, QUORUM or ALL (case-insensitive); default nimbus.consistency";
    /** The key itself: Swagger UI and other clients percent-encode path parameters (user%3A42 on the wire). */
    static final String KEY_EXAMPLE = "user:42";
    static final String ETAG_DOC = "The version: opaque, unique per write, e.g. \"18c1f0a2b3c40-node1\"";
    static final String RETRY_DOC = "Seconds to wait before retrying";
    static final String UNAVAILABLE_DOC = "Not enough replicas reachable, node not ready, write queue full, disk full "
            + "or storage failed (the detail says which); see Retry-After";
    private static final MediaType TEXT_UTF8 = MediaType.TEXT_PLAIN_TYPE.withCharset(StandardCharsets.UTF_8.name());
    /** The representations of a value, the first one for clients that state no preference. */
    private static final List<Variant> VALUE_VARIANTS = Variant.mediaTypes(
            MediaType.APPLICATION_OCTET_STREAM_TYPE, MediaType.TEXT_PLAIN_TYPE).build();

    private final Coordinator kv;
    private final NimbusConfig config;

    public KvResource(Coordinator kv, NimbusConfig config) {
        this.kv = kv;
        this.config = config;
    }

    @GET
    @Path("{key}")
    @Produces({MediaType.APPLICATION_OCTET_STREAM, MediaType.TEXT_PLAIN})
    @Operation(operationId = "readKey", summary = "Read a key", description = "Returns the value's bytes and its "
            + "version in the ETag header, as application/octet-stream; as text/plain; charset=UTF-8 when Accept "
            + "prefers text/plain and the value is UTF-8 text. With If-None-Match and a matching ETag, answers 304 "
            + "without a body.")
    @APIResponse(responseCode = "200", description = "The value; ETag is its version",
            headers = @Header(name = "ETag", description = ETAG_DOC, schema = @Schema(type = SchemaType.STRING)),
            content = {
                    @Content(mediaType = MediaType.TEXT_PLAIN, schema = @Schema(type = SchemaType.STRING),
                            examples = @ExampleObject(name = "text", value = "hello")),
                    @Content(mediaType = MediaType.APPLICATION_OCTET_STREAM,
                            examples = @ExampleObject(name = "bytes", value = "hello"))})
    @APIResponse(responseCode = "304", description = "If-None-Match matched the current version",
            headers = @Header(name = "ETag", description = ETAG_DOC, schema = @Schema(type = SchemaType.STRING)))
    @APIResponse(responseCode = "400", description = "Bad key, header or consistency level", content = @Content(
            mediaType = Problem.MEDIA_TYPE, schema = @Schema(implementation = Problem.class)))
    @APIResponse(responseCode = "404", description = "No such key (never written, or deleted)", content = @Content(
            mediaType = Problem.MEDIA_TYPE, schema = @Schema(implementation = Problem.class)))
    @APIResponse(responseCode = "503", description = UNAVAILABLE_DOC,
            headers = @Header(name = "Retry-After", description = RETRY_DOC, schema = @Schema(type = SchemaType.INTEGER)),
            content = @Content(mediaType = Problem.MEDIA_TYPE, schema = @Schema(implementation = Problem.class)))
    @APIResponse(responseCode = "504", description = "Not answered in time; nothing was changed by a read",
            content = @Content(mediaType = Problem.MEDIA_TYPE, schema = @Schema(implementation = Problem.class)))
    @Parameter(name = "If-None-Match", in = ParameterIn.HEADER, schema = @Schema(type = SchemaType.STRING),
            description = "Answer 304 if the current version is one of these ETags, e.g. \"18c1f0a2b3c40-node1\"")
    public CompletionStage<Response> get(
            @Parameter(description = KEY_DOC, example = KEY_EXAMPLE) @PathParam("key") @Encoded String rawKey,
            @Parameter(description = LEVEL_DOC, schema = @Schema(implementation = ConsistencyLevel.class))
            @QueryParam("consistency") String consistency,
            @Context HttpServerRequest request,
            @Context Request negotiation) {
        String key = key(rawKey);
        ConsistencyLevel level = level(consistency);
        String ifNoneMatch = condition(request, HttpHeaders.IF_NONE_MATCH);
        EntityTags.Condition notModified = ifNoneMatch == null ? null : EntityTags.parse(ifNoneMatch, "If-None-Match");
        Variant wanted = negotiation.selectVariant(VALUE_VARIANTS);
        return kv.read(key, level).thenApply(committed -> {
            if (committed == null || committed.isTombstone()) {
                throw new ProblemException.KeyNotFound(key);
            }
            Ballot version = committed.version();
            if (notModified != null && EntityTags.weakMatches(notModified, version)) {
                return Response.notModified().header(HttpHeaders.ETAG, EntityTags.format(version)).build();
            }
            return Response.ok(committed.value(), valueType(wanted, committed.value()))
                    .header(HttpHeaders.ETAG, EntityTags.format(version)).build();
        });
    }

    @PUT
    @Path("{key}")
    @Consumes(MediaType.WILDCARD)
    @Operation(operationId = "writeKey", summary = "Write a key", description = "Stores the request body as the key's "
            + "value and answers once it is durable. The body is stored as sent, whatever its Content-Type. With "
            + "If-Match it is a compare-and-set against the ETag you read; with If-None-Match: * it only creates.")
    @RequestBody(description = "The value: raw bytes, 0..nimbus.limits.max-value-bytes; text is stored as its bytes",
            content = {
                    @Content(mediaType = MediaType.TEXT_PLAIN, schema = @Schema(type = SchemaType.STRING),
                            examples = @ExampleObject(name = "text", value = "hello")),
                    @Content(mediaType = MediaType.APPLICATION_OCTET_STREAM)})
    @APIResponse(responseCode = "204", description = "Written and durable; ETag is the new version",
            headers = @Header(name = "ETag", description = ETAG_DOC, schema = @Schema(type = SchemaType.STRING)))
    @APIResponse(responseCode = "400", description = "Bad key, header or consistency level", content = @Content(
            mediaType = Problem.MEDIA_TYPE, schema = @Schema(implementation = Problem.class)))
    @APIResponse(responseCode = "412", description = "If-Match or If-None-Match did not hold; ETag is the current version",
            headers = @Header(name = "ETag", description = "The key's current version, if it exists",
                    schema = @Schema(type = SchemaType.STRING)),
            content = @Content(mediaType = Problem.MEDIA_TYPE, schema = @Schema(implementation = Problem.class)))
    @APIResponse(responseCode = "413", description = "Value over the limit", content = @Content(
            mediaType = Problem.MEDIA_TYPE, schema = @Schema(implementation = Problem.class)))
    @APIResponse(responseCode = "503", description = UNAVAILABLE_DOC,
            headers = @Header(name = "Retry-After", description = RETRY_DOC, schema = @Schema(type = SchemaType.INTEGER)),
            content = @Content(mediaType = Problem.MEDIA_TYPE, schema = @Schema(implementation = Problem.class)))
    @APIResponse(responseCode = "504", description = "Not confirmed in time: the outcome is unknown", content = @Content(
            mediaType = Problem.MEDIA_TYPE, schema = @Schema(implementation = Problem.class)))
    @Parameter(name = "If-Match", in = ParameterIn.HEADER, schema = @Schema(type = SchemaType.STRING),
            description = "Compare-and-set: apply only if the current version is one of these ETags, e.g. "
                    + "\"18c1f0a2b3c40-node1\" (or `*` for: only if the key exists); an empty value is a 400. "
                    + "Not together with If-None-Match.")
    @Parameter(name = "If-None-Match", in = ParameterIn.HEADER, schema = @Schema(type = SchemaType.STRING),
            description = "`*` to create only: 412 if the key exists. Not together with If-Match.")
    public CompletionStage<Response> put(
            @Parameter(description = KEY_DOC, example = KEY_EXAMPLE) @PathParam("key") @Encoded String rawKey,
            @Parameter(description = LEVEL_DOC, schema = @Schema(implementation = ConsistencyLevel.class))
            @QueryParam("consistency") String consistency,
            @Context HttpServerRequest request) {
        String key = key(rawKey);
        ConsistencyLevel level = level(consistency);
        String ifMatch = condition(request, HttpHeaders.IF_MATCH);
        String ifNoneMatch = condition(request, HttpHeaders.IF_NONE_MATCH);
        Precondition precondition = writePrecondition(ifMatch, ifNoneMatch);
        // the body is read here, bounded as it arrives (ValueBody), once the request line and headers are valid
        return ValueBody.read(request, config.limits().maxValueBytes())
                .thenCompose(value -> kv.write(new Mutation(key, value, precondition), level))
                .thenApply(outcome -> respond(key, outcome, ifMatch, ifNoneMatch));
    }

    @DELETE
    @Path("{key}")
    @Operation(operationId = "deleteKey", summary = "Delete a key", description = "Writes a tombstone with its own "
            + "version. Optional If-Match makes it conditional; If-None-Match: * (the key must not exist) answers 412 "
            + "on a key that exists. Deleting a key that does not exist answers 404 and writes nothing.")
    @APIResponse(responseCode = "204", description = "Deleted and durable; ETag is the tombstone's version",
            headers = @Header(name = "ETag", description = ETAG_DOC, schema = @Schema(type = SchemaType.STRING)))
    @APIResponse(responseCode = "400", description = "Bad key, header or consistency level", content = @Content(
            mediaType = Problem.MEDIA_TYPE, schema = @Schema(implementation = Problem.class)))
    @APIResponse(responseCode = "404", description = "No such key", content = @Content(
            mediaType = Problem.MEDIA_TYPE, schema = @Schema(implementation = Problem.class)))
    @APIResponse(responseCode = "412", description = "If-Match or If-None-Match did not hold; ETag is the current "
            + "version",
            headers = @Header(name = "ETag", description = "The key's current version, if it exists",
                    schema = @Schema(type = SchemaType.STRING)),
            content = @Content(mediaType = Problem.MEDIA_TYPE, schema = @Schema(implementation = Problem.class)))
    @APIResponse(responseCode = "503", description = UNAVAILABLE_DOC,
            headers = @Header(name = "Retry-After", description = RETRY_DOC, schema = @Schema(type = SchemaType.INTEGER)),
            content = @Content(mediaType = Problem.MEDIA_TYPE, schema = @Schema(implementation = Problem.class)))
    @APIResponse(responseCode = "504", description = "Not confirmed in time: the outcome is unknown", content = @Content(
            mediaType = Problem.MEDIA_TYPE, schema = @Schema(implementation = Problem.class)))
    @Parameter(name = "If-Match", in = ParameterIn.HEADER, schema = @Schema(type = SchemaType.STRING),
            description = "Delete only if the current version is one of these ETags, e.g. \"18c1f0a2b3c40-node1\". "
                    + "Not together with If-None-Match.")
    @Parameter(name = "If-None-Match", in = ParameterIn.HEADER, schema = @Schema(type = SchemaType.STRING),
            description = "`*`: delete only if the key does not exist (so 412 on a key that exists, 404 otherwise); "
                    + "an ETag list is refused with 400")
    public CompletionStage<Response> delete(
            @Parameter(description = KEY_DOC, example = KEY_EXAMPLE) @PathParam("key") @Encoded String rawKey,
            @Parameter(description = LEVEL_DOC, schema = @Schema(implementation = ConsistencyLevel.class))
            @QueryParam("consistency") String consistency,
            @Context HttpServerRequest request) {
        String key = key(rawKey);
        ConsistencyLevel level = level(consistency);
        String ifMatch = condition(request, HttpHeaders.IF_MATCH);
        String ifNoneMatch = condition(request, HttpHeaders.IF_NONE_MATCH);
        Precondition precondition = writePrecondition(ifMatch, ifNoneMatch);
        return kv.write(new Mutation(key, null, precondition), level)
                .thenApply(outcome -> respond(key, outcome, ifMatch, ifNoneMatch));
    }

    /**
     * The value's media type: application/octet-stream, unless the client prefers text/plain and the value is
     * UTF-8 text (then text/plain; charset=UTF-8). Bytes that are not UTF-8 stay octet-stream whatever the
     * client prefers: the server may disregard Accept (RFC 9110 §12.5.1) rather than answer 406, and a
     * charset it cannot vouch for would be a lie.
     */
    static MediaType valueType(Variant wanted, byte[] value) {
        if (wanted != null && MediaType.TEXT_PLAIN_TYPE.isCompatible(wanted.getMediaType()) && isUtf8(value)) {
            return TEXT_UTF8;
        }
        return MediaType.APPLICATION_OCTET_STREAM_TYPE;
    }

    static boolean isUtf8(byte[] value) {
        try {
            StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT).decode(ByteBuffer.wrap(value));
            return true;
        } catch (CharacterCodingException e) {
            return false; // not text: answered as octet-stream, which is what it is
        }
    }

    /**
     * A condition header read from the request itself: the framework's header parameter reads an empty
     * header as absent (which made {@code If-Match:} with no value an unconditional write) and keeps only
     * the first of several lines; the method-level {@code @Parameter}s describe them in the API.
     */
    private static String condition(HttpServerRequest request, String name) {
        return Requests.listHeader(request.headers().getAll(name));
    }

    private String key(String rawKey) {
        return Keys.decode(rawKey, config.limits().maxKeyBytes(), false, "key");
    }

    ConsistencyLevel level(String text) {
        return Requests.level(text, kv.defaultLevel());
    }

    static Precondition writePrecondition(String ifMatch, String ifNoneMatch) {
        if (ifMatch != null && ifNoneMatch != null) {
            throw new ProblemException.BadRequest("send If-Match or If-None-Match, not both");
        }
        if (ifNoneMatch != null) {
            if (!ifNoneMatch.trim().equals("*")) {
                EntityTags.parse(ifNoneMatch, "If-None-Match"); // a malformed header is named as such
                throw new ProblemException.BadRequest("on writes and deletes If-None-Match must be * (only if the key "
                        + "does not exist); to make them depend on a version use If-Match with the ETag you read");
            }
            return new Precondition.Absent();
        }
        if (ifMatch != null) {
            EntityTags.Condition c = EntityTags.parse(ifMatch, "If-Match");
            return c.any() ? new Precondition.Present() : new Precondition.VersionIn(EntityTags.strongVersions(c));
        }
        return Precondition.NONE;
    }

    static Response respond(String key, WriteOutcome outcome, String ifMatch, String ifNoneMatch) {
        if (outcome instanceof WriteOutcome.Applied applied) {
            return Response.noContent().header(HttpHeaders.ETAG, EntityTags.format(applied.version())).build();
        }
        if (outcome instanceof WriteOutcome.PreconditionFailed failed) {
            String current = failed.current() == null ? null : EntityTags.format(failed.current());
            String detail;
            if (ifNoneMatch != null) {
                detail = "key '" + Keys.printable(key) + "' already exists (version " + current
                        + "); If-None-Match: * requires that it does not";
            } else if (current == null) {
                detail = "key '" + Keys.printable(key) + "' does not exist, so If-Match " + ifMatch.trim()
                        + " cannot match; write without If-Match (or with If-None-Match: *) to create it";
            } else {
                detail = "If-Match " + ifMatch.trim() + " does not match the current version " + current
                        + " of key '" + Keys.printable(key) + "'; read it again and retry with the new ETag";
            }
            throw new ProblemException.PreconditionFailed(detail, current);
        }
        if (outcome instanceof WriteOutcome.NotFound) {
            throw new ProblemException.KeyNotFound(key);
        }
        throw new IllegalStateException("unhandled outcome " + outcome);
    }
}
