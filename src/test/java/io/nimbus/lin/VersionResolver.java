package io.nimbus.lin;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Finds one key's <em>orphan</em> versions and which indeterminate writes may have made each.
 *
 * <p>Acknowledged writes tell their version; an indeterminate one (timeout, 504) does not. A version that
 * some operation mentions but no OK operation of the key made is an orphan: a read returned it, a 412
 * reported it, or a compare-and-set / conditional delete expected it. Versions are unique per key, so each
 * orphan was made by at most one operation, and that must be an indeterminate write, compare-and-set or
 * create of the key that
 * <ul>
 *   <li>writes the value that every read of the orphan returned, and</li>
 *   <li>was invoked no later than the first response of an operation that relied on the orphan (it must
 *       take effect first).</li>
 * </ul>
 * Those are the orphan's <em>candidates</em>. The search ({@link KeyEncoding}, {@link JitSearch}) then lets
 * each candidate, when it takes effect, make one of its orphans or a version nobody saw, each orphan at
 * most once.
 *
 * <p>An orphan that a read or a 412 observed, or that an acknowledged operation expected, is
 * <em>mandatory</em>: if it has no candidate at all, the history is refuted at once ({@link #impossible}).
 * Orphans expected only by rejected operations are dropped: making them could only hinder those
 * operations, and is otherwise indistinguishable from making a version nobody saw.
 */
final class VersionResolver {

    /**
     * An orphan version and the indices of the operations that could have made it.
     *
     * @param reliedOnBy the first operation (by response) that relied on it existing, or null
     * @param valueSeen  whether a read returned it (else only its version is ever mentioned, so the value
     *                   its maker wrote cannot matter)
     */
    record Orphan(String version, boolean mandatory, Operation reliedOnBy, List<Integer> candidates,
                  boolean valueSeen) {
    }

    private final List<Orphan> orphans = new ArrayList<>();

    VersionResolver(List<Operation> ops) {
        Set<String> produced = new HashSet<>();
        for (Operation o : ops) {
            if (o.output() instanceof Output.Written w) {
                produced.add(w.version());
            } else if (o.output() instanceof Output.Deleted d && d.tombstoneVersion() != null) {
                produced.add(d.tombstoneVersion());
            }
        }
        Map<String, Reference> refs = new LinkedHashMap<>();
        for (Operation o : ops) {
            if (o.output() instanceof Output.Found f) {
                refs.computeIfAbsent(f.version(), v -> new Reference()).reliedOnBy(o, f.value());
            }
            if (o.observed() instanceof Observed.Version v) {
                refs.computeIfAbsent(v.version(), x -> new Reference()).reliedOnBy(o, null);
            }
            String expected = expectedVersion(o.op());
            if (expected != null && o.outcome() == Operation.Outcome.OK) {
                refs.computeIfAbsent(expected, x -> new Reference()).reliedOnBy(o, null);
            } else if (expected != null && o.outcome() == Operation.Outcome.INDETERMINATE) {
                refs.computeIfAbsent(expected, x -> new Reference());
            }
        }
        for (Map.Entry<String, Reference> e : refs.entrySet()) {
            if (!produced.contains(e.getKey())) {
                Reference r = e.getValue();
                orphans.add(new Orphan(e.getKey(), r.reliedOnBy != null, r.reliedOnBy, candidates(ops, r),
                        !r.values.isEmpty()));
            }
        }
    }

    List<Orphan> orphans() {
        return orphans;
    }

    /** A mandatory orphan that no operation could have made, if any: the history is then a violation. */
    Orphan impossible() {
        for (Orphan o : orphans) {
            if (o.mandatory() && o.candidates().isEmpty()) {
                return o;
            }
        }
        return null;
    }

    static String expectedVersion(Op op) {
        return op instanceof Op.Cas c ? c.expectedVersion() : op instanceof Op.Delete d ? d.expectedVersion() : null;
    }

    private static List<Integer> candidates(List<Operation> ops, Reference r) {
        List<Integer> out = new ArrayList<>();
        for (int i = 0; i < ops.size(); i++) {
            Operation o = ops.get(i);
            String value = KeyEncoding.writtenValue(o.op());
            if (o.outcome() == Operation.Outcome.INDETERMINATE && value != null
                    && (r.values.isEmpty() || r.values.equals(Set.of(value)))
                    && o.invoke() <= r.deadline) {
                out.add(i);
            }
        }
        return out;
    }

    /** Who relies on one version: the values reads saw with it, and the earliest such response. */
    private static final class Reference {
        final Set<String> values = new HashSet<>();
        long deadline = Long.MAX_VALUE;
        Operation reliedOnBy;

        void reliedOnBy(Operation o, String value) {
            if (value != null) {
                values.add(value);
            }
            if (reliedOnBy == null || o.response() < deadline) {
                deadline = o.response();
                reliedOnBy = o;
            }
        }
    }
}
