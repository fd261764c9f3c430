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
import org.eclipse.microprofile.openapi.annotations.enums.SchemaType;
import org.eclipse.microprofile.openapi.annotations.headers.Header;
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

    /**
     * The topology operation in progress: what it does to which worker, who drives it, and the workers that
     * receive streamed ranges (pending replicas) until it finishes.
     */
    public record OperationView(String kind, String node, String driver, List<String> receivers) {
    }

    /** {@code operation} is null: no topology operation is in progress. */
    public record TopologyView(long epoch, String clusterId, int replicationFactor, int configuredReplicationFactor,
                               int effectiveReplicationFactor, List<WorkerView> workers, ElectorateView electorate,
                               OperationView operation, List<String> departedHostIds) {
    }

    /** Examples of the topology view while an operation runs and after one was aborted (OpenAPI). */
    static final String LEAVING_EXAMPLE = """
            {"epoch":9,"clusterId":"5b0c6f7e-2f1d-4bb4-9d3e-6a0e1c2d3f40","replicationFactor":3,
             "configuredReplicationFactor":3,"effectiveReplicationFactor":3,"workers":[{"name":"n3",
             "hostId":"2b1c2d1e-0d7a-4a51-8f0e-2b9f3c4d5e6f","address":"127.0.0.1:9083","httpPort":8083,
             "status":"LEAVING","tokenCount":16,"tokens":["-4611686018427387904"]}],
             "electorate":{"current":["n1","n2","n3"],"next":[],"changedAt":7},
             "operation":{"kind":"LEAVE","node":"n3","driver":"n3","receivers":["n4"]},"departedHostIds":[]}""";
    static final String REMOVING_EXAMPLE = """
            {"epoch":9,"clusterId":"5b0c6f7e-2f1d-4bb4-9d3e-6a0e1c2d3f40","replicationFactor":3,
             "configuredReplicationFactor":3,"effectiveReplicationFactor":3,"workers":[{"name":"n3",
             "hostId":"2b1c2d1e-0d7a-4a51-8f0e-2b9f3c4d5e6f","address":"127.0.0.1:9083","httpPort":8083,
             "status":"LEAVING","tokenCount":16,"tokens":["-4611686018427387904"]}],
             "electorate":{"current":["n1","n2","n3"],"next":[],"changedAt":7},
             "operation":{"kind":"REMOVE","node":"n3","driver":"n1","receivers":["n4"]},"departedHostIds":[]}""";
    static final String ABORTED_EXAMPLE = """
            {"epoch":9,"clusterId":"5b0c6f7e-2f1d-4bb4-9d3e-6a0e1c2d3f40","replicationFactor":3,
             "configuredReplicationFactor":3,"effectiveReplicationFactor":3,"workers":[{"name":"n1",
             "hostId":"0f6c2d1e-0d7a-4a51-8f0e-2b9f3c4d5e6f","address":"127.0.0.1:9081","httpPort":8081,
             "status":"NORMAL","tokenCount":16,"tokens":["-9223372036854775808"]}],
             "electorate":{"current":["n1","n2","n3"],"next":[],"changedAt":7},"operation":null,
             "departedHostIds":["7a1c2d1e-0d7a-4a51-8f0e-2b9f3c4d5e6f"]}""";

    @GET
    @Produces(MediaType.APPLICATION_JSON)
    @Operation(operationId = "topology", summary = "The cluster topology", description = "The committed topology this node holds: its epoch, the "
            + "cluster id, the replication factor fixed when the cluster was founded (and this node's own setting, "
            + "which the cluster's overrides), every worker with its host id, address and ring tokens, and the "
            + "electorate of the topology register.")
    @APIResponse(responseCode = "200", description = "The topology", content = @Content(
            mediaType = MediaType.APPLICATION_JSON, examples = {@ExampleObject(name = "three workers", value = """
            {"epoch":7,"clusterId":"5b0c6f7e-2f1d-4bb4-9d3e-6a0e1c2d3f40","replicationFactor":3,
             "configuredReplicationFactor":3,"effectiveReplicationFactor":3,"workers":[{"name":"n1",
             "hostId":"0f6c2d1e-0d7a-4a51-8f0e-2b9f3c4d5e6f","address":"127.0.0.1:9081","httpPort":8081,
             "status":"NORMAL","tokenCount":16,"tokens":["-9223372036854775808"]}],
             "electorate":{"current":["n1","n2","n3"],"next":[],"changedAt":7},"operation":null,"departedHostIds":[]}"""),
            @ExampleObject(name = "a fourth worker joining", value = """
            {"epoch":8,"clusterId":"5b0c6f7e-2f1d-4bb4-9d3e-6a0e1c2d3f40","replicationFactor":3,
             "configuredReplicationFactor":3,"effectiveReplicationFactor":3,"workers":[{"name":"n4",
             "hostId":"7a1c2d1e-0d7a-4a51-8f0e-2b9f3c4d5e6f","address":"127.0.0.1:9084","httpPort":8084,
             "status":"JOINING","tokenCount":16,"tokens":["-4611686018427387904"]}],
             "electorate":{"current":["n1","n2","n3"],"next":[],"changedAt":7},
             "operation":{"kind":"JOIN","node":"n4","driver":"n4","receivers":["n4"]},"departedHostIds":[]}""")}))
    @APIResponse(responseCode = "503", description = "This node holds no topology yet",
            headers = @Header(name = "Retry-After", description = KvResource.RETRY_DOC,
                    schema = @Schema(type = SchemaType.INTEGER)),
            content = @Content(
            mediaType = Problem.MEDIA_TYPE, schema = @Schema(implementation = Problem.class)))
    public TopologyView get() {
        Topology t = topology.current();
        if (t == null) {
            throw new RequestFailedException(new Result.NotReady(topology.view().notReadyWhy()));
        }
        return view(t, config.replicationFactor());
    }

    static TopologyView view(Topology t, int configuredRf) {
        List<WorkerView> workers = new ArrayList<>();
        java.util.Map<String, Worker> all = new java.util.TreeMap<>();
        for (Worker w : t.workers()) {
            all.put(w.name(), w);
        }
        for (Worker w : t.targetWorkers()) {
            all.putIfAbsent(w.name(), w); // a joiner
        }
        for (Worker w : all.values()) {
            workers.add(new WorkerView(w.name(), w.host().toString(), w.endpoint().toString(), w.httpPort(),
                    t.status(w.name()), w.tokens().size(), w.tokens().stream().map(String::valueOf).toList()));
        }
        OperationView op = t.operation().map(o -> new OperationView(o.kind().name(), o.node(), o.driver(),
                io.nimbus.core.topology.StreamPlan.of(t).receivers())).orElse(null);
        return new TopologyView(t.epoch(), t.clusterId().toString(), t.rf(), configuredRf, t.effectiveRf(),
                workers, new ElectorateView(names(t.electorate().current()), names(t.electorate().next()),
                t.electorateChangedAt()), op, t.departed().stream().map(Object::toString).toList());
    }

    private static List<String> names(List<Replica> rs) {
        return rs.stream().map(Replica::name).toList();
    }
}
