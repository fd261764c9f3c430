package io.nimbus.api;

import io.nimbus.cluster.topology.TopologyService;
import io.nimbus.config.NimbusConfig;
import io.nimbus.core.ring.Murmur3;
import io.nimbus.core.ring.TokenRing;
import io.nimbus.core.topology.Placement;
import io.nimbus.core.topology.Topology;
import io.nimbus.core.coordinator.Result;
import io.nimbus.node.RequestFailedException;
import jakarta.ws.rs.Encoded;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.PathParam;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.core.MediaType;
import org.eclipse.microprofile.openapi.annotations.Operation;
import org.eclipse.microprofile.openapi.annotations.enums.SchemaType;
import org.eclipse.microprofile.openapi.annotations.headers.Header;
import org.eclipse.microprofile.openapi.annotations.media.Content;
import org.eclipse.microprofile.openapi.annotations.media.ExampleObject;
import org.eclipse.microprofile.openapi.annotations.media.Schema;
import org.eclipse.microprofile.openapi.annotations.parameters.Parameter;
import org.eclipse.microprofile.openapi.annotations.responses.APIResponse;
import org.eclipse.microprofile.openapi.annotations.tags.Tag;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/** The ring of the topology this node holds, and where a key lives (DESIGN §1). */
@Path("/v1/cluster")
@Tag(name = "Cluster")
public class RingResource {
    private final TopologyService topology;
    private final NimbusConfig config;

    public RingResource(TopologyService topology, NimbusConfig config) {
        this.topology = topology;
        this.config = config;
    }

    /** A range (start exclusive, end inclusive): its primary owner, the epoch its placement last changed, its replicas and pending ones. */
    public record Range(String start, String end, String owner, long changedAt, List<String> replicas, List<String> pending) {
    }

    public record WorkerShare(String id, int tokens, double share) {
    }

    public record RingView(long epoch, int replicationFactor, List<WorkerShare> workers, List<Range> ranges) {
    }

    public record Location(String key, String token, int replicationFactor, List<String> replicas, List<String> pending,
                           long epoch,
                           long changedAt) {
    }

    private Topology held() {
        Topology t = topology.current();
        if (t == null) {
            throw new RequestFailedException(new Result.NotReady(topology.view().notReadyWhy()));
        }
        return t;
    }

    @GET
    @Path("ring")
    @Produces(MediaType.APPLICATION_JSON)
    @Operation(operationId = "ring", summary = "The token ring", description = "The ring of the topology this node holds: every range (start "
            + "exclusive, end inclusive; tokens are signed 64-bit Murmur3 values as decimal strings) with its owner and "
            + "the epoch its placement last changed, and each worker's share of the ring.")
    @APIResponse(responseCode = "200", description = "The ring", content = @Content(
            mediaType = MediaType.APPLICATION_JSON, examples = @ExampleObject(name = "one worker", value = """
            {"epoch":1,"replicationFactor":1,"workers":[{"id":"n1","tokens":16,"share":1.0}],
             "ranges":[{"start":"8070450532247928831","end":"-9223372036854775808","owner":"n1","changedAt":1,"replicas":["n1"],"pending":[]}]}""")))
    @APIResponse(responseCode = "503", description = "This node holds no topology yet",
            headers = @Header(name = "Retry-After", description = KvResource.RETRY_DOC,
                    schema = @Schema(type = SchemaType.INTEGER)),
            content = @Content(
            mediaType = Problem.MEDIA_TYPE, schema = @Schema(implementation = Problem.class)))
    public RingView ring() {
        Topology t = held();
        TokenRing ring = t.ring();
        Map<String, Double> share = ring.ownership();
        Map<String, Integer> counts = new TreeMap<>();
        List<Range> ranges = new ArrayList<>(ring.size());
        for (int i = 0; i < ring.size(); i++) {
            counts.merge(ring.owner(i), 1, Integer::sum);
        }
        // elementary ranges: split by the tokens of a joining worker and by range epochs too
        java.util.TreeSet<Long> ends = Topology.boundaries(t, t);
        long start = ends.last();
        for (long end : ends) {
            Placement p = t.placement(end);
            ranges.add(new Range(Long.toString(start), Long.toString(end), ring.replicas(end, 1).get(0), t.changedAt(end),
                    p.names(), Placement.names(p.pending())));
            start = end;
        }
        List<WorkerShare> workers = new ArrayList<>();
        counts.forEach((id, n) -> workers.add(new WorkerShare(id, n, share.get(id))));
        return new RingView(t.epoch(), t.effectiveRf(), workers, ranges);
    }

    @GET
    @Path("locate/{key}")
    @Produces(MediaType.APPLICATION_JSON)
    @Operation(operationId = "locateKey", summary = "Where a key lives",
            description = "The key's token and its replica workers in ring order "
            + "(the first is where a walk clockwise from the token meets first), under the topology this node holds.")
    @APIResponse(responseCode = "200", description = "The key's placement", content = @Content(
            mediaType = MediaType.APPLICATION_JSON, examples = @ExampleObject(name = "placement", value = """
            {"key":"greeting","token":"-4383475305893592052","replicationFactor":3,"replicas":["n2","n1","n3"],"epoch":3,"changedAt":3}""")))
    @APIResponse(responseCode = "400", description = "Bad key", content = @Content(
            mediaType = Problem.MEDIA_TYPE, schema = @Schema(implementation = Problem.class)))
    @APIResponse(responseCode = "503", description = "This node holds no topology yet",
            headers = @Header(name = "Retry-After", description = KvResource.RETRY_DOC,
                    schema = @Schema(type = SchemaType.INTEGER)),
            content = @Content(
            mediaType = Problem.MEDIA_TYPE, schema = @Schema(implementation = Problem.class)))
    public Location locate(@Parameter(description = "The key, percent-encoded", example = "greeting")
                           @PathParam("key") @Encoded String rawKey) {
        String key = Keys.decode(rawKey, config.limits().maxKeyBytes(), false, "key");
        Topology t = held();
        long token = Murmur3.hash64(key.getBytes(StandardCharsets.UTF_8));
        Placement p = t.placement(token);
        return new Location(key, Long.toString(token), t.effectiveRf(), p.names(), Placement.names(p.pending()), t.epoch(),
                p.changedAt());
    }
}
