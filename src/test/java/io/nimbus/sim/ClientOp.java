package io.nimbus.sim;

import io.nimbus.core.coordinator.Coordination;
import io.nimbus.core.kv.Ballot;
import io.nimbus.core.kv.Mutation;
import io.nimbus.core.kv.Precondition;
import io.nimbus.lin.Op;

import java.nio.charset.StandardCharsets;
import java.util.List;

/** What a simulated client asks, and how it reads to the coordinator and to the linearizability checker. */
public enum ClientOp {
    READ, WRITE, CAS, CREATE, DELETE, DELETE_IF;

    /** Whether the operation writes a new value (a fresh one per operation; deletes write a tombstone). */
    public boolean writesValue() {
        return this == WRITE || this == CAS || this == CREATE;
    }

    /** Whether it names the version it expects ({@code If-Match}). */
    public boolean conditional() {
        return this == CAS || this == DELETE_IF;
    }

    public Precondition precondition(Ballot expected) {
        return switch (this) {
            case CAS, DELETE_IF -> new Precondition.VersionIn(List.of(expected));
            case CREATE -> new Precondition.Absent();
            default -> Precondition.NONE;
        };
    }

    /** The operation as the checker's history records it. */
    public Op historyOp(String key, String value, Ballot expected) {
        return switch (this) {
            case READ -> Op.read(key);
            case WRITE -> Op.write(key, value);
            case CAS -> Op.cas(key, expected.token(), value);
            case CREATE -> Op.createIfAbsent(key, value);
            case DELETE -> Op.delete(key);
            case DELETE_IF -> Op.deleteIf(key, expected.token());
        };
    }

    /** The operation as the real coordinator takes it. */
    public Coordination.Request request(String key, String value, Ballot expected) {
        return this == READ ? new Coordination.Request.Read() : new Coordination.Request.Write(
                new Mutation(key, value == null ? null : value.getBytes(StandardCharsets.UTF_8), precondition(expected)));
    }
}
