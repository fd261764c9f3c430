package io.nimbus.api;

import io.quarkus.test.junit.QuarkusTest;
import io.restassured.response.Response;
import org.junit.jupiter.api.Test;

import java.util.UUID;

import static io.restassured.RestAssured.given;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.matchesPattern;
import static org.hamcrest.Matchers.not;
import static org.hamcrest.Matchers.notNullValue;
import static org.hamcrest.Matchers.nullValue;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;

/** Every v1 endpoint and every error status it can give on a lone worker (DESIGN §1). */
@QuarkusTest
class KvResourceTest {
    private static final String PROBLEM = "application/problem+json";

    static String key() {
        return "k-" + UUID.randomUUID();
    }

    static String put(String key, String value) {
        return given().body(value.getBytes(java.nio.charset.StandardCharsets.UTF_8)).contentType("application/octet-stream")
                .when().put("/v1/kv/{key}", key)
                .then().statusCode(204).header("ETag", matchesPattern("\"[0-9a-f]+-test-node\""))
                .extract().header("ETag");
    }

    @Test
    void putThenGetReturnsTheBytesAndTheSameEtag() {
        String k = key();
        String etag = put(k, "hello");
        given().when().get("/v1/kv/{key}", k).then().statusCode(200)
                .contentType("application/octet-stream").header("ETag", etag).body(equalTo("hello"));
    }

    @Test
    void binaryValuesAndEmptyValuesRoundTrip() {
        String k = key();
        byte[] bytes = new byte[256];
        for (int i = 0; i < bytes.length; i++) {
            bytes[i] = (byte) i;
        }
        given().body(bytes).contentType("application/octet-stream").put("/v1/kv/{key}", k).then().statusCode(204);
        assertArrayEquals(bytes, given().get("/v1/kv/{key}", k).then().statusCode(200).extract().asByteArray());

        String empty = key();
        given().body(new byte[0]).contentType("application/octet-stream").put("/v1/kv/{key}", empty).then().statusCode(204);
        assertEquals(0, given().get("/v1/kv/{key}", empty).then().statusCode(200).extract().asByteArray().length);
    }

    @Test
    void everyWriteGetsANewIncreasingEtag() {
        String k = key();
        String e1 = put(k, "a");
        String e2 = put(k, "b");
        assertNotEquals(e1, e2);
        long c1 = Long.parseLong(e1.substring(1, e1.indexOf('-')), 16);
        long c2 = Long.parseLong(e2.substring(1, e2.indexOf('-')), 16);
        assertEquals(true, c2 > c1, "versions increase: " + e1 + " then " + e2);
        given().get("/v1/kv/{key}", k).then().header("ETag", e2).body(equalTo("b"));
    }

    @Test
    void percentEncodedUtf8KeysAreDecodedStrictly() {
        given().urlEncodingEnabled(false).body(new byte[]{'v'}).put("/v1/kv/caf%C3%A9%20au%2Flait").then().statusCode(204);
        given().urlEncodingEnabled(false).get("/v1/kv/caf%C3%A9%20au%2Flait").then().statusCode(200).body(equalTo("v"));
        given().urlEncodingEnabled(false).get("/get?key=caf%C3%A9+au%2Flait").then().statusCode(200).body(equalTo("v"));
        // '%2F' is part of the key, not a path separator
        given().urlEncodingEnabled(false).get("/v1/kv/caf%C3%A9%20au").then().statusCode(404);
    }

    @Test
    void compareAndSetAppliesOnlyAgainstTheCurrentVersion() {
        String k = key();
        String e1 = put(k, "one");
        String e2 = given().header("If-Match", e1).body("two".getBytes()).put("/v1/kv/{key}", k)
                .then().statusCode(204).extract().header("ETag");
        // a second CAS from the same stale read loses, is told the current version, and changes nothing
        given().header("If-Match", e1).body("three".getBytes()).put("/v1/kv/{key}", k)
                .then().statusCode(412).contentType(PROBLEM).header("ETag", e2)
                .body("status", equalTo(412)).body("type", equalTo("urn:nimbus:problem:precondition-failed"))
                .body("detail", containsString(e2)).body("instance", equalTo("/v1/kv/" + k));
        given().get("/v1/kv/{key}", k).then().body(equalTo("two")).header("ETag", e2);
        // a list of tags matches if any does; If-Match: * matches any live value
        given().header("If-Match", "\"1-other\", " + e2).body("four".getBytes()).put("/v1/kv/{key}", k).then().statusCode(204);
        given().header("If-Match", "*").body("five".getBytes()).put("/v1/kv/{key}", k).then().statusCode(204);
        given().get("/v1/kv/{key}", k).then().body(equalTo("five"));
    }

    @Test
    void weakOrForeignEtagsNeverMatchAWrite() {
        String k = key();
        String e1 = put(k, "one");
        given().header("If-Match", "W/" + e1).body(new byte[]{'x'}).put("/v1/kv/{key}", k).then().statusCode(412);
        given().header("If-Match", "\"not-ours\"").body(new byte[]{'x'}).put("/v1/kv/{key}", k).then().statusCode(412);
        given().get("/v1/kv/{key}", k).then().body(equalTo("one"));
    }

    @Test
    void ifMatchOnAMissingKeyFailsAndSaysHowToCreate() {
        String k = key();
        given().header("If-Match", "\"1-test-node\"").body(new byte[]{'x'}).put("/v1/kv/{key}", k)
                .then().statusCode(412).contentType(PROBLEM).header("ETag", nullValue())
                .body("detail", containsString("does not exist"));
        given().header("If-Match", "*").body(new byte[]{'x'}).put("/v1/kv/{key}", k).then().statusCode(412);
        given().get("/v1/kv/{key}", k).then().statusCode(404);
    }

    @Test
    void ifNoneMatchStarOnlyCreates() {
        String k = key();
        String e1 = given().header("If-None-Match", "*").body("first".getBytes()).put("/v1/kv/{key}", k)
                .then().statusCode(204).extract().header("ETag");
        given().header("If-None-Match", "*").body("second".getBytes()).put("/v1/kv/{key}", k)
                .then().statusCode(412).contentType(PROBLEM).header("ETag", e1).body("detail", containsString("already exists"));
        given().get("/v1/kv/{key}", k).then().body(equalTo("first"));
        // after a delete the key can be created again
        given().delete("/v1/kv/{key}", k).then().statusCode(204);
        given().header("If-None-Match", "*").body("again".getBytes()).put("/v1/kv/{key}", k).then().statusCode(204);
    }

    @Test
    void deleteWritesATombstoneWithItsOwnVersion() {
        String k = key();
        String e1 = put(k, "v");
        String tomb = given().delete("/v1/kv/{key}", k).then().statusCode(204).header("ETag", notNullValue())
                .extract().header("ETag");
        assertNotEquals(e1, tomb);
        given().get("/v1/kv/{key}", k).then().statusCode(404).contentType(PROBLEM)
                .body("type", equalTo("urn:nimbus:problem:key-not-found"));
        given().delete("/v1/kv/{key}", k).then().statusCode(404).contentType(PROBLEM);
        // a write after a delete gets a version above the tombstone's
        String e2 = put(k, "back");
        assertEquals(true, Long.parseLong(e2.substring(1, e2.indexOf('-')), 16)
                > Long.parseLong(tomb.substring(1, tomb.indexOf('-')), 16));
    }

    @Test
    void conditionalDeleteChecksTheVersion() {
        String k = key();
        String e1 = put(k, "v1");
        put(k, "v2");
        given().header("If-Match", e1).delete("/v1/kv/{key}", k).then().statusCode(412).contentType(PROBLEM);
        given().get("/v1/kv/{key}", k).then().statusCode(200).body(equalTo("v2"));
        String e3 = put(k, "v3");
        given().header("If-Match", e3).delete("/v1/kv/{key}", k).then().statusCode(204);
        given().get("/v1/kv/{key}", k).then().statusCode(404);
    }

    @Test
    void conditionalGetAnswers304WhenTheVersionMatches() {
        String k = key();
        String e1 = put(k, "v");
        given().header("If-None-Match", e1).get("/v1/kv/{key}", k).then().statusCode(304).header("ETag", e1);
        given().header("If-None-Match", "\"1-other\"").get("/v1/kv/{key}", k).then().statusCode(200);
        put(k, "w");
        given().header("If-None-Match", e1).get("/v1/kv/{key}", k).then().statusCode(200).body(equalTo("w"));
    }

    @Test
    void readsOfMissingKeysAre404Problems() {
        Response r = given().get("/v1/kv/{key}", key());
        r.then().statusCode(404).contentType(PROBLEM).body("status", equalTo(404))
                .body("title", equalTo("No such key")).body("detail", containsString("does not exist"));
    }

    @Test
    void consistencyLevelIsParsedAndValidated() {
        String k = key();
        for (String level : new String[]{"ONE", "QUORUM", "ALL", "quorum"}) {
            given().queryParam("consistency", level).body(level).put("/v1/kv/{key}", k).then().statusCode(204);
            given().queryParam("consistency", level).get("/v1/kv/{key}", k).then().statusCode(200).body(equalTo(level));
        }
        given().queryParam("consistency", "TWO").body(new byte[]{'x'}).put("/v1/kv/{key}", k)
                .then().statusCode(400).contentType(PROBLEM).body("detail", containsString("ONE, QUORUM or ALL"));
        // an empty parameter means the default level
        given().queryParam("consistency", "").get("/v1/kv/{key}", k).then().statusCode(200);
        given().queryParam("consistency", "ANY").delete("/v1/kv/{key}", k).then().statusCode(400);
        given().get("/v1/kv/{key}", k).then().statusCode(200).body(equalTo("quorum"));
    }

    @Test
    void badKeysAre400Problems() {
        given().urlEncodingEnabled(false).get("/v1/kv/%FF").then().statusCode(400).contentType(PROBLEM)
                .body("detail", containsString("UTF-8"));
        given().urlEncodingEnabled(false).get("/v1/kv/%C3%28").then().statusCode(400).contentType(PROBLEM);
        given().urlEncodingEnabled(false).get("/get?key=%FF").then().statusCode(400).contentType(PROBLEM);
        String tooLong = "k".repeat(1025);
        given().body(new byte[]{'x'}).put("/v1/kv/" + tooLong).then().statusCode(400).contentType(PROBLEM)
                .body("detail", containsString("1025 bytes"));
        given().body(new byte[]{'x'}).put("/v1/kv/" + "k".repeat(1024)).then().statusCode(204);
    }

    @Test
    void badConditionHeadersAre400Problems() {
        String k = key();
        put(k, "v");
        given().header("If-Match", "no-quotes").body(new byte[]{'x'}).put("/v1/kv/{key}", k)
                .then().statusCode(400).contentType(PROBLEM).body("detail", containsString("quoted ETags"));
        given().header("If-None-Match", "\"abc\"").body(new byte[]{'x'}).put("/v1/kv/{key}", k)
                .then().statusCode(400).contentType(PROBLEM).body("detail", containsString("must be *"));
        given().header("If-Match", "*").header("If-None-Match", "*").body(new byte[]{'x'}).put("/v1/kv/{key}", k)
                .then().statusCode(400).body("detail", containsString("not both"));
        given().header("If-None-Match", "bad").get("/v1/kv/{key}", k).then().statusCode(400).contentType(PROBLEM);
        given().header("If-Match", "\"a\" \"b\"").delete("/v1/kv/{key}", k).then().statusCode(400);
        given().get("/v1/kv/{key}", k).then().statusCode(200).body(equalTo("v"));
    }

    @Test
    void anEmptyIfMatchIsA400AndWritesNothing() {
        String k = key();
        String e1 = put(k, "v1");
        given().header("If-Match", "").body("lost update".getBytes()).put("/v1/kv/{key}", k)
                .then().statusCode(400).contentType(PROBLEM).body("detail", containsString("If-Match is empty"));
        given().header("If-Match", "").delete("/v1/kv/{key}", k)
                .then().statusCode(400).contentType(PROBLEM).body("detail", containsString("If-Match is empty"));
        given().header("If-None-Match", "").body("x".getBytes()).put("/v1/kv/{key}", k)
                .then().statusCode(400).contentType(PROBLEM).body("detail", containsString("If-None-Match is empty"));
        given().get("/v1/kv/{key}", k).then().statusCode(200).header("ETag", e1).body(equalTo("v1"));
    }

    @Test
    void deleteHonoursIfNoneMatchStar() {
        String k = key();
        String e1 = put(k, "v1");
        given().header("If-None-Match", "*").delete("/v1/kv/{key}", k)
                .then().statusCode(412).contentType(PROBLEM).header("ETag", e1)
                .body("detail", containsString("already exists"));
        given().get("/v1/kv/{key}", k).then().statusCode(200).body(equalTo("v1"));
        // the precondition holds on an absent key, and deleting an absent key is a 404 that writes nothing
        given().header("If-None-Match", "*").delete("/v1/kv/{key}", key()).then().statusCode(404).contentType(PROBLEM);
        // an ETag list is refused rather than guessed at
        given().header("If-None-Match", e1).delete("/v1/kv/{key}", k)
                .then().statusCode(400).contentType(PROBLEM).body("detail", containsString("must be *"));
        given().header("If-Match", e1).header("If-None-Match", "*").delete("/v1/kv/{key}", k)
                .then().statusCode(400).body("detail", containsString("not both"));
        given().get("/v1/kv/{key}", k).then().statusCode(200).body(equalTo("v1"));
    }

    @Test
    void valuesOverTheLimitAre413Problems() {
        String k = key();
        byte[] limit = new byte[1024 * 1024];
        given().body(limit).contentType("application/octet-stream").put("/v1/kv/{key}", k).then().statusCode(204);
        assertEquals(limit.length, given().get("/v1/kv/{key}", k).then().statusCode(200).extract().asByteArray().length);
        given().body(new byte[1024 * 1024 + 1]).contentType("application/octet-stream").put("/v1/kv/{key}", k)
                .then().statusCode(413).contentType(PROBLEM).body("status", equalTo(413))
                .body("detail", containsString("1048577 bytes")).body("detail", containsString("max-value-bytes"));
        assertEquals(limit.length, given().get("/v1/kv/{key}", k).then().statusCode(200).extract().asByteArray().length);
    }

    @Test
    void unknownPathsAndMethodsAreProblemsWithoutClassNames() {
        given().get("/v1/nothing").then().statusCode(404).contentType(PROBLEM)
                .body(not(containsString("Exception"))).body(not(containsString("io.nimbus")));
        given().post("/v1/kv/{key}", key()).then().statusCode(405).contentType(PROBLEM)
                .body(not(containsString("Exception")));
    }

    @Test
    void compatibilityEndpointsShareTheStore() {
        String k = key();
        given().queryParam("key", k).queryParam("value", "hi there").get("/set")
                .then().statusCode(200).contentType(containsString("text/plain")).body(equalTo("OK"))
                .header("ETag", notNullValue());
        given().queryParam("key", k).get("/get").then().statusCode(200).body(equalTo("hi there"));
        given().get("/v1/kv/{key}", k).then().statusCode(200).body(equalTo("hi there"));
        put(k, "from v1");
        given().queryParam("key", k).get("/get").then().statusCode(200).body(equalTo("from v1"));
        given().queryParam("key", key()).get("/get").then().statusCode(404).contentType(PROBLEM);
        given().get("/get").then().statusCode(400).contentType(PROBLEM).body("detail", containsString("'key'"));
        given().queryParam("key", k).get("/set").then().statusCode(400).contentType(PROBLEM)
                .body("detail", containsString("'value'"));
        given().queryParam("key", k).queryParam("value", "x").queryParam("consistency", "SOME").get("/set")
                .then().statusCode(400);
    }

    /** What Swagger UI sends: a typed text/plain body, the key encoded once, then Accept: text/plain. */
    @Test
    void aTextBodyIsStoredAsItsBytesAndReadBackAsTextWhenTheClientPrefersText() {
        String id = UUID.randomUUID().toString();
        byte[] text = "h\u00e9llo".getBytes(java.nio.charset.StandardCharsets.UTF_8);
        String etag = given().urlEncodingEnabled(false).contentType("text/plain; charset=UTF-8").body(text)
                .put("/v1/kv/user%3A" + id).then().statusCode(204).extract().header("ETag");
        // the same key, ':' unencoded (it is allowed in a path segment)
        Response asText = given().urlEncodingEnabled(false).accept("text/plain").get("/v1/kv/user:" + id);
        asText.then().statusCode(200).contentType("text/plain;charset=UTF-8").header("ETag", etag);
        assertArrayEquals(text, asText.asByteArray());
        // clients that state no preference, or prefer bytes, get bytes as before
        given().urlEncodingEnabled(false).accept("*/*").get("/v1/kv/user%3A" + id)
                .then().statusCode(200).contentType("application/octet-stream");
        given().urlEncodingEnabled(false).accept("application/octet-stream, text/plain;q=0.5").get("/v1/kv/user%3A" + id)
                .then().statusCode(200).contentType("application/octet-stream");
        given().urlEncodingEnabled(false).accept("application/json").get("/v1/kv/user%3A" + id)
                .then().statusCode(406).contentType(PROBLEM);
    }

    @Test
    void bytesThatAreNotUtf8AreNeverLabelledText() {
        String k = key();
        byte[] latin1 = {'c', 'a', 'f', (byte) 0xe9};
        given().body(latin1).contentType("application/octet-stream").put("/v1/kv/{key}", k).then().statusCode(204);
        Response r = given().accept("text/plain").get("/v1/kv/{key}", k);
        r.then().statusCode(200).contentType("application/octet-stream");
        assertArrayEquals(latin1, r.asByteArray());
    }
}
