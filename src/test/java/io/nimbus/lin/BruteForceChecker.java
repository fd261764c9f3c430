package io.nimbus.lin;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * An independent oracle for tiny histories: tries every order of the operations, over all keys at once.
 *
 * <p>It shares nothing with the checker but the history types. It does not split by key, keeps no memo,
 * and handles the unknown versions of indeterminate writes by <em>binding on first comparison</em> rather
 * than by attributing orphans up front: an indeterminate write leaves a placeholder version {@code ?#id};
 * the first time a read, a 412 or a precondition compares it with a concrete version V, the search
 * branches into "it is V" (allowed only if no acknowledged operation made V and V is not bound to another
 * write) and "it is not V" (remembered, so that it cannot be V later).
 *
 * <p>Exponential: meant for at most about 8 operations.
 */
final class BruteForceChecker {
    private final List<Operation> ops = new ArrayList<>();
    private final Map<String, Set<String>> known = new HashMap<>();

    private BruteForceChecker(List<Operation> all) {
        for (Operation o : all) {
            boolean matters = o.outcome() == Operation.Outcome.OK || o.outcome() == Operation.Outcome.REJECTED
                    || (o.outcome() == Operation.Outcome.INDETERMINATE && !(o.op() instanceof Op.Read));
            if (matters) {
                ops.add(o);
            }
            String made = made(o);
            if (made != null) {
                known.computeIfAbsent(o.key(), k -> new HashSet<>()).add(made);
            }
        }
        if (ops.size() > 12) {
            throw new IllegalArgumentException("too many operations for brute force: " + ops.size());
        }
    }

    static boolean isLinearizable(History history) {
        return isLinearizable(history.operations());
    }

    static boolean isLinearizable(List<Operation> operations) {
        BruteForceChecker b = new BruteForceChecker(operations);
        Set<String> versions = new HashSet<>();
        for (Operation o : operations) {
            String made = made(o);
            if (made != null && !versions.add(o.key() + "/" + made)) {
                return false; // two operations made one version of one key
            }
        }
        return b.search((1 << b.ops.size()) - 1, new HashMap<>(), new Env(Map.of(), Set.of()));
    }

    /** The version {@code o} says it made, if any. Versions are unique per key (not across keys). */
    private static String made(Operation o) {
        return o.output() instanceof Output.Written w ? w.version()
                : o.output() instanceof Output.Deleted d ? d.tombstoneVersion() : null;
    }

    /** The register of one key: value null means absent. */
    private record Cell(String value, String version) {
    }

    /** Bindings of placeholder versions, and pairs known not to be equal. */
    private record Env(Map<String, String> bound, Set<String> unequal) {
        String resolve(String version) {
            return bound.getOrDefault(version, version);
        }

        /**
         * Each way {@code version == wanted} or {@code != wanted} can come out, with the updated env.
         * A placeholder ({@code ?#id/key}) can become {@code wanted} only if no acknowledged operation
         * of its key made {@code wanted} and no other placeholder of its key is bound to it.
         */
        List<Env> compare(String version, String wanted, boolean equal, Set<String> known) {
            String v = resolve(version);
            if (!v.startsWith("?#")) {
                return v.equals(wanted) == equal ? List.of(this) : List.of();
            }
            String pair = v + "=" + wanted;
            if (!equal) {
                Set<String> u = new HashSet<>(unequal);
                u.add(pair);
                return List.of(new Env(bound, u));
            }
            String key = v.substring(v.indexOf('/') + 1);
            boolean taken = bound.entrySet().stream()
                    .anyMatch(e -> e.getValue().equals(wanted) && e.getKey().endsWith("/" + key));
            if (known.contains(wanted) || taken || unequal.contains(pair)) {
                return List.of();
            }
            Map<String, String> b = new HashMap<>(bound);
            b.put(v, wanted);
            return List.of(new Env(b, unequal));
        }
    }

    private boolean search(int remaining, Map<String, Cell> store, Env env) {
        boolean anyAcked = false;
        for (int i = 0; i < ops.size(); i++) {
            if ((remaining & (1 << i)) != 0 && ops.get(i).mustTakeEffect()) {
                anyAcked = true;
            }
        }
        if (!anyAcked) {
            return true; // the indeterminate operations left never happened
        }
        for (int i = 0; i < ops.size(); i++) {
            if ((remaining & (1 << i)) == 0 || !minimal(i, remaining)) {
                continue;
            }
            Operation o = ops.get(i);
            int rest = remaining & ~(1 << i);
            if (o.outcome() == Operation.Outcome.INDETERMINATE && search(rest, store, env)) {
                return true; // it never took effect
            }
            Cell cell = store.getOrDefault(o.key(), new Cell(null, null));
            for (Next next : apply(o, cell, env)) {
                Map<String, Cell> s = new HashMap<>(store);
                s.put(o.key(), next.cell());
                if (search(rest, s, next.env())) {
                    return true;
                }
            }
        }
        return false;
    }

    private Set<String> knownOf(String key) {
        return known.getOrDefault(key, Set.of());
    }

    /** No remaining operation responded before {@code i} was invoked. */
    private boolean minimal(int i, int remaining) {
        for (int j = 0; j < ops.size(); j++) {
            if (j != i && (remaining & (1 << j)) != 0 && ops.get(j).response() < ops.get(i).invoke()) {
                return false;
            }
        }
        return true;
    }

    /** One way an operation can take effect: the key's next cell and the bindings it needed. */
    private record Next(Cell cell, Env env) {
    }

    /** Every (next cell, env) in which {@code o} can take effect at {@code cell} with its outcome. */
    private List<Next> apply(Operation o, Cell cell, Env env) {
        List<Next> out = new ArrayList<>();
        boolean present = cell.value() != null;
        Op op = o.op();
        if (op instanceof Op.Read) {
            if (o.output() instanceof Output.Found f) {
                if (present && cell.value().equals(f.value())) {
                    for (Env e : env.compare(cell.version(), f.version(), true, knownOf(o.key()))) {
                        out.add(new Next(cell, e));
                    }
                }
            } else if (!present) {
                out.add(new Next(cell, env));
            }
            return out;
        }
        String newVersion = o.output() instanceof Output.Written w ? w.version() : "?#" + o.id() + "/" + o.key();
        Cell written = op instanceof Op.Delete ? new Cell(null, null)
                : new Cell(KeyEncoding.writtenValue(op), newVersion);
        for (boolean holds : new boolean[] {true, false}) {
            for (Env e : precondition(op, cell, env, holds)) {
                if (o.outcome() != Operation.Outcome.REJECTED) {
                    if (holds) {
                        out.add(new Next(written, e));
                    }
                } else if (!holds) {
                    for (Env e2 : observation(o.key(), o.observed(), cell, e)) {
                        out.add(new Next(cell, e2));
                    }
                }
            }
        }
        return out;
    }

    private List<Env> precondition(Op op, Cell cell, Env env, boolean holds) {
        boolean present = cell.value() != null;
        String expected = null;
        if (op instanceof Op.Write) {
            return holds ? List.of(env) : List.of();
        } else if (op instanceof Op.CreateIfAbsent) {
            return present != holds ? List.of(env) : List.of();
        } else if (op instanceof Op.Cas c) {
            expected = c.expectedVersion();
        } else {
            expected = ((Op.Delete) op).expectedVersion();
            if (expected == null) {
                return present == holds ? List.of(env) : List.of();
            }
        }
        if (!present) {
            return holds ? List.of() : List.of(env);
        }
        return env.compare(cell.version(), expected, holds, knownOf(op.key()));
    }

    private List<Env> observation(String key, Observed observed, Cell cell, Env env) {
        if (observed instanceof Observed.Absent) {
            return cell.value() == null ? List.of(env) : List.of();
        }
        if (observed instanceof Observed.Version v) {
            return cell.value() == null ? List.of() : env.compare(cell.version(), v.version(), true, knownOf(key));
        }
        return List.of(env);
    }
}
