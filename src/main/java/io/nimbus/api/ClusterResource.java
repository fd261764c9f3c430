package io.nimbus.api;

import io.nimbus.cluster.membership.ClusterService;
import io.nimbus.cluster.topology.TopologyService;
import io.nimbus.core.gossip.Member;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.POST;
import jakarta.ws.rs.PathParam;
import jakarta.ws.rs.core.Response;
import org.eclipse.microprofile.openapi.annotations.media.Schema;
import java.util.concurrent.CompletionStage;
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
    private final io.nimbus.config.NimbusConfig config;

    public ClusterResource(ClusterService cluster, TopologyService topology, io.nimbus.config.NimbusConfig config) {
        this.cluster = cluster;
        this.topology = topology;
        this.config = config;
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
    @Operation(operationId = "clusterMembers", summary = "Cluster membership", description = "Every member this node knows: id, cluster address, "
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

    // ---- topology operations (admin) ---------------------------------------------------------------

    @POST
    @Path("decommission")
    @Produces(MediaType.APPLICATION_JSON)
    @Operation(operationId = "decommissionWorker", summary = "Decommission this worker",
            description = "Starts handing this worker's ranges to the next workers clockwise: it becomes LEAVING, "
                    + "streams its rows to the new replicas, then leaves the topology for good (to join again, its data "
                    + "directory must be wiped). Answers 202 with the topology at the operation's start; follow it in "
                    + "GET /v1/cluster/topology. One topology operation at a time, cluster-wide.")
    @APIResponse(responseCode = "202", description = "Started: the topology as of the operation's start (operation set)",
            content = @Content(mediaType = MediaType.APPLICATION_JSON,
                    schema = @Schema(implementation = TopologyResource.TopologyView.class),
                    examples = @ExampleObject(name = "n3 leaving", value = TopologyResource.LEAVING_EXAMPLE)))
    @APIResponse(responseCode = "409", description = "Refused (another operation is in progress, last worker, ...)",
            content = @Content(mediaType = Problem.MEDIA_TYPE, schema = @Schema(implementation = Problem.class)))
    @APIResponse(responseCode = "503", description = "The topology register could not be changed (too few workers of its "
            + "electorate answered); nothing was started unless GET /v1/cluster/topology shows the operation",
            content = @Content(mediaType = Problem.MEDIA_TYPE, schema = @Schema(implementation = Problem.class)))
    public CompletionStage<Response> decommission() {
        return accepted(topology.decommission());
    }

    @POST
    @Path("nodes/{name}/remove")
    @Produces(MediaType.APPLICATION_JSON)
    @Operation(operationId = "removeWorker", summary = "Remove a dead worker",
            description = "Starts removing a worker that is down for good, driven by this worker: its ranges go to the "
                    + "next workers clockwise, streamed from the remaining replicas. Refused while the worker is "
                    + "reachable (decommission a live worker instead). Answers 202; follow it in GET /v1/cluster/topology.")
    @APIResponse(responseCode = "202", description = "Started: the topology as of the operation's start (operation set)",
            content = @Content(mediaType = MediaType.APPLICATION_JSON,
                    schema = @Schema(implementation = TopologyResource.TopologyView.class),
                    examples = @ExampleObject(name = "n3 being removed", value = TopologyResource.REMOVING_EXAMPLE)))
    @APIResponse(responseCode = "409", description = "Refused", content = @Content(mediaType = Problem.MEDIA_TYPE,
            schema = @Schema(implementation = Problem.class)))
    @APIResponse(responseCode = "503", description = "The topology register could not be changed (too few workers of its "
            + "electorate answered); nothing was started unless GET /v1/cluster/topology shows the operation",
            content = @Content(mediaType = Problem.MEDIA_TYPE, schema = @Schema(implementation = Problem.class)))
    public CompletionStage<Response> remove(@PathParam("name") String name) {
        return accepted(topology.remove(name));
    }

    @POST
    @Path("operation/abort")
    @Produces(MediaType.APPLICATION_JSON)
    @Operation(operationId = "abortTopologyOperation", summary = "Abort the topology operation in progress",
            description = "Its ranges go back to their old replicas at a new epoch. An aborted joiner must wipe its data "
                    + "directory before it joins again; an aborted decommission or removal leaves the worker a member.")
    @APIResponse(responseCode = "202", description = "Aborted: the topology at the new epoch, no operation",
            content = @Content(mediaType = MediaType.APPLICATION_JSON,
                    schema = @Schema(implementation = TopologyResource.TopologyView.class),
                    examples = @ExampleObject(name = "join of n4 aborted", value = TopologyResource.ABORTED_EXAMPLE)))
    @APIResponse(responseCode = "409", description = "No operation is in progress", content = @Content(
            mediaType = Problem.MEDIA_TYPE, schema = @Schema(implementation = Problem.class)))
    @APIResponse(responseCode = "503", description = "The topology register could not be changed (too few workers of its "
            + "electorate answered); nothing was started unless GET /v1/cluster/topology shows the operation",
            content = @Content(mediaType = Problem.MEDIA_TYPE, schema = @Schema(implementation = Problem.class)))
    public CompletionStage<Response> abort() {
        return accepted(topology.abort());
    }

    private CompletionStage<Response> accepted(java.util.concurrent.CompletableFuture<io.nimbus.core.topology.Topology> change) {
        return change.handle((t, e) -> {
            if (e != null) {
                Throwable c = e instanceof java.util.concurrent.CompletionException && e.getCause() != null ? e.getCause() : e;
                if (c instanceof io.nimbus.core.topology.TopologyChangeRefused r) {
                    throw new ProblemException.ChangeRefused(r.getMessage());
                }
                throw new ProblemException.ChangeFailed("the topology "
                        + "register could not be changed: " + c.getMessage() + ". Retry; nothing was started unless "
                        + "GET /v1/cluster/topology shows the operation");
            }
            return Response.status(202).entity(TopologyResource.view(t, config.replicationFactor())).build();
        });
    }
}
