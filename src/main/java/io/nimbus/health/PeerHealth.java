package io.nimbus.health;

import io.nimbus.cluster.membership.ClusterService;
import io.nimbus.cluster.peer.PeerGuards;
import io.smallrye.health.api.HealthGroup;
import jakarta.enterprise.context.ApplicationScoped;
import org.eclipse.microprofile.health.HealthCheckResponse;
import org.eclipse.microprofile.health.HealthCheckResponseBuilder;
import org.eclipse.microprofile.health.Liveness;

/**
 * The circuit breaker of every peer this node calls, as health data ({@code /q/health}, {@code /q/health/live},
 * {@code /q/health/group/peers}): {@code "host:port": "CLOSED" | "HALF_OPEN" | "OPEN"}. Always UP: a peer that
 * is down is the cluster's business (its replicas count without it), not a reason to restart this node or to
 * take it out of service, so it is neither a failing liveness nor a readiness check. Never blocks: it reads a map.
 */
@Liveness
@HealthGroup("peers")
@ApplicationScoped
public class PeerHealth implements org.eclipse.microprofile.health.HealthCheck {
    private final ClusterService cluster;

    public PeerHealth(ClusterService cluster) {
        this.cluster = cluster;
    }

    @Override
    public HealthCheckResponse call() {
        HealthCheckResponseBuilder b = HealthCheckResponse.named("peers").up();
        PeerGuards peers = cluster.peers();
        if (peers != null) {
            long open = peers.breakerStates().values().stream()
                    .filter(s -> s != io.smallrye.faulttolerance.api.CircuitBreakerState.CLOSED).count();
            b.withData("breakersNotClosed", open);
            peers.breakerStates().forEach((peer, state) -> b.withData(peer.toString(), state.name()));
        }
        return b.build();
    }
}
