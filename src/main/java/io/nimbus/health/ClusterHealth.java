package io.nimbus.health;

import io.nimbus.cluster.membership.ClusterService;
import io.nimbus.cluster.topology.ClusterView;
import io.nimbus.cluster.topology.TopologyService;
import io.nimbus.core.gossip.Member;
import io.nimbus.core.topology.Replica;
import io.nimbus.node.Storage;
import jakarta.enterprise.context.ApplicationScoped;
import org.eclipse.microprofile.health.HealthCheckResponse;
import org.eclipse.microprofile.health.HealthCheckResponseBuilder;
import org.eclipse.microprofile.health.Readiness;

import java.util.List;

/**
 * Ready only while the node can serve: it holds a topology and, for a worker, is a member of it (a
 * worker that is still joining is not ready, which makes Kubernetes' OrderedReady add workers one by one).
 */
@Readiness
@ApplicationScoped
public class ClusterHealth implements org.eclipse.microprofile.health.HealthCheck {
    private final ClusterService cluster;
    private final TopologyService topology;
    private final Storage storage;

    public ClusterHealth(ClusterService cluster, TopologyService topology, Storage storage) {
        this.cluster = cluster;
        this.topology = topology;
        this.storage = storage;
    }

    @Override
    public HealthCheckResponse call() {
        ClusterView v = topology.view();
        List<Member> members = v.members();
        long reachable = members.stream().filter(Member::reachable).count();
        boolean member = v.ready() && (!storage.isWorker()
                || (v.selfHost() != null && v.topology().holds(new Replica(v.self(), v.selfHost()))));
        HealthCheckResponseBuilder b = HealthCheckResponse.named("cluster-joined").status(cluster.joined() && member)
                .withData("members", members.size()).withData("reachable", reachable).withData("topologyEpoch", v.epoch());
        if (!v.ready()) {
            b.withData("reason", v.notReadyWhy());
        } else if (!member) {
            b.withData("reason", v.selfHost() != null && v.topology().departed().contains(v.selfHost())
                    ? "this worker left the cluster (decommissioned, removed, or its join aborted): wipe its data "
                    + "directory to join again" : v.selfHost() != null
                    && v.topology().isJoining(new Replica(v.self(), v.selfHost()))
                    ? "this worker is joining: its ranges are being streamed to it (" + v.topology().operation()
                    .map(Object::toString).orElse("") + ")" : "this worker is not yet a member of the topology");
        }
        return b.build();
    }
}
