package io.nimbus.lin;

import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * Records a concurrent history event by event, the way a simulator or a test client sees it.
 *
 * <p>Each client runs one operation at a time: {@link #invoke} starts it and exactly one of {@link #ok},
 * {@link #rejected}, {@link #fail} or {@link #indeterminate} ends it. An operation still running when
 * {@link #operations()} is called counts as indeterminate. After {@code indeterminate(client)} the client
 * may invoke again at once; the abandoned operation stays concurrent with everything after its invoke.
 *
 * <p>Times are any longs (simulated ticks, nanoseconds); events need not be recorded in time order across
 * clients. Operation A precedes B in real time only if A's response is strictly before B's invoke: equal
 * times count as concurrent, which never produces a false alarm.
 */
public final class History {
    private final List<Operation> completed = new ArrayList<>();
    private final Map<String, Operation> pending = new HashMap<>();
    private int nextId;

    /** Client {@code client} starts {@code op} at {@code time}. */
    public History invoke(String client, Op op, long time) {
        Objects.requireNonNull(client, "client");
        Objects.requireNonNull(op, "op");
        if (pending.containsKey(client)) {
            throw new IllegalStateException("client " + client + " invoked " + op + " while "
                    + pending.get(client) + " is still running");
        }
        pending.put(client, new Operation(nextId++, client, op, time, Operation.NO_RESPONSE,
                Operation.Outcome.INDETERMINATE, null, null));
        return this;
    }

    /** The client's operation took effect and returned {@code output}. */
    public History ok(String client, Output output, long time) {
        Operation op = take(client, time);
        Objects.requireNonNull(output, "output");
        Op asked = op.op();
        boolean fits = asked instanceof Op.Read ? output instanceof Output.Found || output instanceof Output.NotFound
                : asked instanceof Op.Delete ? output instanceof Output.Deleted
                : output instanceof Output.Written;
        if (!fits) {
            throw new IllegalArgumentException(op.op() + " cannot return " + output);
        }
        return end(op, time, Operation.Outcome.OK, output, null);
    }

    /** A read returned {@code value} at {@code version}. */
    public History okFound(String client, String value, String version, long time) {
        return ok(client, Output.found(value, version), time);
    }

    /** A read returned absent (404). */
    public History okNotFound(String client, long time) {
        return ok(client, Output.notFound(), time);
    }

    /** A write, compare-and-set or create succeeded with the new version {@code version}. */
    public History okWritten(String client, String version, long time) {
        return ok(client, Output.written(version), time);
    }

    /** A delete succeeded (no tombstone version reported). */
    public History okDeleted(String client, long time) {
        return ok(client, Output.deleted(), time);
    }

    /**
     * The client's compare-and-set, create or delete was refused because its precondition did not hold
     * (412, or 404 for a delete of an absent key); {@code observed} is what the system said it saw.
     * The checker then requires a point in the operation's interval where the precondition was false and
     * the register matched {@code observed}. Use {@link #fail} instead if a refusal may come from a stale
     * view rather than from the linearized state.
     */
    public History rejected(String client, Observed observed, long time) {
        Operation op = take(client, time);
        Objects.requireNonNull(observed, "observed");
        if (op.op() instanceof Op.Read || op.op() instanceof Op.Write) {
            throw new IllegalArgumentException(op.op() + " has no precondition to reject");
        }
        return end(op, time, Operation.Outcome.REJECTED, null, observed);
    }

    /** As {@link #rejected(String, Observed, long)}, when the response did not say what the state is. */
    public History rejected(String client, long time) {
        return rejected(client, Observed.unknown(), time);
    }

    /** The client's operation definitely had no effect and observed nothing (e.g. 503 before it ran). */
    public History fail(String client, long time) {
        return end(take(client, time), time, Operation.Outcome.FAILED, null, null);
    }

    /** The client gave up on its operation without knowing whether it took effect (timeout, 504). */
    public History indeterminate(String client) {
        Operation op = pending.remove(requirePending(client));
        completed.add(op);
        return this;
    }

    /** All operations in invocation order; those still running are indeterminate. */
    public List<Operation> operations() {
        List<Operation> all = new ArrayList<>(completed);
        all.addAll(pending.values());
        all.sort((a, b) -> Integer.compare(a.id(), b.id()));
        return Collections.unmodifiableList(all);
    }

    private Operation take(String client, long time) {
        Operation op = pending.get(requirePending(client));
        if (time < op.invoke()) {
            throw new IllegalArgumentException("response at " + time + " before invoke of " + op);
        }
        if (time == Operation.NO_RESPONSE) {
            throw new IllegalArgumentException("time " + time + " is reserved for no response");
        }
        pending.remove(client);
        return op;
    }

    private String requirePending(String client) {
        if (!pending.containsKey(client)) {
            throw new IllegalStateException("client " + client + " has no operation running");
        }
        return client;
    }

    private History end(Operation op, long time, Operation.Outcome outcome, Output output, Observed observed) {
        completed.add(new Operation(op.id(), op.client(), op.op(), op.invoke(), time, outcome, output, observed));
        return this;
    }
}
