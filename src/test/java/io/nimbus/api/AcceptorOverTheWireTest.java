package io.nimbus.api;

import io.nimbus.cluster.ClusterService;
import io.nimbus.cluster.ClusterTransport;
import io.nimbus.cluster.PaxosCodec;
import io.nimbus.core.gossip.Endpoint;
import io.nimbus.core.kv.Ballot;
import io.nimbus.core.kv.Proposal;
import io.nimbus.core.paxos.PaxosMessage;
import io.quarkus.test.junit.QuarkusTest;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import jakarta.inject.Inject;
import org.junit.jupiter.api.Test;

import java.util.concurrent.TimeUnit;

import static io.restassured.RestAssured.given;
import static org.hamcrest.Matchers.equalTo;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;

/** A peer drives this worker's acceptor through prepare → accept → commit on the cluster port; the API then serves the value. */
@QuarkusTest
class AcceptorOverTheWireTest {
    @Inject
    ClusterService cluster;

    @Inject
    Vertx vertx;

    private PaxosMessage ask(ClusterTransport peer, Endpoint node, PaxosMessage.Request r) throws Exception {
        ClusterTransport.Message reply = peer.request(node, new ClusterTransport.Message(PaxosCodec.type(r), PaxosCodec.encode(r)),
                5000).toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
        return PaxosCodec.decode(reply.type(), reply.body());
    }

    @Test
    void prepareAcceptCommitFromAPeerIsServedByTheApi() throws Exception {
        Endpoint node = cluster.members().get(0).info().endpoint();
        String key = "wire-" + java.util.UUID.randomUUID();
        ClusterTransport peer = new ClusterTransport(vertx, null, 1 << 20, 16,
                r -> Future.failedFuture(new IllegalStateException("client only")));
        try {
            Ballot b = new Ballot(TimeUnit.MILLISECONDS.toMicros(System.currentTimeMillis()) + 1_000_000, "peer");
            assertEquals(new PaxosMessage.Promised(b, null, null), ask(peer, node, new PaxosMessage.Prepare(key, b)));
            Ballot lower = new Ballot(b.counter() - 1, "peer");
            assertEquals(new PaxosMessage.Rejected(b), ask(peer, node, new PaxosMessage.Prepare(key, lower)));
            Proposal p = new Proposal(b, "over the wire".getBytes());
            assertEquals(new PaxosMessage.Accepted(b), ask(peer, node, new PaxosMessage.Propose(key, p)));
            // this node is the key's only replica: a quorum of one accepted it, so it is chosen and reads see it
            given().get("/v1/kv/{k}", key).then().statusCode(200).body(equalTo("over the wire"));
            assertEquals(null, ((PaxosMessage.State) ask(peer, node, new PaxosMessage.ReadCommitted(key))).state().committed(),
                    "but the replica has not been told it is committed");
            assertInstanceOf(PaxosMessage.Committed.class, ask(peer, node, new PaxosMessage.Commit(key, p)));
            given().get("/v1/kv/{k}", key).then().statusCode(200).body(equalTo("over the wire"))
                    .header("ETag", "\"" + b.token() + "\"");
            PaxosMessage.State st = (PaxosMessage.State) ask(peer, node, new PaxosMessage.ReadCommitted(key));
            assertEquals(p, st.state().committed());
        } finally {
            peer.close();
        }
    }
}
