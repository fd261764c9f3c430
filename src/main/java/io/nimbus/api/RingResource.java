package io.nimbus.api;

import io.nimbus.cluster.ClusterService;
import io.nimbus.cluster.Coordinator;
import io.nimbus.config.NimbusConfig;
import io.nimbus.core.ring.Murmur3;
import io.nimbus.core.ring.TokenRing;
import jakarta.ws.rs.Encoded;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.PathParam;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.core.MediaType;
import org.eclipse.microprofile.openapi.annotations.Operation;
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

/** The ring as this node sees it, and where a key lives (DESIGN §1). */
@Path("/v1/cluster")
@Tag(name = "Cluster")
public class RingResource {
    private final ClusterService cluster;
    private final NimbusConfig config;
    private final Coordinator coordinator;

    public RingResource(ClusterService cluster, NimbusConfig config, Coordinator coordinator) {
        this.cluster = cluster;
        this.config = config;
        this.coordinator = coordinator;
    }

    public record Range(String start, String end, String owner) {
    }

    public record WorkerShare(String id, int tokens, double share) {
    }

    public record RingView(long epoch, int replicationFactor, List<WorkerShare> workers, List<Range> ranges) {
    }

    public record Location(String key, String token, int replicationFactor, List<String> replicas, long epoch) {
    }

    /** Effective replication factor: the configured one, capped at the workers on the ring. */
    private int rf(TokenRing ring) {
        return coordinator.replicationFactor(ring);
    }

    @GET
    @Path("ring")
    @Produces(MediaType.APPLICATION_JSON)
    @Operation(summary = "The token ring", description = "Every range (start exclusive, end inclusive; tokens are "
            + "signed 64-bit Murmur3 values as decimal strings) with its owner, and each worker's share of the ring.")
    @APIResponse(responseCode = "200", description = "This node's view of the ring", content = @Content(
            mediaType = MediaType.APPLICATION_JSON, examples = @ExampleObject(name = "one worker", value = """
            {"epoch":1,"replicationFactor":1,"workers":[{"id":"n1","tokens":16,"share":1.0}],
             "ranges":[{"start":"8070450532247928831","end":"-9223372036854775808","owner":"n1"}]}""")))
    public RingView ring() {
        TokenRing ring = cluster.ring();
        Map<String, Double> share = ring.ownership();
        Map<String, Integer> counts = new TreeMap<>();
        List<Range> ranges = new ArrayList<>(ring.size());
        for (int i = 0; i < ring.size(); i++) {
            counts.merge(ring.owner(i), 1, Integer::sum);
            long start = ring.token((i - 1 + ring.size()) % ring.size());
            ranges.add(new Range(Long.toString(start), Long.toString(ring.token(i)), ring.owner(i)));
        }
        List<WorkerShare> workers = new ArrayList<>();
        counts.forEach((id, n) -> workers.add(new WorkerShare(id, n, share.get(id))));
        return new RingView(ring.epoch(), rf(ring), workers, ranges);
    }

    @GET
    @Path("locate/{key}")
    @Produces(MediaType.APPLICATION_JSON)
    @Operation(summary = "Where a key lives", description = "The key's token and its replica workers in ring order "
            + "(the first is where a walk clockwise from the token meets first).")
    @APIResponse(responseCode = "200", description = "The key's placement", content = @Content(
            mediaType = MediaType.APPLICATION_JSON, examples = @ExampleObject(name = "placement", value = """
            {"key":"greeting","token":"-4383475305893592052","replicationFactor":3,"replicas":["n2","n1","n3"],"epoch":3}""")))
    @APIResponse(responseCode = "400", description = "Bad key", content = @Content(
            mediaType = Problem.MEDIA_TYPE, schema = @Schema(implementation = Problem.class)))
    public Location locate(@Parameter(description = "The key, percent-encoded", example = "greeting")
                           @PathParam("key") @Encoded String rawKey) {
        String key = Keys.decode(rawKey, config.limits().maxKeyBytes(), false, "key");
        TokenRing ring = cluster.ring();
        long token = Murmur3.hash64(key.getBytes(StandardCharsets.UTF_8));
        int rf = rf(ring);
        return new Location(key, Long.toString(token), rf, ring.replicas(token, rf), ring.epoch());
    }
}
