package io.nimbus.cluster.replica;

import io.nimbus.cluster.membership.ClusterService;
import io.nimbus.cluster.membership.GossipCodec;
import io.nimbus.cluster.topology.TopologyService;
import io.nimbus.cluster.transport.ClusterTransport;
import io.nimbus.core.gossip.Endpoint;
import io.nimbus.core.gossip.GossipMessage;
import io.nimbus.core.gossip.NodeInfo;
import io.nimbus.core.gossip.NodeRole;
import io.nimbus.core.gossip.NodeState;
import io.nimbus.core.gossip.NodeStatus;
import io.nimbus.core.kv.Ballot;
import io.nimbus.core.kv.Proposal;
import io.nimbus.core.paxos.BallotHorizon;
import io.nimbus.core.paxos.PaxosMessage;
import io.quarkus.test.junit.QuarkusTest;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import jakarta.inject.Inject;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;

import static io.restassured.RestAssured.given;
import static org.hamcrest.Matchers.equalTo;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * What a peer sends on the cluster port with a ballot or a generation far ahead of this node's clock never
 * takes effect: the connection is closed, the key stays writable, the member list unchanged.
 */
@QuarkusTest
class ForgedBallotOverTheWireTest {
    @Inject
    ClusterService cluster;

    @Inject
    TopologyService topology;

    @Inject
    Vertx vertx;

    private ClusterTransport.Message send(ClusterTransport peer, ClusterTransport.Message m) throws Exception {
        return peer.request(cluster.selfEndpoint(), m, 5000).toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
    }

    private ClusterTransport.Message paxos(PaxosMessage.Request r) {
        return new ClusterTransport.Message(PaxosCodec.type(r), PaxosCodec.encode(new PaxosCodec.Addressed(
                topology.view().epoch(), topology.view().selfHost(), r)));
    }

    private static long nowMicros() {
        return TimeUnit.MILLISECONDS.toMicros(System.currentTimeMillis());
    }

    @Test
    void aForgedCommitAtTheLargestBallotIsRefusedAndTheKeyStaysWritable() throws Exception {
        String key = "forged-" + java.util.UUID.randomUUID();
        given().body("before").put("/v1/kv/{k}", key).then().statusCode(204);
        ClusterTransport peer = new ClusterTransport(vertx, null, 1 << 20, 16,
                r -> Future.failedFuture(new IllegalStateException("client only")));
        try {
            Proposal forged = new Proposal(new Ballot(Long.MAX_VALUE, "forger"), "forged".getBytes());
            assertThrows(ExecutionException.class, () -> send(peer, paxos(new PaxosMessage.Commit(key, forged))),
                    "no answer: the connection is closed");
            Proposal twoHours = new Proposal(new Ballot(nowMicros() + TimeUnit.HOURS.toMicros(2), "skewed"), "ahead".getBytes());
            assertThrows(ExecutionException.class, () -> send(peer, paxos(new PaxosMessage.Prepare(key, twoHours.ballot()))));
            // the store never saw either: the key is read and written as before
            given().get("/v1/kv/{k}", key).then().statusCode(200).body(equalTo("before"));
            given().body("after").put("/v1/kv/{k}", key).then().statusCode(204);
            given().get("/v1/kv/{k}", key).then().statusCode(200).body(equalTo("after"));
            // a ballot a few seconds ahead (clock skew) is served as ever
            Ballot skewed = new Ballot(nowMicros() + 5_000_000, "skewed");
            ClusterTransport.Message reply = send(peer, paxos(new PaxosMessage.Prepare(key, skewed)));
            PaxosCodec.Answer a = PaxosCodec.decodeReply(reply.type(), reply.body(), BallotHorizon.ofMillis(3_600_000), nowMicros());
            assertInstanceOf(PaxosMessage.Promised.class, a.reply());
        } finally {
            peer.close();
        }
    }

    @Test
    void forgedGossipUnderAGenerationFarAheadIsRefusedAndChangesNoMember() throws Exception {
        ClusterTransport peer = new ClusterTransport(vertx, null, 1 << 20, 16,
                r -> Future.failedFuture(new IllegalStateException("client only")));
        try {
            long elevenDays = TimeUnit.DAYS.toMillis(11);
            NodeState forged = new NodeState(cluster.selfId(), System.currentTimeMillis() + elevenDays, 1, 1,
                    new NodeInfo(cluster.selfEndpoint(), 1, NodeRole.WORKER, NodeStatus.LEFT, List.of()));
            NodeState stranger = new NodeState("stranger", System.currentTimeMillis() + elevenDays, 1, 1,
                    new NodeInfo(new Endpoint("127.0.0.1", 1), 1, NodeRole.WORKER, NodeStatus.LEFT, List.of()));
            GossipMessage m = new GossipMessage.Ack2("forger", List.of(forged, stranger));
            assertThrows(ExecutionException.class, () -> send(peer, new ClusterTransport.Message(GossipCodec.type(m), GossipCodec.encode(m))));
            assertTrue(cluster.members().stream().noneMatch(x -> x.id().equals("stranger")), cluster.members().toString());
            assertTrue(selfStatus() != NodeStatus.LEFT, "this node's own state is untouched: " + selfStatus());
        } finally {
            peer.close();
        }
    }

    private NodeStatus selfStatus() {
        return cluster.members().stream().filter(x -> x.self()).findFirst().orElseThrow().info().status();
    }
}
