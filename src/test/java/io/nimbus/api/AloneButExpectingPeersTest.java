package io.nimbus.api;

import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.QuarkusTestProfile;
import io.quarkus.test.junit.TestProfile;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.net.ServerSocket;
import java.util.Map;

import static io.restassured.RestAssured.given;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.hasItem;

/** A node whose seeds do not answer is alive but not ready, and says so. */
@QuarkusTest
@TestProfile(AloneButExpectingPeersTest.DeadSeed.class)
class AloneButExpectingPeersTest {

    public static class DeadSeed implements QuarkusTestProfile {
        @Override
        public Map<String, String> getConfigOverrides() {
            return Map.of("nimbus.cluster.seeds", "127.0.0.1:" + freePort(), "nimbus.gossip.interval", "100ms",
                    "nimbus.data-dir", "target/test-data/dead-seed");
        }
    }

    static int freePort() {
        try (ServerSocket s = new ServerSocket(0)) {
            return s.getLocalPort();
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    @Test
    void readinessIsDownWhileNoSeedAnswers() {
        given().get("/q/health/live").then().statusCode(200);
        given().get("/q/health/ready").then().statusCode(503)
                .body("checks.find { it.name == 'cluster-joined' }.status", equalTo("DOWN"));
        given().get("/v1/cluster").then().statusCode(200).body("joined", equalTo(false))
                .body("members.status", hasItem("JOINING"));
    }
}
