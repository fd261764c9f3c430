package io.nimbus.health;

import io.nimbus.config.NimbusConfig;
import io.nimbus.node.Storage;
import io.nimbus.storage.MapDbStore;
import jakarta.enterprise.context.ApplicationScoped;
import org.eclipse.microprofile.health.HealthCheck;
import org.eclipse.microprofile.health.HealthCheckResponse;
import org.eclipse.microprofile.health.HealthCheckResponseBuilder;
import org.eclipse.microprofile.health.Liveness;
import org.eclipse.microprofile.health.Readiness;
import org.eclipse.microprofile.health.Startup;

/**
 * Health from the store's state; none of these checks touches the disk or blocks.
 * Live: the store has not failed (a failed store needs a restart, which replays the log).
 * Ready and started: the store is open and healthy.
 */
@ApplicationScoped
public class StorageHealth {
    private final Storage storage;
    private final NimbusConfig config;

    public StorageHealth(Storage storage, NimbusConfig config) {
        this.storage = storage;
        this.config = config;
    }

    @Liveness
    HealthCheck live() {
        return () -> {
            HealthCheckResponseBuilder b = HealthCheckResponse.named("storage-not-failed");
            if (!storage.isOpen()) {
                return b.up().withData("store", "opening").build();
            }
            Throwable failure = storage.store().failure();
            return failure == null ? b.up().build() : b.down().withData("failure", String.valueOf(failure.getMessage())).build();
        };
    }

    @Readiness
    HealthCheck ready() {
        return () -> state("storage");
    }

    @Startup
    HealthCheck started() {
        return () -> state("storage-open");
    }

    private HealthCheckResponse state(String name) {
        HealthCheckResponseBuilder b = HealthCheckResponse.named(name);
        if (!storage.isWorker()) {
            return b.up().withData("role", "proxy (no storage)").build();
        }
        b.withData("dataDir", config.dataDir());
        if (!storage.isOpen()) {
            return b.down().withData("store", "not open").build();
        }
        MapDbStore s = storage.store();
        b.withData("queuedWrites", s.queued());
        String full = s.diskFull();
        if (full != null) {
            b.withData("diskFull", full); // still ready: reads are served, writes resume once space is freed
        }
        return b.status(s.isHealthy()).build();
    }
}
