package io.nimbus.cluster.coordinator;

import io.nimbus.cluster.replica.PaxosCodec;
import io.nimbus.cluster.replica.ReplicaService;
import io.nimbus.cluster.topology.TopologyService;
import io.nimbus.core.kv.Ballot;
import io.nimbus.core.kv.Proposal;
import io.nimbus.core.paxos.PaxosMessage;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.QuarkusTestProfile;
import io.quarkus.test.junit.TestProfile;
import jakarta.inject.Inject;
import org.junit.jupiter.api.Test;

import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;

import static io.restassured.RestAssured.given;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.equalTo;

/**
 * A store that already holds a ballot at the largest counter (written before ballots were checked on
 * receipt; here planted straight into the replica, past the codec) cannot issue a higher one: writes are
 * refused with 503 and nothing written — never a lower ballot, never a failed store — and reads go on.
 */
@QuarkusTest
@TestProfile(ExhaustedBallotClockTest.OwnStore.class)
class ExhaustedBallotClockTest {
    /** A store of its own: this test poisons it for good. */
    public static class OwnStore implements QuarkusTestProfile {
        @Override
        public Map<String, String> getConfigOverrides() {
            return Map.of("nimbus.data-dir", "target/test-data/exhausted-" + UUID.randomUUID());
        }
    }

    @Inject
    ReplicaService replica;

    @Inject
    TopologyService topology;

    @Test
    void writesAreRefusedWith503AndReadsStillServed() throws Exception {
        given().body("kept").put("/v1/kv/{k}", "readable").then().statusCode(204);
        Proposal forged = new Proposal(new Ballot(Long.MAX_VALUE, "forger"), "forged".getBytes());
        replica.handle(new PaxosCodec.Addressed(topology.view().epoch(), topology.view().selfHost(),
                new PaxosMessage.Commit("poisoned", forged))).get(10, TimeUnit.SECONDS);
        for (String key : new String[]{"poisoned", "other"}) {
            given().body("v").put("/v1/kv/{k}", key).then().statusCode(503)
                    .body(containsString("ballot counter exhausted"));
        }
        given().get("/v1/kv/{k}", "readable").then().statusCode(200).body(equalTo("kept"));
        given().get("/v1/kv/{k}", "poisoned").then().statusCode(200).body(equalTo("forged"));
        given().get("/q/health/ready").then().statusCode(200);
    }
}
