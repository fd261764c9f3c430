package io.nimbus.lin;

import io.nimbus.lin.RandomHistories.GenOp;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;

/** Corruptions of generated histories, to show that the checker notices wrong answers. */
final class Mutations {
    private Mutations() {
    }

    /**
     * One OK read now returns an older state of its key (one held at some point before the read's
     * linearization point), or null if no read has one. Often, not always, a violation.
     */
    static List<GenOp> olderRead(List<GenOp> ops, Random rnd) {
        List<Integer> reads = okReads(ops);
        while (!reads.isEmpty()) {
            int r = reads.remove(rnd.nextInt(reads.size()));
            GenOp read = ops.get(r);
            List<Output> older = new ArrayList<>();
            if (read.output() instanceof Output.Found) {
                older.add(Output.notFound());
            }
            for (GenOp g : ops) {
                if (g.effect() != null && g.op().key().equals(read.op().key()) && g.point() < read.point()
                        && !g.effect().equals(read.output())) {
                    older.add(g.effect());
                }
            }
            if (!older.isEmpty()) {
                return replace(ops, r, read.withOutput(older.get(rnd.nextInt(older.size()))));
            }
        }
        return null;
    }

    /**
     * One OK read now returns the version of a write W1 although another acknowledged change W2 of the key
     * happened entirely after W1 and entirely before the read: certainly a violation, since versions are
     * unique and W1's cannot come back. Null if the history has no such triple.
     */
    static List<GenOp> certainlyStaleRead(List<GenOp> ops, Random rnd) {
        List<int[]> pairs = new ArrayList<>(); // {read, w1}
        for (int r : okReads(ops)) {
            GenOp read = ops.get(r);
            long latestSecondInvoke = Long.MIN_VALUE; // of an acknowledged change that ended before the read
            for (GenOp second : ops) {
                if (second.outcome() == Operation.Outcome.OK && !(second.op() instanceof Op.Read)
                        && sameKey(second, read) && second.response() < read.invoke()) {
                    latestSecondInvoke = Math.max(latestSecondInvoke, second.invoke());
                }
            }
            for (int w1 = 0; w1 < ops.size(); w1++) {
                GenOp first = ops.get(w1);
                if (first.outcome() == Operation.Outcome.OK && first.effect() != null && sameKey(first, read)
                        && first.response() < latestSecondInvoke) {
                    pairs.add(new int[] {r, w1});
                }
            }
        }
        if (pairs.isEmpty()) {
            return null;
        }
        int[] p = pairs.get(rnd.nextInt(pairs.size()));
        return replace(ops, p[0], ops.get(p[0]).withOutput(ops.get(p[1]).effect()));
    }

    /** One random corruption of any kind (it may or may not break linearizability); unchanged if none applies. */
    static List<GenOp> anything(List<GenOp> ops, Random rnd) {
        for (int attempt = 0; attempt < 20; attempt++) {
            List<GenOp> changed = once(ops, rnd);
            if (!changed.equals(ops)) {
                return changed;
            }
        }
        return ops;
    }

    private static List<GenOp> once(List<GenOp> ops, Random rnd) {
        int i = rnd.nextInt(ops.size());
        GenOp g = ops.get(i);
        List<Output.Found> made = new ArrayList<>();
        for (GenOp o : ops) {
            if (o.effect() != null) {
                made.add(o.effect());
            }
        }
        switch (rnd.nextInt(7)) {
            case 0: {
                List<GenOp> older = olderRead(ops, rnd);
                return older != null ? older : ops;
            }
            case 1: // a read returns something else
                if (g.outcome() == Operation.Outcome.OK && g.op() instanceof Op.Read) {
                    Output out = made.isEmpty() || rnd.nextInt(4) == 0 ? Output.notFound()
                            : made.get(rnd.nextInt(made.size()));
                    if (out instanceof Output.Found f && rnd.nextInt(4) == 0) {
                        out = Output.found("z", f.version());
                    }
                    return replace(ops, i, g.withOutput(out));
                }
                return ops;
            case 2: // an acknowledged change is reported as rejected
                if (g.outcome() == Operation.Outcome.OK && !(g.op() instanceof Op.Read)
                        && !(g.op() instanceof Op.Write)) {
                    Observed seen = rnd.nextBoolean() || made.isEmpty() ? Observed.unknown()
                            : Observed.version(made.get(rnd.nextInt(made.size())).version());
                    return replace(ops, i, new GenOp(g.client(), g.op(), g.invoke(), g.response(),
                            Operation.Outcome.REJECTED, null, seen, g.point(), null));
                }
                return ops;
            case 3: // a rejected change is reported as done
                if (g.outcome() == Operation.Outcome.REJECTED) {
                    Output out = g.op() instanceof Op.Delete ? Output.deleted() : Output.written("m" + i);
                    return replace(ops, i, new GenOp(g.client(), g.op(), g.invoke(), g.response(),
                            Operation.Outcome.OK, out, null, g.point(), null));
                }
                return ops;
            case 4: // an answer is lost: the operation becomes indeterminate
                if (g.outcome() == Operation.Outcome.OK || g.outcome() == Operation.Outcome.REJECTED) {
                    return replace(ops, i, new GenOp(g.client(), g.op(), g.invoke(), g.response(),
                            Operation.Outcome.INDETERMINATE, null, null, g.point(), g.effect()));
                }
                return ops;
            case 5: // a precondition names another version
                if (!made.isEmpty() && (g.op() instanceof Op.Cas || g.op() instanceof Op.Delete)) {
                    String v = made.get(rnd.nextInt(made.size())).version();
                    Op op = g.op() instanceof Op.Cas c ? Op.cas(c.key(), v, c.value()) : Op.deleteIf(g.op().key(), v);
                    return replace(ops, i, new GenOp(g.client(), op, g.invoke(), g.response(), g.outcome(),
                            g.output(), g.observed(), g.point(), g.effect()));
                }
                return ops;
            default: { // the interval shrinks, perhaps past its linearization point
                long half = g.invoke() + (g.response() - g.invoke()) / 2;
                boolean early = rnd.nextBoolean();
                return replace(ops, i, new GenOp(g.client(), g.op(), early ? g.invoke() : half,
                        early ? half : g.response(), g.outcome(), g.output(), g.observed(), g.point(), g.effect()));
            }
        }
    }

    private static List<Integer> okReads(List<GenOp> ops) {
        List<Integer> out = new ArrayList<>();
        for (int i = 0; i < ops.size(); i++) {
            if (ops.get(i).outcome() == Operation.Outcome.OK && ops.get(i).op() instanceof Op.Read) {
                out.add(i);
            }
        }
        return out;
    }

    private static boolean sameKey(GenOp a, GenOp b) {
        return a.op().key().equals(b.op().key());
    }

    private static List<GenOp> replace(List<GenOp> ops, int i, GenOp g) {
        List<GenOp> copy = new ArrayList<>(ops);
        copy.set(i, g);
        return copy;
    }
}
