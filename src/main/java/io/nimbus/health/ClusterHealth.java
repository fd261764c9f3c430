package io.nimbus.health;

import io.nimbus.cluster.ClusterService;
import io.nimbus.core.gossip.Member;
import jakarta.enterprise.context.ApplicationScoped;
import org.eclipse.microprofile.health.HealthCheckResponse;
import org.eclipse.microprofile.health.Readiness;

import java.util.List;

/** Ready only once the node has caught up with the cluster (or expects no peers). */
@Readiness
@ApplicationScoped
public class ClusterHealth implements org.eclipse.microprofile.health.HealthCheck {
    private final ClusterService cluster;

    public ClusterHealth(ClusterService cluster) {
        this.cluster = cluster;
    }

    @Override
    public HealthCheckResponse call() {
        List<Member> members = cluster.members();
        long reachable = members.stream().filter(Member::reachable).count();
        return HealthCheckResponse.named("cluster-joined").status(cluster.joined())
                .withData("members", members.size()).withData("reachable", reachable).build();
    }
}
