package io.nimbus.lin;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Interns one key's values and versions as small ids and turns its operations into {@link ModelOp}s.
 *
 * <p>An indeterminate write never reports its version. {@link #encode} therefore gives it several
 * mutually exclusive <em>alternatives</em>, all with the same {@link ModelOp#index()}: one per orphan it
 * may have made ({@link VersionResolver}), and one that makes a version no other operation mentions
 * ({@link ModelOp#UNSEEN}: no read can return it, no compare-and-set can expect it, exactly like a real
 * version that nobody observed). The search places at most one alternative per operation and makes each
 * orphan at most once. An alternative making an orphan that no read returned writes
 * {@link ModelOp#ANY_VALUE}: nothing can observe its value, so all its candidates lead to one state.
 */
final class KeyEncoding {
    private final List<Operation> ops;
    private final Map<String, Integer> valueIds = new HashMap<>();
    private final List<String> values = new ArrayList<>();
    private final Map<String, Integer> versionIds = new HashMap<>();
    private final List<String> versions = new ArrayList<>();
    private final Map<String, Boolean> valueFree = new HashMap<>();
    private boolean[] valueMaySeen;

    /** {@code ops}: the key's operations that matter (no FAILED ones, no indeterminate reads). */
    KeyEncoding(List<Operation> ops) {
        this.ops = ops;
        for (Operation o : ops) {
            Op op = o.op();
            if (op instanceof Op.Cas c) {
                versionId(c.expectedVersion());
            } else if (op instanceof Op.Delete d && d.expectedVersion() != null) {
                versionId(d.expectedVersion());
            }
            if (o.output() instanceof Output.Written w) {
                versionId(w.version());
            } else if (o.output() instanceof Output.Found f) {
                valueId(f.value());
                versionId(f.version());
            } else if (o.output() instanceof Output.Deleted d && d.tombstoneVersion() != null) {
                versionId(d.tombstoneVersion());
            }
            if (o.observed() instanceof Observed.Version v) {
                versionId(v.version());
            }
            String written = writtenValue(op);
            if (written != null) {
                valueId(written);
            }
        }
    }

    List<Operation> operations() {
        return ops;
    }

    /** Encodes every operation; an indeterminate write becomes one alternative per version it may make. */
    ModelOp[] encode(VersionResolver resolver) {
        Map<Integer, List<String>> mayMake = new HashMap<>();
        valueMaySeen = new boolean[ops.size()];
        for (VersionResolver.Orphan orphan : resolver.orphans()) {
            valueFree.put(orphan.version(), !orphan.valueSeen());
            for (int candidate : orphan.candidates()) {
                mayMake.computeIfAbsent(candidate, c -> new ArrayList<>()).add(orphan.version());
                valueMaySeen[candidate] |= orphan.valueSeen();
            }
        }
        List<ModelOp> out = new ArrayList<>();
        for (int i = 0; i < ops.size(); i++) {
            out.add(encode(i, null));
            for (String version : mayMake.getOrDefault(i, List.of())) {
                out.add(encode(i, version));
            }
        }
        return out.toArray(new ModelOp[0]);
    }

    /** How many version ids there are. */
    int versionIdBound() {
        return versions.size();
    }

    /** A readable form of a state: {@code absent} or {@code "value"@version}. */
    String describe(long state) {
        if (state == RegisterModel.ABSENT) {
            return "absent";
        }
        if (state == RegisterModel.UNSEEN) {
            return "present at a version nobody saw (made by an indeterminate write)";
        }
        int value = RegisterModel.value(state);
        String shown = value == ModelOp.ANY_VALUE ? "(value never read)" : "\"" + values.get(value) + "\"";
        return shown + "@" + versionName(RegisterModel.version(state));
    }

    String versionName(int id) {
        return versions.get(id);
    }

    static String writtenValue(Op op) {
        if (op instanceof Op.Write w) {
            return w.value();
        }
        if (op instanceof Op.Cas c) {
            return c.value();
        }
        if (op instanceof Op.CreateIfAbsent c) {
            return c.value();
        }
        return null;
    }

    private ModelOp encode(int index, String attributedVersion) {
        Operation o = ops.get(index);
        Op op = o.op();
        ModelOp.Kind kind;
        int expected = -1;
        if (op instanceof Op.Read) {
            kind = ModelOp.Kind.READ;
        } else if (op instanceof Op.Write) {
            kind = ModelOp.Kind.WRITE;
        } else if (op instanceof Op.Cas c) {
            kind = ModelOp.Kind.CAS;
            expected = versionIds.get(c.expectedVersion());
        } else if (op instanceof Op.CreateIfAbsent) {
            kind = ModelOp.Kind.CREATE;
        } else {
            kind = ModelOp.Kind.DELETE;
            String e = ((Op.Delete) op).expectedVersion();
            expected = e == null ? -1 : versionIds.get(e);
        }
        String written = writtenValue(op);
        int value = written == null ? -1 : valueIds.get(written);
        int twinClass = ModelOp.ANY_VALUE;
        if (o.outcome() == Operation.Outcome.INDETERMINATE) {
            if (written != null && valueMaySeen[index]) {
                twinClass = value;
            }
            if (attributedVersion != null && valueFree.get(attributedVersion)) {
                value = ModelOp.ANY_VALUE;
            }
        }
        int newVersion = -1;
        if (written != null) {
            if (o.output() instanceof Output.Written w) {
                newVersion = versionIds.get(w.version());
            } else if (o.outcome() == Operation.Outcome.INDETERMINATE) {
                newVersion = attributedVersion != null ? versionIds.get(attributedVersion) : ModelOp.UNSEEN;
            }
        }
        int seen = ModelOp.SEEN_NOTHING;
        int seenValue = -1;
        int seenVersion = -1;
        if (o.output() instanceof Output.Found f) {
            seen = ModelOp.SEEN_FOUND;
            seenValue = valueIds.get(f.value());
            seenVersion = versionIds.get(f.version());
        } else if (o.output() instanceof Output.NotFound || o.observed() instanceof Observed.Absent) {
            seen = ModelOp.SEEN_ABSENT;
        } else if (o.observed() instanceof Observed.Version v) {
            seen = ModelOp.SEEN_VERSION;
            seenVersion = versionIds.get(v.version());
        }
        return new ModelOp(index, kind, o.outcome(), value, expected, newVersion, seen, seenValue, seenVersion,
                twinClass, o.invoke(), o.response());
    }

    private int valueId(String value) {
        return valueIds.computeIfAbsent(value, v -> {
            values.add(v);
            return values.size() - 1;
        });
    }

    private int versionId(String version) {
        return versionIds.computeIfAbsent(version, v -> {
            versions.add(v);
            return versions.size() - 1;
        });
    }
}
