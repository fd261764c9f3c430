package io.nimbus.api;

import io.nimbus.cluster.membership.ClusterService;
import io.nimbus.cluster.topology.TopologyService;
import io.nimbus.core.gossip.Member;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.core.MediaType;
import org.eclipse.microprofile.openapi.annotations.Operation;
import org.eclipse.microprofile.openapi.annotations.media.Content;
import org.eclipse.microprofile.openapi.annotations.media.ExampleObject;
import org.eclipse.microprofile.openapi.annotations.responses.APIResponse;
import org.eclipse.microprofile.openapi.annotations.tags.Tag;

import java.util.List;
import java.util.Locale;

/** This node's view of the cluster (DESIGN §1). */
@Path("/v1/cluster")
@Tag(name = "Cluster", description = "Membership as this node sees it")
public class ClusterResource {
    private final ClusterService cluster;
    private final TopologyService topology;

    public ClusterResource(ClusterService cluster, TopologyService topology) {
        this.cluster = cluster;
        this.topology = topology;
    }

    /** One member as the API shows it. */
    public record MemberView(String id, String address, int httpPort, String role, String status, boolean reachable,
                             long generation, long heartbeatVersion, int tokenCount, boolean self) {
        static MemberView of(Member m) {
            return new MemberView(m.id(), m.info().endpoint().toString(), m.info().httpPort(),
                    m.info().role().name().toLowerCase(Locale.ROOT), m.info().status().name(), m.reachable(),
                    m.generation(), m.heartbeat(), m.info().tokens().size(), m.self());
        }
    }

    public record ClusterView(String self, boolean joined, int reachable, List<MemberView> members) {
    }

    @GET
    @Produces(MediaType.APPLICATION_JSON)
    @Operation(summary = "Cluster membership", description = "Every member this node knows: id, cluster address, "
            + "role, status, whether this node can reach it, its generation (changes at each restart), heartbeat "
            + "version and token count.")
    @APIResponse(responseCode = "200", description = "This node's view", content = @Content(
            mediaType = MediaType.APPLICATION_JSON, examples = @ExampleObject(name = "two nodes", value = """
            {"self":"n1","joined":true,"reachable":2,"members":[
             {"id":"n1","address":"127.0.0.1:9080","httpPort":8080,"role":"worker","status":"NORMAL","reachable":true,
              "generation":1763712000000,"heartbeatVersion":42,"tokenCount":0,"self":true},
             {"id":"n2","address":"127.0.0.1:9081","httpPort":8081,"role":"worker","status":"NORMAL","reachable":true,
              "generation":1763712003000,"heartbeatVersion":40,"tokenCount":0,"self":false}]}""")))
    public ClusterView view() {
        // gossip's members as of its last round: the same snapshot the request path places keys with
        List<MemberView> members = topology.view().members().stream().map(MemberView::of).toList();
        int reachable = (int) members.stream().filter(MemberView::reachable).count();
        return new ClusterView(cluster.selfId(), cluster.joined(), reachable, members);
    }
}
