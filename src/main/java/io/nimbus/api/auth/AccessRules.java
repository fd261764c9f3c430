package io.nimbus.api.auth;

import java.util.Locale;

/**
 * Which role each public API request needs, from its method and path alone. Deny by default: a
 * request not named here as a read or a write needs {@code admin}, so an endpoint added later (a
 * topology operation such as {@code POST /v1/cluster/decommission}) is admin-only until it is listed.
 * {@code /q/*} (health, metrics, OpenAPI, Swagger UI) is not part of the client API and is never asked.
 */
public final class AccessRules {
    private AccessRules() {
    }

    public static ApiRole required(String method, String path) {
        String m = method.toUpperCase(Locale.ROOT);
        boolean reads = m.equals("GET") || m.equals("HEAD");
        if (isKey(path)) {
            if (reads) {
                return ApiRole.READ;
            }
            return m.equals("PUT") || m.equals("DELETE") ? ApiRole.WRITE : ApiRole.ADMIN;
        }
        if (reads) {
            switch (path) {
                case "/get", "/v1/cluster", "/v1/cluster/ring", "/v1/cluster/topology" -> {
                    return ApiRole.READ;
                }
                case "/set" -> {
                    return ApiRole.WRITE; // a GET that writes (Hash Nimbus compatibility)
                }
                default -> {
                    if (isOneSegmentUnder(path, "/v1/cluster/locate/")) {
                        return ApiRole.READ;
                    }
                }
            }
        }
        return ApiRole.ADMIN;
    }

    /** A short description of what {@code role} allows, for problem details. */
    public static String allows(ApiRole role) {
        return switch (role) {
            case READ -> "reads of keys and of cluster information";
            case WRITE -> "writes and deletes of keys (and reads)";
            case ADMIN -> "cluster administration (and everything else)";
        };
    }

    private static boolean isKey(String path) {
        return isOneSegmentUnder(path, "/v1/kv/");
    }

    private static boolean isOneSegmentUnder(String path, String prefix) {
        return path.startsWith(prefix) && path.length() > prefix.length() && path.indexOf('/', prefix.length()) < 0;
    }
}
