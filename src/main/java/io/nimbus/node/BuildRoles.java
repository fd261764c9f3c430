package io.nimbus.node;

import io.quarkus.arc.properties.IfBuildProperty;
import jakarta.enterprise.inject.Produces;
import jakarta.inject.Singleton;

/**
 * Makes the build's {@link BuildRole} injectable. Exactly one producer is kept at build time; a value of
 * {@value BuildRole#PROPERTY} other than {@code any}, {@code worker} and {@code proxy} keeps none, and the
 * build fails on the unsatisfied injection point in {@link RoleCheck}.
 */
@Singleton
public class BuildRoles {

    @Produces
    @Singleton
    @IfBuildProperty(name = BuildRole.PROPERTY, stringValue = "any", enableIfMissing = true)
    BuildRole any() {
        return BuildRole.ANY;
    }

    @Produces
    @Singleton
    @IfBuildProperty(name = BuildRole.PROPERTY, stringValue = "worker")
    BuildRole worker() {
        return BuildRole.WORKER;
    }

    @Produces
    @Singleton
    @IfBuildProperty(name = BuildRole.PROPERTY, stringValue = "proxy")
    BuildRole proxy() {
        return BuildRole.PROXY;
    }
}
