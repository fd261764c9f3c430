package io.nimbus.api;

import io.quarkus.test.junit.QuarkusTest;
import org.junit.jupiter.api.Test;

import static io.restassured.RestAssured.given;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.everyItem;
import static org.hamcrest.Matchers.greaterThan;
import static org.hamcrest.Matchers.hasItem;
import static org.hamcrest.Matchers.hasSize;
import static org.hamcrest.Matchers.matchesPattern;

/** A worker with no seeds is a cluster of one, joined and ready at once. */
@QuarkusTest
class ClusterResourceTest {

    @Test
    void aLoneWorkerListsItselfAsTheOnlyMember() {
        given().get("/v1/cluster").then().statusCode(200).contentType("application/json")
                .body("self", equalTo("test-node")).body("joined", equalTo(true)).body("reachable", equalTo(1))
                .body("members", hasSize(1))
                .body("members[0].id", equalTo("test-node"))
                .body("members[0].self", equalTo(true))
                .body("members[0].role", equalTo("worker"))
                .body("members[0].status", equalTo("NORMAL"))
                .body("members[0].reachable", equalTo(true))
                .body("members[0].address", matchesPattern("127\\.0\\.0\\.1:\\d+"))
                .body("members[0].generation", greaterThan(0L))
                .body("members[0].heartbeatVersion", greaterThan(0))
                .body("members[0].tokenCount", equalTo(16));
        given().get("/q/health/ready").then().statusCode(200).body("checks.name", hasItem("cluster-joined"));
    }

    @Test
    void theRingHasThisWorkersTokensAndLocatesKeysOnIt() {
        given().get("/v1/cluster/ring").then().statusCode(200)
                .body("replicationFactor", equalTo(1))
                .body("workers", hasSize(1)).body("workers[0].id", equalTo("test-node"))
                .body("workers[0].tokens", equalTo(16)).body("workers[0].share", equalTo(1.0f))
                .body("ranges", hasSize(16)).body("ranges.owner", everyItem(equalTo("test-node")));
        long token = io.nimbus.core.ring.Murmur3.hash64("café".getBytes(java.nio.charset.StandardCharsets.UTF_8));
        given().urlEncodingEnabled(false).get("/v1/cluster/locate/caf%C3%A9").then().statusCode(200)
                .body("key", equalTo("café")).body("token", equalTo(Long.toString(token)))
                .body("replicas", equalTo(java.util.List.of("test-node"))).body("replicationFactor", equalTo(1));
        given().urlEncodingEnabled(false).get("/v1/cluster/locate/%FF").then().statusCode(400)
                .contentType("application/problem+json");
    }

    @Test
    void topologyOperationsThatCannotApplyAre409ProblemsThatSayWhy() {
        given().post("/v1/cluster/decommission").then().statusCode(409).contentType("application/problem+json")
                .body("type", org.hamcrest.Matchers.endsWith("topology-change-refused"))
                .body("detail", org.hamcrest.Matchers.containsString("last worker"));
        given().post("/v1/cluster/operation/abort").then().statusCode(409).contentType("application/problem+json")
                .body("detail", org.hamcrest.Matchers.containsString("no operation is in progress"));
        given().post("/v1/cluster/nodes/test-node/remove").then().statusCode(409)
                .body("detail", org.hamcrest.Matchers.containsString("cannot remove itself"));
        given().post("/v1/cluster/nodes/nobody/remove").then().statusCode(409)
                .body("detail", org.hamcrest.Matchers.containsString("not a worker"));
        given().get("/v1/cluster/topology").then().statusCode(200).body("operation", org.hamcrest.Matchers.nullValue())
                .body("workers[0].status", equalTo("NORMAL")).body("departedHostIds", hasSize(0));
        given().get("/v1/cluster/ring").then().statusCode(200).body("ranges.pending", everyItem(hasSize(0)))
                .body("ranges.replicas", everyItem(equalTo(java.util.List.of("test-node"))));
    }
}
