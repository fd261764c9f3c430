package io.nimbus.lin;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Checks one key's sub-history. Linearizability is local (Herlihy &amp; Wing): a history is linearizable
 * iff each key's sub-history is, so keys are checked one by one.
 *
 * <p>Steps: drop what cannot matter (FAILED operations, indeterminate reads); refute at once if two
 * operations made the same version, an observed version cannot have been made by anyone
 * ({@link VersionResolver}), or a version was relied on after it was certainly replaced
 * ({@link StaleVersionCheck}); then search ({@link JitSearch}). After a quick refutation the search still
 * runs, on a small budget, to show the longest linearizable prefix.
 */
final class KeyCheck {
    /** States the search may use, after a quick refutation, to find the longest linearizable prefix. */
    private static final long PREFIX_BUDGET = 200_000;

    private KeyCheck() {
    }

    static Result.KeyResult run(String key, List<Operation> keyOps, LinearizabilityChecker.Limits limits) {
        List<Operation> ops = new ArrayList<>();
        for (Operation o : keyOps) {
            boolean matters = o.mustTakeEffect()
                    || (o.outcome() == Operation.Outcome.INDETERMINATE && !(o.op() instanceof Op.Read));
            if (matters) {
                ops.add(o);
            }
        }
        Result.KeyResult duplicate = duplicateVersion(key, ops);
        if (duplicate != null) {
            return duplicate;
        }
        VersionResolver resolver = new VersionResolver(ops);
        VersionResolver.Orphan impossible = resolver.impossible();
        if (impossible != null) {
            return refuted(key, Explanation.impossibleVersion(key, impossible));
        }
        StaleVersionCheck.Finding stale = limits.staleVersionPass() ? StaleVersionCheck.find(ops) : null;
        KeyEncoding enc = new KeyEncoding(ops);
        ModelOp[] encoded = enc.encode(resolver);
        long budget = stale == null ? limits.maxStatesPerKey() : Math.min(limits.maxStatesPerKey(), PREFIX_BUDGET);
        JitSearch.Outcome outcome = new JitSearch(encoded, ops.size(), enc.versionIdBound(), budget).run();
        if (stale != null) {
            String why = stale.explain(key);
            if (outcome.verdict() != JitSearch.Verdict.VIOLATION) {
                return new Result.KeyResult(key, Result.Verdict.VIOLATION, why + "\n(The search for the longest"
                        + " linearizable prefix gave up after " + outcome.states() + " states.)", outcome.states(),
                        List.of(), stale.reader());
            }
            return violation(key, ops, enc, encoded, outcome, why + "\n");
        }
        switch (outcome.verdict()) {
            case LINEARIZABLE:
                return new Result.KeyResult(key, Result.Verdict.LINEARIZABLE, "linearizable", outcome.states(),
                        List.of(), null);
            case BUDGET:
                JitSearch.DeadEnd stuck = outcome.deepest();
                String where = stuck == null ? "" : "; the longest linearizable prefix it found has "
                        + stuck.prefix().length + " of " + ops.size() + " operations, up to "
                        + ops.get(encoded[stuck.blocking()].index());
                return new Result.KeyResult(key, Result.Verdict.UNKNOWN, "key \"" + key + "\" undecided: the search"
                        + " gave up after " + outcome.states() + " states" + where, outcome.states(), List.of(), null);
            default:
                return violation(key, ops, enc, encoded, outcome, "");
        }
    }

    private static Result.KeyResult violation(String key, List<Operation> ops, KeyEncoding enc, ModelOp[] encoded,
                                              JitSearch.Outcome outcome, String preface) {
        JitSearch.DeadEnd end = outcome.deepest();
        List<Operation> prefix = Arrays.stream(end.prefix()).mapToObj(k -> ops.get(encoded[k].index())).toList();
        return new Result.KeyResult(key, Result.Verdict.VIOLATION, preface + Explanation.deadEnd(key, enc, encoded, end),
                outcome.states(), prefix, ops.get(encoded[end.blocking()].index()));
    }

    private static Result.KeyResult duplicateVersion(String key, List<Operation> ops) {
        Map<String, Operation> madeBy = new HashMap<>();
        for (Operation o : ops) {
            String made = o.output() instanceof Output.Written w ? w.version()
                    : o.output() instanceof Output.Deleted d ? d.tombstoneVersion() : null;
            if (made != null) {
                Operation before = madeBy.putIfAbsent(made, o);
                if (before != null) {
                    return refuted(key, Explanation.duplicateVersion(key, made, before, o));
                }
            }
        }
        return null;
    }

    private static Result.KeyResult refuted(String key, String explanation) {
        return new Result.KeyResult(key, Result.Verdict.VIOLATION, explanation, 0, List.of(), null);
    }
}
