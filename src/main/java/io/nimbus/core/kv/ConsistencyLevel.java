package io.nimbus.core.kv;

import java.util.Locale;

/** How many replicas must answer a request (DESIGN §2). */
public enum ConsistencyLevel {
    ONE, QUORUM, ALL;

    /** Replicas that must answer at this level when a key has {@code replicationFactor} replicas. */
    public int required(int replicationFactor) {
        if (replicationFactor < 1) {
            throw new IllegalArgumentException("replication factor must be >= 1, got " + replicationFactor);
        }
        return switch (this) {
            case ONE -> 1;
            case QUORUM -> replicationFactor / 2 + 1;
            case ALL -> replicationFactor;
        };
    }

    /** Case-insensitive parse; null when the text names no level. */
    public static ConsistencyLevel parse(String text) {
        if (text == null) {
            return null;
        }
        try {
            return valueOf(text.trim().toUpperCase(Locale.ROOT));
        } catch (IllegalArgumentException e) {
            return null;
        }
    }
}
