package io.nimbus.api.auth;

import java.util.EnumSet;
import java.util.Locale;
import java.util.Set;

/**
 * What a client token may do on the public API. Roles nest, as in Consul's ACLs: {@code write}
 * includes {@code read} (a compare-and-set needs the ETag it reads), and {@code admin} includes both.
 * A token may still list several roles; the identity carries every role they imply.
 */
public enum ApiRole {
    /** GET/HEAD of keys, {@code /get}, and reads of cluster, ring and topology information. */
    READ,
    /** PUT/DELETE of keys and {@code /set}; implies read. */
    WRITE,
    /** Everything, including topology operations; implies write and read. */
    ADMIN;

    /** The name used in token files, in {@code SecurityIdentity} roles and in problem details. */
    public String roleName() {
        return name().toLowerCase(Locale.ROOT);
    }

    /** This role and every role it includes. */
    public Set<ApiRole> implied() {
        return switch (this) {
            case READ -> EnumSet.of(READ);
            case WRITE -> EnumSet.of(READ, WRITE);
            case ADMIN -> EnumSet.allOf(ApiRole.class);
        };
    }

    /** {@code read}, {@code write} or {@code admin} (case-insensitive). */
    public static ApiRole parse(String text) {
        for (ApiRole r : values()) {
            if (r.roleName().equalsIgnoreCase(text.trim())) {
                return r;
            }
        }
        throw new IllegalArgumentException("unknown role '" + text.trim() + "': use read, write or admin");
    }
}
