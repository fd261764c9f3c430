package io.nimbus.api;

import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.QuarkusTestProfile;
import io.quarkus.test.junit.TestProfile;
import io.restassured.response.ExtractableResponse;
import io.restassured.response.Response;
import io.nimbus.node.Storage;
import jakarta.inject.Inject;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static io.restassured.RestAssured.given;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.equalTo;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The fault statuses: a write that is not durable in time is a 504 whose outcome is unknown (and
 * which may still apply); a full write queue is a 503 with Retry-After (and the write does not apply).
 */
@QuarkusTest
@TestProfile(OverloadAndTimeoutTest.SlowDisk.class)
class OverloadAndTimeoutTest {

    public static class SlowDisk implements QuarkusTestProfile {
        @Override
        public Map<String, String> getConfigOverrides() {
            return Map.of("nimbus.limits.write-timeout-ms", "300", "nimbus.limits.write-queue-max", "3",
                    "nimbus.data-dir", "target/test-data/slow-disk");
        }

        @Override
        public Set<Class<?>> getEnabledAlternatives() {
            return Set.of(HeldCommitGate.class);
        }
    }

    @Inject
    HeldCommitGate gate;

    @Inject
    Storage storage;

    @AfterEach
    void openGate() {
        gate.open();
    }

    @Test
    void aWriteNotDurableInTimeIs504OutcomeUnknownAndMayStillApply() throws Exception {
        gate.close();
        given().body("late").put("/v1/kv/slow-key").then().statusCode(504).contentType("application/problem+json")
                .body("status", equalTo(504)).body("detail", containsString("outcome is unknown"));
        assertTrue(gate.awaitWriterHeld(5000));
        gate.open();
        // the truth of "unknown": the write was queued and applies once the disk catches up
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
        int status;
        do {
            status = given().get("/v1/kv/slow-key").statusCode();
        } while (status != 200 && System.nanoTime() < deadline);
        given().get("/v1/kv/slow-key").then().statusCode(200).body(equalTo("late"));
    }

    @Test
    void aFullWriteQueueIs503WithRetryAfterAndTheWriteDoesNotApply() throws Exception {
        gate.close();
        List<CompletableFuture<ExtractableResponse<Response>>> held = new ArrayList<>();
        held.add(CompletableFuture.supplyAsync(() -> given().body("w0").put("/v1/kv/queued-0").then().extract()));
        assertTrue(gate.awaitWriterHeld(5000), "writer reached the gate");
        for (int i = 1; i <= 3; i++) {
            String k = "queued-" + i;
            held.add(CompletableFuture.supplyAsync(() -> given().body("w").put("/v1/kv/" + k).then().extract()));
        }
        // wait until the three fill the queue (the writer holds the first batch at the gate)
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
        while (storage.store().queued() < 3 && System.nanoTime() < deadline) {
            Thread.sleep(5);
        }
        assertEquals(3, storage.store().queued(), "queue full");
        given().body("x").put("/v1/kv/overflow").then().statusCode(503).header("Retry-After", "1")
                .contentType("application/problem+json").body("detail", containsString("not applied"));
        gate.open();
        for (CompletableFuture<ExtractableResponse<Response>> f : held) {
            int s = f.get(10, TimeUnit.SECONDS).statusCode();
            assertTrue(s == 204 || s == 504, "held writes finish (204) or timed out unknown (504), got " + s);
        }
        given().get("/v1/kv/overflow").then().statusCode(404);
        given().get("/v1/kv/queued-0").then().statusCode(200).body(equalTo("w0"));
    }
}
