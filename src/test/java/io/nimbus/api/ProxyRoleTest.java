package io.nimbus.api;

import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.QuarkusTestProfile;
import io.quarkus.test.junit.TestProfile;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

import static io.restassured.RestAssured.given;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.equalTo;
import static org.junit.jupiter.api.Assertions.assertFalse;

/** A proxy takes part in gossip, opens no data files, and with no worker on the ring refuses KV requests with a 503. */
@QuarkusTest
@TestProfile(ProxyRoleTest.Proxy.class)
class ProxyRoleTest {
    static final String DIR = "target/test-data/proxy-must-not-exist";

    public static class Proxy implements QuarkusTestProfile {
        @Override
        public Map<String, String> getConfigOverrides() {
            return Map.of("nimbus.role", "proxy", "nimbus.data-dir", DIR);
        }
    }

    @Test
    void aProxyWithoutATopologyIsNotReadyHasNoStorageAndAnswers503ForKeys() {
        given().get("/q/health/ready").then().statusCode(503)
                .body("checks.find { it.name == 'cluster-joined' }.data.reason", containsString("holds no cluster topology"));
        given().get("/v1/cluster").then().statusCode(200).body("members[0].role", equalTo("proxy"));
        given().body("x".getBytes()).put("/v1/kv/k").then().statusCode(503).header("Retry-After", "1")
                .contentType("application/problem+json")
                .body("type", equalTo("urn:nimbus:problem:node-not-ready"))
                .body("detail", containsString("this node holds no cluster topology yet"));
        given().get("/v1/kv/k").then().statusCode(503).body("type", equalTo("urn:nimbus:problem:node-not-ready"));
        given().get("/v1/cluster/topology").then().statusCode(503);
        assertFalse(Files.exists(Path.of(DIR)), "a proxy opens no data files");
    }
}
