package io.nimbus.lin;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * Checks that a history of per-key register operations is linearizable.
 *
 * <pre>{@code
 * History h = new History();
 * h.invoke("c1", Op.write("k", "a"), 0);
 * h.okWritten("c1", "v1", 5);
 * h.invoke("c2", Op.read("k"), 6);
 * h.okFound("c2", "a", "v1", 9);
 * Result r = LinearizabilityChecker.check(h);   // r.isLinearizable()
 * }</pre>
 *
 * <p>Keys are checked independently ({@link KeyCheck}); the first violating key (in key order) gives the
 * explanation. A key whose search exceeds the {@link Limits} is UNKNOWN, never reported as a violation.
 * The budget counts search states, not time, so a verdict never depends on the machine's speed.
 * See the package documentation for how to record a history.
 */
public final class LinearizabilityChecker {

    /**
     * Bounds on the work for one key, and whether to use the quick refutation.
     *
     * @param maxStatesPerKey  configurations the search of one key may record before giving up with
     *                         UNKNOWN (memory grows with it: very roughly 200 bytes each)
     * @param staleVersionPass first look for versions relied on after they were certainly replaced
     *                         ({@link StaleVersionCheck}): sound, and decides the common violations of
     *                         histories too big to search. Off only to test the search alone.
     */
    public record Limits(long maxStatesPerKey, boolean staleVersionPass) {
        public static final Limits DEFAULT = new Limits(1_000_000, true);
        /** {@link #DEFAULT} without the quick refutation: everything is decided by the search. */
        public static final Limits SEARCH_ONLY = new Limits(1_000_000, false);

        public Limits {
            if (maxStatesPerKey < 1) {
                throw new IllegalArgumentException("maxStatesPerKey must be positive");
            }
        }

        /** {@link #DEFAULT} with another state budget. */
        public static Limits ofStates(long maxStatesPerKey) {
            return new Limits(maxStatesPerKey, true);
        }
    }

    private LinearizabilityChecker() {
    }

    /** Checks {@code history} with {@link Limits#DEFAULT}. */
    public static Result check(History history) {
        return check(history, Limits.DEFAULT);
    }

    public static Result check(History history, Limits limits) {
        return check(history.operations(), limits);
    }

    /** Checks a list of operations (as from {@link History#operations()}); ids must be unique. */
    public static Result check(List<Operation> operations, Limits limits) {
        Map<String, List<Operation>> byKey = new TreeMap<>();
        for (Operation o : operations) {
            byKey.computeIfAbsent(o.key(), k -> new ArrayList<>()).add(o);
        }
        List<Result.KeyResult> keys = new ArrayList<>();
        for (Map.Entry<String, List<Operation>> e : byKey.entrySet()) {
            keys.add(KeyCheck.run(e.getKey(), e.getValue(), limits));
        }
        for (Result.KeyResult k : keys) {
            if (k.verdict() == Result.Verdict.VIOLATION) {
                return new Result(Result.Verdict.VIOLATION, k.explanation(), List.copyOf(keys));
            }
        }
        for (Result.KeyResult k : keys) {
            if (k.verdict() == Result.Verdict.UNKNOWN) {
                return new Result(Result.Verdict.UNKNOWN, k.explanation(), List.copyOf(keys));
            }
        }
        long states = keys.stream().mapToLong(Result.KeyResult::statesExplored).sum();
        return new Result(Result.Verdict.LINEARIZABLE, "linearizable: " + operations.size() + " operations on "
                + keys.size() + " keys (" + states + " search states)", List.copyOf(keys));
    }
}
