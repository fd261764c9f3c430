package io.nimbus.node;

import io.nimbus.core.gossip.NodeRole;

import java.util.Locale;

/**
 * The role an application was built for: the build property {@value #PROPERTY} ({@code any}, the default:
 * the role is chosen at run time by {@code nimbus.role}; {@code worker}; {@code proxy}: no storage bean and
 * no MapDB on the class path). A node whose run-time {@code nimbus.role} differs from its build's refuses to
 * start ({@link RoleCheck}).
 */
public enum BuildRole {
    ANY, WORKER, PROXY;

    /** A build-time property (read by {@code @IfBuildProperty}); setting it at run time changes nothing. */
    public static final String PROPERTY = "nimbus.build.role";

    /** Why a node of this build cannot run as {@code role}, or null if it can. */
    public String refusal(NodeRole role) {
        if (this == ANY || name().equals(role.name())) {
            return null;
        }
        String built = name().toLowerCase(Locale.ROOT);
        return "this is a " + built + " build (" + PROPERTY + "=" + built + "), but nimbus.role is "
                + role.name().toLowerCase(Locale.ROOT) + ": set nimbus.role=" + built + " (env NIMBUS_ROLE=" + built
                + "), or run the image or jar built for role " + role.name().toLowerCase(Locale.ROOT);
    }
}
