package io.nimbus.api;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLMapper;
import com.networknt.schema.Error;
import com.networknt.schema.InputFormat;
import com.networknt.schema.Schema;
import com.networknt.schema.SchemaLocation;
import com.networknt.schema.SchemaRegistry;
import com.networknt.schema.SpecificationVersion;
import io.quarkus.test.junit.QuarkusTest;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;

import static io.restassured.RestAssured.given;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The served description ({@code /q/openapi}) is a valid OpenAPI 3.1 document, checked against the
 * OpenAPI Initiative's own JSON Schema for 3.1 (vendored in {@code src/test/resources/oas-3.1}, schema
 * objects checked with the OAS 3.1 dialect), and says what a person in Swagger UI and a client generator
 * need: operation ids, the consistency levels as an enum, the ETag and Retry-After headers the server
 * sends, and an example for every response body.
 */
@QuarkusTest
class OpenApiDocumentTest {
    private static final String OAS = "https://spec.openapis.org/oas/3.1/";
    private static final String WIP = "/WORK-IN-PROGRESS";
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final List<String> METHODS = List.of("get", "put", "post", "delete", "patch", "head", "options");
    /** The client API's operations: every 503 they answer comes with Retry-After (ProblemMappers). */
    private static final Set<String> KV_OPERATIONS = Set.of("readKey", "writeKey", "deleteKey", "compatGet", "compatSet");

    static JsonNode document() {
        String text = given().queryParam("format", "json").get("/q/openapi").then().statusCode(200).extract().asString();
        try {
            return JSON.readTree(text);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** The OAS 3.1 schema that also checks Schema Objects against the OAS dialect; $ids resolved offline. */
    static Schema oas31() {
        SchemaRegistry registry = SchemaRegistry.withDefaultDialect(SpecificationVersion.DRAFT_2020_12,
                builder -> builder.schemas(OpenApiDocumentTest::vendored));
        return registry.getSchema(SchemaLocation.of(OAS + "schema-base" + WIP));
    }

    /** The vendored schema for one of the four OAS 3.1 $ids, as JSON text; null for any other id. */
    private static String vendored(String iri) {
        if (!iri.startsWith(OAS) || !iri.endsWith(WIP)) {
            return null;
        }
        String name = iri.substring(OAS.length(), iri.length() - WIP.length());
        try (InputStream in = OpenApiDocumentTest.class.getResourceAsStream("/oas-3.1/" + name + ".yaml")) {
            if (in == null) {
                return null;
            }
            return JSON.writeValueAsString(new YAMLMapper().readTree(in));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static List<String> errors(JsonNode doc) {
        List<Error> errors = oas31().validate(doc);
        return errors.stream().map(Error::toString).collect(Collectors.toList());
    }

    @Test
    void theDocumentIsValidOpenApi31() {
        JsonNode doc = document();
        assertTrue(doc.path("openapi").asText().matches("3\\.1\\.\\d+"), "declares " + doc.path("openapi"));
        List<String> errors = errors(doc);
        assertTrue(errors.isEmpty(), errors.size() + " error(s):\n" + String.join("\n", errors));
    }

    /** The validator is not a yes-man: the faults the document once had are found. */
    @Test
    void theValidatorFindsAParameterWithoutSchemaAndAWrongVersion() {
        JsonNode doc = document();
        ObjectNode parameter = (ObjectNode) doc.path("paths").path("/v1/kv/{key}").path("get").path("parameters")
                .get(0);
        parameter.remove("schema");
        parameter.remove("content");
        List<String> errors = errors(doc);
        assertFalse(errors.isEmpty(), "a parameter without schema or content passed");

        JsonNode other = document();
        ((ObjectNode) other).put("openapi", "3.0.3");
        assertFalse(errors(other).isEmpty(), "a 3.0 version string passed the 3.1 schema");

        JsonNode badSchema = document();
        ((ObjectNode) badSchema.path("paths").path("/v1/kv/{key}").path("get").path("parameters").get(0)
                .path("schema")).put("type", "text");
        assertFalse(errors(badSchema).isEmpty(), "a Schema Object with type: text passed the dialect");
    }

    @Test
    void everyOperationHasAUniqueOperationId() {
        Set<String> seen = new HashSet<>();
        for (Op op : operations(document())) {
            String id = op.node.path("operationId").asText("");
            assertFalse(id.isBlank(), op + " has no operationId");
            assertTrue(seen.add(id), "operationId " + id + " is used twice");
        }
        assertTrue(seen.containsAll(KV_OPERATIONS), "ids: " + seen);
    }

    @Test
    void consistencyIsAnEnumOfTheThreeLevels() {
        int found = 0;
        for (Op op : operations(document())) {
            for (JsonNode p : op.node.path("parameters")) {
                if (p.path("name").asText().equals("consistency")) {
                    found++;
                    assertEquals("query", p.path("in").asText());
                    assertEquals(List.of("ONE", "QUORUM", "ALL"), texts(resolve(p.path("schema")).path("enum")),
                            op + " consistency");
                }
            }
        }
        assertEquals(KV_OPERATIONS.size(), found, "consistency parameters");
    }

    @Test
    void etagIsDeclaredWhereTheServerSendsIt() {
        JsonNode paths = document().path("paths");
        String[][] where = {
                {"/v1/kv/{key}", "get", "200"}, {"/v1/kv/{key}", "get", "304"},
                {"/v1/kv/{key}", "put", "204"}, {"/v1/kv/{key}", "put", "412"},
                {"/v1/kv/{key}", "delete", "204"}, {"/v1/kv/{key}", "delete", "412"},
                {"/get", "get", "200"}, {"/set", "get", "200"}};
        for (String[] w : where) {
            JsonNode header = paths.path(w[0]).path(w[1]).path("responses").path(w[2]).path("headers").path("ETag");
            assertFalse(header.isMissingNode(), w[1] + " " + w[0] + " " + w[2] + " declares no ETag");
            assertEquals("string", resolve(header.path("schema")).path("type").asText(), "ETag schema");
        }
    }

    @Test
    void retryAfterIsDeclaredOnEvery503OfTheClientApi() {
        int found = 0;
        for (Op op : operations(document())) {
            if (!KV_OPERATIONS.contains(op.node.path("operationId").asText())) {
                continue;
            }
            JsonNode unavailable = op.node.path("responses").path("503");
            assertFalse(unavailable.isMissingNode(), op + " declares no 503 (any read or write can lack replicas)");
            JsonNode header = unavailable.path("headers").path("Retry-After");
            assertFalse(header.isMissingNode(), op + " 503 declares no Retry-After");
            assertEquals("integer", resolve(header.path("schema")).path("type").asText(), "Retry-After is seconds");
            found++;
        }
        assertEquals(KV_OPERATIONS.size(), found);
    }

    @Test
    void everyResponseBodyHasAnExampleAndProblemExamplesCarryTheirStatus() {
        List<String> missing = new ArrayList<>();
        for (Op op : operations(document())) {
            Iterator<Map.Entry<String, JsonNode>> responses = op.node.path("responses").fields();
            while (responses.hasNext()) {
                Map.Entry<String, JsonNode> r = responses.next();
                Iterator<Map.Entry<String, JsonNode>> media = r.getValue().path("content").fields();
                while (media.hasNext()) {
                    Map.Entry<String, JsonNode> m = media.next();
                    List<JsonNode> examples = examples(m.getValue());
                    if (examples.isEmpty()) {
                        missing.add(op + " " + r.getKey() + " " + m.getKey());
                    }
                    if (m.getKey().equals(Problem.MEDIA_TYPE)) {
                        for (JsonNode e : examples) {
                            assertEquals(Integer.parseInt(r.getKey()), e.path("status").asInt(),
                                    op + " " + r.getKey() + " example " + e);
                            assertTrue(e.path("type").asText().startsWith("urn:nimbus:problem:"), op + " " + e);
                            assertFalse(e.path("detail").asText().isBlank(), op + " " + e);
                        }
                    }
                }
            }
        }
        assertTrue(missing.isEmpty(), "responses without an example: " + missing);
    }

    /**
     * What Swagger UI does with the description: it fills every parameter that has an example into "Try it
     * out" (so If-Match and If-None-Match together made the first request a 400), percent-encodes path
     * parameters itself (so an encoded example was encoded twice), offers a file picker for
     * application/octet-stream bodies and a download link for octet-stream responses.
     */
    @Test
    void theDescriptionWorksInSwaggerUi() {
        JsonNode kv = document().path("paths").path("/v1/kv/{key}");
        for (String method : List.of("get", "put", "delete")) {
            for (JsonNode p : kv.path(method).path("parameters")) {
                String name = p.path("name").asText();
                if (name.equals("If-Match") || name.equals("If-None-Match")) {
                    assertTrue(p.path("example").isMissingNode() && p.path("examples").isMissingNode()
                                    && resolve(p.path("schema")).path("example").isMissingNode()
                                    && resolve(p.path("schema")).path("examples").isMissingNode(),
                            method + " " + name + " has an example Swagger UI would fill in: " + p);
                }
                if (name.equals("key")) {
                    assertEquals("path", p.path("in").asText());
                    String example = p.path("example").asText();
                    assertFalse(example.isEmpty() || example.contains("%"),
                            method + " key example must be the key itself, not its encoding: " + example);
                }
            }
        }
        JsonNode body = kv.path("put").path("requestBody").path("content");
        assertEquals(List.of("text/plain", "application/octet-stream"), fieldNames(body),
                "a typed text body first, raw bytes (a file) second");
        assertEquals("string", resolve(body.path("text/plain").path("schema")).path("type").asText());
        assertEquals("text/plain", fieldNames(kv.path("get").path("responses").path("200").path("content")).get(0),
                "the value is shown as text unless octet-stream is chosen");
    }

    private record Op(String method, String path, JsonNode node) {
        @Override
        public String toString() {
            return method.toUpperCase() + " " + path;
        }
    }

    private static List<Op> operations(JsonNode doc) {
        List<Op> ops = new ArrayList<>();
        Iterator<Map.Entry<String, JsonNode>> paths = doc.path("paths").fields();
        while (paths.hasNext()) {
            Map.Entry<String, JsonNode> path = paths.next();
            if (path.getKey().startsWith("/q/")) {
                continue;
            }
            for (String method : METHODS) {
                if (path.getValue().has(method)) {
                    ops.add(new Op(method, path.getKey(), path.getValue().get(method)));
                }
            }
        }
        assertFalse(ops.isEmpty(), "no operations");
        return ops;
    }

    /** A schema, following one local $ref into components. */
    private JsonNode resolve(JsonNode schema) {
        String ref = schema.path("$ref").asText("");
        if (ref.startsWith("#/components/schemas/")) {
            return document().path("components").path("schemas").path(ref.substring("#/components/schemas/".length()));
        }
        return schema;
    }

    private static List<JsonNode> examples(JsonNode mediaType) {
        List<JsonNode> out = new ArrayList<>();
        if (mediaType.has("example")) {
            out.add(mediaType.get("example"));
        }
        mediaType.path("examples").forEach(e -> out.add(e.path("value")));
        return out;
    }

    private static List<String> texts(JsonNode array) {
        List<String> out = new ArrayList<>();
        array.forEach(n -> out.add(n.asText()));
        return out;
    }

    private static List<String> fieldNames(JsonNode node) {
        List<String> out = new ArrayList<>();
        node.fieldNames().forEachRemaining(out::add);
        return out;
    }
}
