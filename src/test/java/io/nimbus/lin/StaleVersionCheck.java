package io.nimbus.lin;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * A quick, sound refutation that needs no search: a version relied on after it was certainly replaced.
 *
 * <p>If an acknowledged operation W1 made version V, and an acknowledged change W2 of the key (write,
 * compare-and-set, create or delete) was invoked after W1 responded and responded before an operation R
 * was invoked, then every linearization orders W1, W2, R, and after W2 the key can never hold V again
 * (versions are unique, and W1 made V once). So R cannot read V, see V in a 412, or succeed expecting V.
 * This finds the usual stale reads and lost updates in O(n log n) even when the full search is too big.
 */
final class StaleVersionCheck {
    private StaleVersionCheck() {
    }

    /** A version relied on by {@code reader} after {@code replacer} certainly replaced what {@code maker} made. */
    record Finding(String version, Operation maker, Operation replacer, Operation reader) {
        String explain(String key) {
            return "key \"" + key + "\" is not linearizable: " + reader + " relies on version " + version
                    + ", but " + maker + " made it and " + replacer + " changed the key after " + maker.response()
                    + " and before " + reader.invoke() + ", so the key could not hold " + version + " again.";
        }
    }

    /** The first finding (by reader invocation), or null. {@code ops}: one key's operations. */
    static Finding find(List<Operation> ops) {
        Map<String, Operation> makers = new HashMap<>();
        List<Operation> changes = new ArrayList<>();
        for (Operation o : ops) {
            if (o.outcome() == Operation.Outcome.OK && !(o.op() instanceof Op.Read)) {
                changes.add(o);
                if (o.output() instanceof Output.Written w) {
                    makers.put(w.version(), o);
                }
            }
        }
        changes.sort(Comparator.comparingLong(Operation::invoke));
        // earliestEnd[i]: the change with the smallest response among changes[i..]
        Operation[] earliestEnd = new Operation[changes.size() + 1];
        for (int i = changes.size() - 1; i >= 0; i--) {
            Operation next = earliestEnd[i + 1];
            earliestEnd[i] = next == null || changes.get(i).response() < next.response() ? changes.get(i) : next;
        }
        List<Operation> byInvoke = new ArrayList<>(ops);
        byInvoke.sort(Comparator.comparingLong(Operation::invoke));
        for (Operation reader : byInvoke) {
            String version = reliedOn(reader);
            Operation maker = version == null ? null : makers.get(version);
            if (maker == null) {
                continue;
            }
            Operation replacer = earliestEnd[firstInvokedAfter(changes, maker.response())];
            if (replacer != null && replacer.response() < reader.invoke()) {
                return new Finding(version, maker, replacer, reader);
            }
        }
        return null;
    }

    /** The version {@code o} needs the key to hold when it takes effect, if any. */
    private static String reliedOn(Operation o) {
        if (o.output() instanceof Output.Found f) {
            return f.version();
        }
        if (o.observed() instanceof Observed.Version v) {
            return v.version();
        }
        return o.outcome() == Operation.Outcome.OK ? VersionResolver.expectedVersion(o.op()) : null;
    }

    /** The index of the first change invoked strictly after {@code time} (changes sorted by invoke). */
    private static int firstInvokedAfter(List<Operation> changes, long time) {
        int lo = 0;
        int hi = changes.size();
        while (lo < hi) {
            int mid = (lo + hi) >>> 1;
            if (changes.get(mid).invoke() > time) {
                hi = mid;
            } else {
                lo = mid + 1;
            }
        }
        return lo;
    }
}
