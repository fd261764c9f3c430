package io.nimbus.core.topology;

import java.util.Objects;

/**
 * The one topology operation in progress (TOPOLOGY.md §2, §5, §6): between its START epoch and its FINISH
 * (or abort) epoch, every range it moves has pending replicas that receive every write and are streamed
 * the range's rows, and quorums are joint (a majority of the old set and a majority of the new one).
 * One operation at a time, cluster-wide.
 *
 * @param kind     what changes
 * @param node     the worker that joins, leaves or is removed
 * @param incoming the joining worker (its store, address and tokens); null for LEAVE and REMOVE
 * @param driver   the worker that moves the operation on (barrier, streams, finish): the joiner, the
 *                 leaving worker, or the worker that was asked to remove a dead one
 */
public record Operation(Kind kind, String node, Worker incoming, String driver) {
    public enum Kind {
        /** A new worker takes tokens; it is pending until its ranges are streamed. */
        JOIN,
        /** A live worker hands its ranges to the next workers clockwise, streaming them itself (decommission). */
        LEAVE,
        /** A dead worker's ranges go to the next workers clockwise, streamed from the remaining replicas. */
        REMOVE
    }

    public Operation {
        Objects.requireNonNull(kind, "kind");
        Objects.requireNonNull(node, "node");
        Objects.requireNonNull(driver, "driver");
        if ((kind == Kind.JOIN) != (incoming != null)) {
            throw new IllegalArgumentException(kind + " " + (incoming == null ? "needs" : "takes no") + " incoming worker");
        }
        if (incoming != null && !incoming.name().equals(node)) {
            throw new IllegalArgumentException("joining worker " + incoming.name() + " is not the operation's node " + node);
        }
    }

    @Override
    public String toString() {
        return kind + "(" + node + ", driven by " + driver + ")";
    }
}
