package io.nimbus.node;

import io.nimbus.config.NimbusConfig;
import io.quarkus.runtime.StartupEvent;
import jakarta.annotation.Priority;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import org.jboss.logging.Logger;

/**
 * Refuses to start a node whose {@code nimbus.role} is not the role its application was built for, before
 * anything else starts (the store opens at priority 100, the cluster port at 200).
 */
@ApplicationScoped
public class RoleCheck {
    private static final Logger LOG = Logger.getLogger(RoleCheck.class);

    private final BuildRole built;
    private final NimbusConfig config;

    public RoleCheck(BuildRole built, NimbusConfig config) {
        this.built = built;
        this.config = config;
    }

    void onStart(@Observes @Priority(10) StartupEvent event) {
        String refusal = built.refusal(config.role());
        if (refusal != null) {
            LOG.error("Nimbus cannot start: " + refusal);
            throw new IllegalStateException(refusal);
        }
    }
}
