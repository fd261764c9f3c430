package io.nimbus.lin;

import java.util.List;

/** Turns the search's dead ends and the resolver's refutations into text a person can follow. */
final class Explanation {
    private Explanation() {
    }

    /** Why the deepest configuration could not go on. */
    static String deadEnd(String key, KeyEncoding enc, ModelOp[] ops, JitSearch.DeadEnd end) {
        List<Operation> all = enc.operations();
        StringBuilder out = new StringBuilder();
        out.append("key \"").append(key).append("\" is not linearizable.\nLongest linearizable prefix: ")
                .append(end.prefix().length).append(" of ").append(all.size()).append(" operations");
        out.append(end.prefix().length == 0 ? " (from the initial state, absent)\n" : ":\n");
        for (int i = 0; i < end.prefix().length; i++) {
            out.append(String.format("  %3d. %s   => %s%n", i + 1, all.get(ops[end.prefix()[i]].index()),
                    enc.describe(end.statesAfter()[i])));
        }
        long state = end.state();
        Operation blocking = all.get(ops[end.blocking()].index());
        out.append("Then ").append(blocking).append(" had to take effect before its response at ")
                .append(blocking.response()).append(", but from state ").append(enc.describe(state))
                .append(" no remaining operation could come next:\n");
        for (int c : end.candidates()) {
            ModelOp op = ops[c];
            out.append("  ").append(all.get(op.index()));
            if (op.indeterminate() && op.newVersion() >= 0) {
                out.append(", taking effect as ").append(enc.versionName(op.newVersion()));
            }
            out.append(": ").append(whyNot(state, op, enc)).append('\n');
        }
        return out.toString();
    }

    /** A version some operation relied on that no operation can have made. */
    static String impossibleVersion(String key, VersionResolver.Orphan orphan) {
        Operation o = orphan.reliedOnBy();
        String value = o.output() instanceof Output.Found f ? " of \"" + f.value() + "\"" : "";
        String how = o.op() instanceof Op.Read || o.outcome() == Operation.Outcome.REJECTED ? "observed" : "expected";
        return "key \"" + key + "\" is not linearizable: " + o + " " + how + " version " + orphan.version()
                + ", which no operation can have made: no acknowledged operation returned it, and no"
                + " indeterminate write" + value + " was invoked by " + o.response() + ".";
    }

    /** Two operations that claim to have made the same version. */
    static String duplicateVersion(String key, String version, Operation first, Operation second) {
        return "key \"" + key + "\" is not linearizable: versions must be unique, but both " + first
                + " and " + second + " made version " + version + ".";
    }

    private static String whyNot(long state, ModelOp op, KeyEncoding enc) {
        String now = enc.describe(state);
        if (RegisterModel.step(state, op) != RegisterModel.INVALID) {
            return "could come next, but every continuation from there failed";
        }
        if (op.kind() == ModelOp.Kind.READ) {
            return "returned what the register did not hold (" + now + ")";
        }
        boolean holds = RegisterModel.preconditionHolds(state, op);
        if (op.outcome() == Operation.Outcome.REJECTED) {
            return holds ? "was rejected, but its precondition held (" + now + ")"
                    : "reported a state the register was not in (" + now + ")";
        }
        String need = switch (op.kind()) {
            case CAS -> "needs version " + enc.versionName(op.expected());
            case CREATE -> "needs the key absent";
            case DELETE -> op.expected() < 0 ? "needs the key present"
                    : "needs version " + enc.versionName(op.expected());
            default -> "cannot apply";
        };
        return need + ", but the register is " + now;
    }
}
