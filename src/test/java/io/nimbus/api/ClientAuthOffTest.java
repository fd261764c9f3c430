package io.nimbus.api;

import io.quarkus.test.junit.QuarkusTest;
import org.junit.jupiter.api.Test;

import java.util.UUID;

import static io.restassured.RestAssured.given;
import static org.hamcrest.Matchers.equalTo;

/** By default (the single-node dev run) client authentication is off: no token needed, and one sent is ignored. */
@QuarkusTest
class ClientAuthOffTest {

    @Test
    void withoutSettingsEveryoneMayReadAndWrite() {
        String k = "off-" + UUID.randomUUID();
        given().body("v").put("/v1/kv/{k}", k).then().statusCode(204);
        given().get("/v1/kv/{k}", k).then().statusCode(200).body(equalTo("v"));
        given().get("/v1/cluster/topology").then().statusCode(200);
    }

    @Test
    void aTokenSentToANodeWithoutAuthenticationIsIgnored() {
        String k = "off-" + UUID.randomUUID();
        given().auth().oauth2("whatever-the-tool-was-given").body("v").put("/v1/kv/{k}", k).then().statusCode(204);
        given().header("Authorization", "Basic Zm9vOmJhcg==").get("/v1/kv/{k}", k).then().statusCode(200);
    }
}
