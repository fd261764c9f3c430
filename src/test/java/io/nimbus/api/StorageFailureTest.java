package io.nimbus.api;

import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.QuarkusTestProfile;
import io.quarkus.test.junit.TestProfile;
import jakarta.inject.Inject;
import org.junit.jupiter.api.Test;

import java.util.Map;
import java.util.Set;

import static io.restassured.RestAssured.given;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.not;

/** A storage fault fails the write as "outcome unknown", then the node refuses requests and reports itself not live. */
@QuarkusTest
@TestProfile(StorageFailureTest.BrokenDisk.class)
class StorageFailureTest {

    public static class BrokenDisk implements QuarkusTestProfile {
        @Override
        public Map<String, String> getConfigOverrides() {
            return Map.of("nimbus.data-dir", "target/test-data/broken-disk-" + System.nanoTime());
        }

        @Override
        public Set<Class<?>> getEnabledAlternatives() {
            return Set.of(FailingCommitGate.class);
        }
    }

    @Inject
    FailingCommitGate gate;

    @Test
    void aFailedCommitIs503OutcomeUnknownAndTheNodeGoesDown() {
        given().body("before".getBytes()).put("/v1/kv/k").then().statusCode(204);
        given().get("/q/health/live").then().statusCode(200);
        gate.arm();
        given().body("during".getBytes()).put("/v1/kv/k").then().statusCode(503)
                .contentType("application/problem+json").header("Retry-After", "10")
                .body("type", equalTo("urn:nimbus:problem:storage-failed"))
                .body("detail", containsString("unknown")).body(not(containsString("Exception")));
        given().get("/v1/kv/k").then().statusCode(503).contentType("application/problem+json");
        given().body("after".getBytes()).put("/v1/kv/k2").then().statusCode(503);
        given().get("/q/health/live").then().statusCode(503);
        given().get("/q/health/ready").then().statusCode(503);
    }
}
