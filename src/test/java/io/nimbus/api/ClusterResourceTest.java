package io.nimbus.api;

import io.quarkus.test.junit.QuarkusTest;
import org.junit.jupiter.api.Test;

import static io.restassured.RestAssured.given;
import static org.hamcrest.Matchers.equalTo;
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
                .body("members[0].tokenCount", equalTo(0));
        given().get("/q/health/ready").then().statusCode(200).body("checks.name", hasItem("cluster-joined"));
    }
}
