package io.nimbus.api;

import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.QuarkusTestProfile;
import io.quarkus.test.junit.TestProfile;
import io.restassured.response.ValidatableResponse;
import org.junit.jupiter.api.Test;

import java.util.Map;
import java.util.UUID;

import static io.restassured.RestAssured.given;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.not;

/** Client authentication turned on: who may do what, and what a refused client is told (README "Security"). */
@QuarkusTest
@TestProfile(ClientAuthTest.AuthOn.class)
public class ClientAuthTest {
    public static final String READER = "read-token-for-tests";
    public static final String WRITER = "write-token-for-tests";
    public static final String ADMIN = "admin-token-for-tests";
    private static final String PROBLEM = "application/problem+json";
    private static final String ADMIN_PROBE = "/v1/cluster/test-only/admin-probe";

    public static class AuthOn implements QuarkusTestProfile {
        @Override
        public Map<String, String> getConfigOverrides() {
            return Map.of("nimbus.data-dir", "target/test-data/client-auth-" + System.nanoTime(),
                    "nimbus.api.auth.enabled", "true",
                    "nimbus.api.auth.tokens-file", "src/test/resources/auth/tokens",
                    "test-only.admin-probe", "true");
        }
    }

    private static String key() {
        return "auth-" + UUID.randomUUID();
    }

    private static ValidatableResponse problem(ValidatableResponse r, int status, String type) {
        return r.statusCode(status).contentType(PROBLEM).body("status", equalTo(status))
                .body("type", equalTo("urn:nimbus:problem:" + type)).body("title", not(equalTo(null)));
    }

    @Test
    void noTokenIs401WithABearerChallengeAndAProblemSayingWhatToSend() {
        problem(given().get("/v1/kv/{k}", key()).then(), 401, "unauthorized")
                .header("WWW-Authenticate", equalTo("Bearer realm=\"nimbus\""))
                .body("detail", containsString("Authorization: Bearer <token>"))
                .body("detail", containsString("'read'"));
        problem(given().body("v").put("/v1/kv/{k}", key()).then(), 401, "unauthorized")
                .body("detail", containsString("'write'"));
        problem(given().get("/v1/cluster").then(), 401, "unauthorized");
        problem(given().get("/get?key=x").then(), 401, "unauthorized");
    }

    @Test
    void anUnknownTokenIs401InvalidTokenAndIsNeverEchoed() {
        problem(given().auth().oauth2("not-a-token-we-issued").get("/v1/kv/{k}", key()).then(), 401, "unauthorized")
                .header("WWW-Authenticate", equalTo("Bearer realm=\"nimbus\", error=\"invalid_token\""))
                .body("detail", containsString("does not know the bearer token"))
                .body("detail", not(containsString("not-a-token-we-issued")));
        // a token of the right length and prefix is just as unknown
        problem(given().auth().oauth2(READER + "x").get("/v1/kv/{k}", key()).then(), 401, "unauthorized");
    }

    @Test
    void aMalformedAuthorizationHeaderIs401InvalidRequest() {
        problem(given().header("Authorization", "Basic " + READER).get("/v1/kv/{k}", key()).then(), 401, "unauthorized")
                .header("WWW-Authenticate", equalTo("Bearer realm=\"nimbus\", error=\"invalid_request\""))
                .body("detail", containsString("not a bearer token"));
        problem(given().header("Authorization", "Bearer").get("/v1/kv/{k}", key()).then(), 401, "unauthorized");
        problem(given().header("Authorization", "Bearer a b").get("/v1/kv/{k}", key()).then(), 401, "unauthorized");
    }

    @Test
    void aReadTokenReadsButMayNotWrite() {
        String k = key();
        given().auth().oauth2(WRITER).body("v").put("/v1/kv/{k}", k).then().statusCode(204);
        given().auth().oauth2(READER).get("/v1/kv/{k}", k).then().statusCode(200).body(equalTo("v"));
        given().auth().oauth2(READER).get("/get?key={k}", k).then().statusCode(200).body(equalTo("v"));
        given().auth().oauth2(READER).get("/v1/cluster").then().statusCode(200);
        given().auth().oauth2(READER).get("/v1/cluster/ring").then().statusCode(200);
        given().auth().oauth2(READER).get("/v1/cluster/topology").then().statusCode(200);
        given().auth().oauth2(READER).get("/v1/cluster/locate/{k}", k).then().statusCode(200);

        problem(given().auth().oauth2(READER).body("w").put("/v1/kv/{k}", k).then(), 403, "forbidden")
                .body("detail", containsString("needs role 'write'"));
        problem(given().auth().oauth2(READER).delete("/v1/kv/{k}", k).then(), 403, "forbidden");
        // /set is a GET that writes
        problem(given().auth().oauth2(READER).get("/set?key={k}&value=w", k).then(), 403, "forbidden");
        given().auth().oauth2(READER).get("/v1/kv/{k}", k).then().statusCode(200).body(equalTo("v"));
    }

    @Test
    void aWriteTokenWritesDeletesAndReads() {
        String k = key();
        given().auth().oauth2(WRITER).body("v").put("/v1/kv/{k}", k).then().statusCode(204);
        given().auth().oauth2(WRITER).get("/set?key={k}&value=w", k).then().statusCode(200);
        given().auth().oauth2(WRITER).get("/v1/kv/{k}", k).then().statusCode(200).body(equalTo("w"));
        given().auth().oauth2(WRITER).delete("/v1/kv/{k}", k).then().statusCode(204);
    }

    @Test
    void anEndpointNoRuleListsIsAdminOnly() {
        problem(given().post(ADMIN_PROBE).then(), 401, "unauthorized").body("detail", containsString("'admin'"));
        problem(given().auth().oauth2(READER).post(ADMIN_PROBE).then(), 403, "forbidden")
                .body("detail", containsString("needs role 'admin'"));
        problem(given().auth().oauth2(WRITER).post(ADMIN_PROBE).then(), 403, "forbidden");
        given().auth().oauth2(ADMIN).post(ADMIN_PROBE).then().statusCode(202);
    }

    @Test
    void anAdminTokenMayDoEverything() {
        String k = key();
        given().auth().oauth2(ADMIN).body("v").put("/v1/kv/{k}", k).then().statusCode(204);
        given().auth().oauth2(ADMIN).get("/v1/kv/{k}", k).then().statusCode(200);
        given().auth().oauth2(ADMIN).get("/v1/cluster/topology").then().statusCode(200);
    }

    @Test
    void probesMetricsAndTheApiDescriptionStayOpen() {
        given().get("/q/health/live").then().statusCode(200);
        given().get("/q/health/ready").then().statusCode(200);
        given().get("/q/health/started").then().statusCode(200);
        given().get("/q/metrics").then().statusCode(200);
        given().get("/q/openapi").then().statusCode(200);
        given().get("/q/swagger-ui/").then().statusCode(200);
        // even with a bad token: they do not look at it
        given().auth().oauth2("garbage").get("/q/health/ready").then().statusCode(200);
    }

    @Test
    void otherProblemsStillComeAfterAuthentication() {
        problem(given().auth().oauth2(READER).get("/v1/kv/{k}", key()).then(), 404, "key-not-found");
    }

    @Test
    void anHttp10RequestWithoutHostIsRefusedWithA401ProblemNotA500() throws Exception {
        try (java.net.Socket socket = new java.net.Socket("127.0.0.1", io.restassured.RestAssured.port)) {
            socket.setSoTimeout(5000);
            socket.getOutputStream().write("GET /v1/kv/some-key HTTP/1.0\r\n\r\n".getBytes(java.nio.charset.StandardCharsets.US_ASCII));
            String response = new String(socket.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.ISO_8859_1);
            org.junit.jupiter.api.Assertions.assertTrue(response.startsWith("HTTP/1.0 401"), response);
            org.junit.jupiter.api.Assertions.assertTrue(response.contains("application/problem+json")
                    && response.contains("Authorization: Bearer"), response);
        }
    }
}
