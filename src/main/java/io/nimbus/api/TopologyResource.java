package io.nimbus.api;

import io.nimbus.cluster.topology.TopologyService;
import io.nimbus.config.NimbusConfig;
import io.nimbus.core.topology.Replica;
import io.nimbus.core.topology.Topology;
import io.nimbus.core.topology.Worker;
import io.nimbus.core.coordinator.Result;
import io.nimbus.node.RequestFailedException;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.core.MediaType;
import org.eclipse.microprofile.openapi.annotations.Operation;
import org.eclipse.microprofile.openapi.annotations.media.Content;
import org.eclipse.microprofile.openapi.annotations.media.ExampleObject;
import org.eclipse.microprofile.openapi.annotations.media.Schema;
import org.eclipse.microprofile.openapi.annotations.responses.APIResponse;
import org.eclipse.microprofile.openapi.annotations.tags.Tag;

import java.util.ArrayList;
import java.util.List;

/** The committed topology this node holds (DESIGN §1, TOPOLOGY.md). */
@Path("/v1/cluster/topology")
@Tag(name = "Cluster")
public class TopologyResource {
    private final TopologyService topology;
    private final NimbusConfig config;

    public TopologyResource(TopologyService topology, NimbusConfig config) {
        this.topology = topology;
        this.config = config;
    }

    public record WorkerView(String name, String hostId, String address, int httpPort, String status, int tokenCount,
                             List<String> tokens) {
    }

    public record ElectorateView(List<String> current, List<String> next, long changedAt) {
    }

    /** {@code operation} is null: no topology operation is in progress (joins are one step until step 6). */
    public record TopologyView(long epoch, String clusterId, int replicationFactor, int configuredReplicationFactor,
                               int effectiveReplicationFactor, List<WorkerView> workers, ElectorateView electorate,
                               Object operation) {
    }

    @GET
    @Produces(MediaType.APPLICATION_JSON)
    @Operation(summary = "The cluster topology", description = "The committed topology this node holds: its epoch, the "
            + "cluster id, the replication factor fixed when the cluster was founded (and this node's own setting, "
            + "which the cluster's overrides), every worker with its host id, address and ring tokens, and the "
            + "electorate of the topology register.")
    @APIResponse(responseCode = "200", description = "The topology", content = @Content(
            mediaType = MediaType.APPLICATION_JSON, examples = @ExampleObject(name = "three workers", value = """
            {"epoch":7,"clusterId":"5b0c6f7e-2f1d-4bb4-9d3e-6a0e1c2d3f40","replicationFactor":3,
             "configuredReplicationFactor":3,"effectiveReplicationFactor":3,"workers":[{"name":"n1",
             "hostId":"0f6c2d1e-0d7a-4a51-8f0e-2b9f3c4d5e6f","address":"127.0.0.1:9081","httpPort":8081,
             "status":"NORMAL","tokenCount":16,"tokens":["-9223372036854775808"]}],
             "electorate":{"current":["n1","n2","n3"],"next":[],"changedAt":7},"operation":null}""")))
    @APIResponse(responseCode = "503", description = "This node holds no topology yet", content = @Content(
            mediaType = Problem.MEDIA_TYPE, schema = @Schema(implementation = Problem.class)))
    public TopologyView get() {
        Topology t = topology.current();
        if (t == null) {
            throw new RequestFailedException(new Result.NotReady(topology.view().notReadyWhy()));
        }
        List<WorkerView> workers = new ArrayList<>();
        for (Worker w : t.workers()) {
            workers.add(new WorkerView(w.name(), w.host().toString(), w.endpoint().toString(), w.httpPort(), "NORMAL",
                    w.tokens().size(), w.tokens().stream().map(String::valueOf).toList()));
        }
        return new TopologyView(t.epoch(), t.clusterId().toString(), t.rf(), config.replicationFactor(), t.effectiveRf(),
                workers, new ElectorateView(names(t.electorate().current()), names(t.electorate().next()),
                t.electorateChangedAt()), null);
    }

    private static List<String> names(List<Replica> rs) {
        return rs.stream().map(Replica::name).toList();
    }
}
