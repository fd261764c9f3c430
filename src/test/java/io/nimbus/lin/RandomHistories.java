package io.nimbus.lin;

import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;

/**
 * Makes random concurrent histories that are linearizable by construction: every operation gets an
 * interval and a linearization point inside it (an indeterminate one's point may fall after its client
 * gave up), and the operations are run in point order against a reference register to get their outputs.
 * Tests then use them as they are (they must pass) or corrupt them (see {@link Mutations}).
 */
final class RandomHistories {

    /**
     * The shape of a history.
     *
     * @param keys        how many keys ("k0", "k1", ...)
     * @param clients     how many clients; each runs one operation at a time, so this bounds concurrency
     * @param ops         how many operations
     * @param maxDuration longest operation, in steps of 2 time units
     * @param maxGap      longest pause of a client between operations, in steps of 2 time units
     * @param inDoubt     probability that an operation ends indeterminate (then half of them take effect)
     * @param failed      probability that an operation fails with no effect (503)
     * @param fewValues   write values from {"a", "b", "c"} (ambiguous unseen versions) rather than unique ones
     * @param clairvoyant compare-and-set and delete mostly expect the true current version, even one made
     *                    by an indeterminate write nobody observed (adversarial); otherwise, like real
     *                    clients, they expect a version their client learned from an earlier answer
     */
    record Shape(int keys, int clients, int ops, int maxDuration, int maxGap, double inDoubt, double failed,
                 boolean fewValues, boolean clairvoyant) {
    }

    /**
     * One generated operation; everything needed to emit it, and the truth behind it.
     *
     * @param point  its linearization point, or -1 if it had no effect and observed nothing
     * @param effect for a write, compare-and-set or create that took effect: the value and version it made
     */
    record GenOp(String client, Op op, long invoke, long response, Operation.Outcome outcome, Output output,
                 Observed observed, long point, Output.Found effect) {

        GenOp withOutput(Output newOutput) {
            return new GenOp(client, op, invoke, response, outcome, newOutput, observed, point, effect);
        }
    }

    private final Random rnd;
    private final Shape shape;
    private final Map<String, Output.Found> store = new HashMap<>();
    private final Map<String, List<String>> versionsOf = new HashMap<>();
    private final Map<String, List<String>> learned = new HashMap<>(); // by client and key
    private int counter;

    private RandomHistories(Random rnd, Shape shape) {
        this.rnd = rnd;
        this.shape = shape;
    }

    static List<GenOp> generate(Random rnd, Shape shape) {
        return new RandomHistories(rnd, shape).generate();
    }

    /** Records the operations as a {@link History} would see them (client by client: order across clients does not matter). */
    static History toHistory(List<GenOp> ops) {
        List<GenOp> sorted = new ArrayList<>(ops);
        sorted.sort(Comparator.comparing(GenOp::client).thenComparingLong(GenOp::invoke)
                .thenComparingLong(GenOp::response));
        History h = new History();
        for (GenOp g : sorted) {
            h.invoke(g.client(), g.op(), g.invoke());
            switch (g.outcome()) {
                case OK -> h.ok(g.client(), g.output(), g.response());
                case REJECTED -> h.rejected(g.client(), g.observed(), g.response());
                case FAILED -> h.fail(g.client(), g.response());
                case INDETERMINATE -> h.indeterminate(g.client());
            }
        }
        return h;
    }

    private List<GenOp> generate() {
        long[] free = new long[shape.clients()];
        List<long[]> slots = new ArrayList<>(); // {client, invoke, response, point, outcome ordinal, effective}
        for (int i = 0; i < shape.ops(); i++) {
            int c = rnd.nextInt(shape.clients());
            long invoke = free[c] + 2L * rnd.nextInt(shape.maxGap() + 1);
            long duration = 2L * (1 + rnd.nextInt(shape.maxDuration()));
            long response = invoke + duration;
            free[c] = response;
            double roll = rnd.nextDouble();
            Operation.Outcome outcome = roll < shape.inDoubt() ? Operation.Outcome.INDETERMINATE
                    : roll < shape.inDoubt() + shape.failed() ? Operation.Outcome.FAILED : Operation.Outcome.OK;
            long reach = outcome == Operation.Outcome.INDETERMINATE ? duration / 2 + 2L * shape.maxDuration() : duration / 2;
            long point = invoke + 1 + 2L * rnd.nextInt((int) reach);
            long effective = outcome == Operation.Outcome.OK || rnd.nextBoolean() && outcome != Operation.Outcome.FAILED ? 1 : 0;
            slots.add(new long[] {c, invoke, response, point, outcome.ordinal(), effective});
        }
        Collections.shuffle(slots, rnd);
        slots.sort(Comparator.comparingLong(s -> s[3]));
        List<GenOp> out = new ArrayList<>();
        for (long[] s : slots) {
            out.add(run("c" + s[0], s[1], s[2], s[3], Operation.Outcome.values()[(int) s[4]], s[5] == 1));
        }
        out.sort(Comparator.comparingLong(GenOp::invoke));
        return out;
    }

    /** Chooses an operation and, if it takes effect, runs it against the reference register. */
    private GenOp run(String client, long invoke, long response, long point, Operation.Outcome kind, boolean applies) {
        String key = "k" + rnd.nextInt(shape.keys());
        Output.Found current = store.get(key);
        int pick = rnd.nextInt(100);
        Op op;
        if (pick < 35) {
            op = Op.read(key);
        } else if (pick < 55) {
            op = Op.write(key, value());
        } else if (pick < 75) {
            op = Op.cas(key, someVersion(client, key, current), value());
        } else if (pick < 87) {
            op = Op.createIfAbsent(key, value());
        } else {
            op = rnd.nextBoolean() ? Op.delete(key) : Op.deleteIf(key, someVersion(client, key, current));
        }
        if (!applies) {
            return new GenOp(client, op, invoke, response, kind, null, null, -1, null);
        }
        boolean holds = preconditionHolds(op, current);
        Output.Found effect = null;
        Output output;
        if (op instanceof Op.Read) {
            output = current == null ? Output.notFound() : current;
        } else if (!holds) {
            output = null;
        } else if (op instanceof Op.Delete) {
            store.remove(key);
            output = new Output.Deleted(rnd.nextInt(3) == 0 ? "t" + counter++ : null);
        } else {
            effect = new Output.Found(KeyEncoding.writtenValue(op), "b" + counter++);
            store.put(key, effect);
            versionsOf.computeIfAbsent(key, k -> new ArrayList<>()).add(effect.version());
            output = Output.written(effect.version());
        }
        if (kind == Operation.Outcome.INDETERMINATE) {
            return new GenOp(client, op, invoke, response, kind, null, null, holds ? point : -1, effect);
        }
        if (output == null) {
            Observed seen = current == null ? Observed.absent()
                    : rnd.nextInt(4) == 0 ? Observed.unknown() : Observed.version(current.version());
            if (seen instanceof Observed.Version v) {
                learn(client, key, v.version());
            }
            return new GenOp(client, op, invoke, response, Operation.Outcome.REJECTED, null, seen, point, null);
        }
        if (output instanceof Output.Found f) {
            learn(client, key, f.version());
        } else if (output instanceof Output.Written w) {
            learn(client, key, w.version());
        }
        return new GenOp(client, op, invoke, response, Operation.Outcome.OK, output, null, point, effect);
    }

    private String value() {
        return shape.fewValues() ? String.valueOf((char) ('a' + rnd.nextInt(3))) : "v" + counter++;
    }

    /** The version a compare-and-set or delete expects (see {@link Shape#clairvoyant()}). */
    private String someVersion(String client, String key, Output.Found current) {
        if (shape.clairvoyant()) {
            if (current != null && rnd.nextInt(10) < 7) {
                return current.version();
            }
            List<String> old = versionsOf.getOrDefault(key, List.of());
            return old.isEmpty() || rnd.nextInt(5) == 0 ? "x" + counter++ : old.get(rnd.nextInt(old.size()));
        }
        List<String> known = learned.getOrDefault(client + "/" + key, List.of());
        int roll = rnd.nextInt(20);
        if (known.isEmpty() || roll == 0) {
            return "x" + counter++; // a version that never existed
        }
        return roll < 16 ? known.get(known.size() - 1) : known.get(rnd.nextInt(known.size()));
    }

    private void learn(String client, String key, String version) {
        learned.computeIfAbsent(client + "/" + key, k -> new ArrayList<>()).add(version);
    }

    private static boolean preconditionHolds(Op op, Output.Found current) {
        if (op instanceof Op.Cas c) {
            return current != null && current.version().equals(c.expectedVersion());
        }
        if (op instanceof Op.CreateIfAbsent) {
            return current == null;
        }
        if (op instanceof Op.Delete d) {
            return current != null && (d.expectedVersion() == null || current.version().equals(d.expectedVersion()));
        }
        return true;
    }
}
