package io.nimbus.core.kv;

import java.util.Objects;

/** A client's write or delete of one key; {@code value == null} deletes. */
public record Mutation(String key, byte[] value, Precondition precondition) {

    public Mutation {
        Objects.requireNonNull(key, "key");
        Objects.requireNonNull(precondition, "precondition");
    }

    public boolean isDelete() {
        return value == null;
    }
}
