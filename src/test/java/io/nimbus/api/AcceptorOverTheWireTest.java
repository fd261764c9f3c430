package io.nimbus.api;

import io.nimbus.cluster.membership.ClusterService;
import io.nimbus.cluster.transport.ClusterTransport;
import io.nimbus.cluster.replica.PaxosCodec;
import io.nimbus.cluster.topology.TopologyService;
import io.nimbus.core.topology.HostId;
import io.nimbus.core.gossip.Endpoint;
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

    @Inject
    TopologyService topology;

    private PaxosMessage ask(ClusterTransport peer, Endpoint node, PaxosMessage.Request r) throws Exception {
        return ask(peer, node, r, topology.view().epoch(), topology.view().selfHost());
    }

    private PaxosMessage ask(ClusterTransport peer, Endpoint node, PaxosMessage.Request r, long epoch, HostId to)
            throws Exception {
        ClusterTransport.Message reply = peer.request(node, new ClusterTransport.Message(PaxosCodec.type(r),
                PaxosCodec.encode(new PaxosCodec.Addressed(epoch, to, r))), 5000).toCompletionStage().toCompletableFuture()
                .get(10, TimeUnit.SECONDS);
        PaxosCodec.Answer a = PaxosCodec.decodeReply(reply.type(), reply.body(), BallotHorizon.ofMillis(3_600_000),
                TimeUnit.MILLISECONDS.toMicros(System.currentTimeMillis()));
        assertEquals(topology.view().selfHost(), a.from(), "a reply names the replier's host id");
        assertEquals(topology.view().epoch(), a.epoch(), "and its topology epoch");
        return a.reply();
    }

    @Test
    void theFenceRefusesAnotherHostAndAStaleEpochAndChangesNothing() throws Exception {
        Endpoint node = cluster.members().get(0).info().endpoint();
        String key = "fence-" + java.util.UUID.randomUUID();
        ClusterTransport peer = new ClusterTransport(vertx, null, 1 << 20, 16,
                r -> Future.failedFuture(new IllegalStateException("client only")));
        try {
            long epoch = topology.view().epoch();
            Ballot b = new Ballot(TimeUnit.MILLISECONDS.toMicros(System.currentTimeMillis()) + 2_000_000, "peer");
            HostId other = new HostId(java.util.UUID.randomUUID());
            assertEquals(new PaxosMessage.Fenced(epoch, true), ask(peer, node, new PaxosMessage.Prepare(key, b), epoch, other));
            assertEquals(new PaxosMessage.Fenced(epoch, false),
                    ask(peer, node, new PaxosMessage.Prepare(key, b), 0, topology.view().selfHost()),
                    "epoch 0 is older than any range's last change (epoch 1 at the latest)");
            // neither left a promise: the same ballot is still promised afresh
            assertEquals(new PaxosMessage.Promised(b, null, null), ask(peer, node, new PaxosMessage.Prepare(key, b)));
        } finally {
            peer.close();
        }
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

    private PaxosCodec.Answer bundle(ClusterTransport peer, Endpoint node, List<PaxosMessage.Commit> commits,
                                     PaxosMessage.Request main) throws Exception {
        long epoch = topology.view().epoch();
        HostId me = topology.view().selfHost();
        List<byte[]> encoded = commits.stream().map(c -> PaxosCodec.encode(new PaxosCodec.Addressed(epoch, me, c))).toList();
        byte[] body = PaxosCodec.encodeBundle(encoded, main == null ? 0 : PaxosCodec.type(main),
                main == null ? null : PaxosCodec.encode(new PaxosCodec.Addressed(epoch, me, main)));
        ClusterTransport.Message reply = peer.request(node, new ClusterTransport.Message(PaxosCodec.BUNDLE, body), 5000)
                .toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
        return PaxosCodec.decodeReply(reply.type(), reply.body(), BallotHorizon.ofMillis(3_600_000),
                TimeUnit.MILLISECONDS.toMicros(System.currentTimeMillis()));
    }

    @Test
    void commitsBundledAheadOfARequestAreAppliedBeforeItAndTheRequestIsAnswered() throws Exception {
        Endpoint node = cluster.members().get(0).info().endpoint();
        String id = java.util.UUID.randomUUID().toString();
        ClusterTransport peer = new ClusterTransport(vertx, null, 1 << 20, 16,
                r -> Future.failedFuture(new IllegalStateException("client only")));
        try {
            Ballot b = new Ballot(TimeUnit.MILLISECONDS.toMicros(System.currentTimeMillis()) + 1_000_000, "peer");
            Proposal p1 = new Proposal(b, "one".getBytes());
            Proposal p2 = new Proposal(b, "two".getBytes());
            // two commits, then a prepare of the first key: the prepare's promise reports the commit ahead of it
            PaxosCodec.Answer a = bundle(peer, node, List.of(new PaxosMessage.Commit("b1-" + id, p1),
                    new PaxosMessage.Commit("b2-" + id, p2)), new PaxosMessage.Prepare("b1-" + id, new Ballot(b.counter() + 1, "peer")));
            assertEquals(new PaxosMessage.Promised(new Ballot(b.counter() + 1, "peer"), null, p1), a.reply());
            assertEquals(topology.view().selfHost(), a.from());
            given().get("/v1/kv/{k}?consistency=ONE", "b2-" + id).then().statusCode(200).body(equalTo("two"));
            // commits alone: answered once they are durable, with the last one's reply
            Proposal p3 = new Proposal(b, "three".getBytes());
            PaxosCodec.Answer alone = bundle(peer, node, List.of(new PaxosMessage.Commit("b3-" + id, p3)), null);
            assertInstanceOf(PaxosMessage.Committed.class, alone.reply());
            PaxosMessage.State st = (PaxosMessage.State) ask(peer, node, new PaxosMessage.ReadCommitted("b3-" + id));
            assertEquals(p3, st.state().committed());
        } finally {
            peer.close();
        }
    }
}
