package io.nimbus.core.kv;

import java.util.List;

/** The condition a write is applied under (HTTP {@code If-Match} / {@code If-None-Match}). */
public sealed interface Precondition {

    boolean holds(KeyState current);

    /** Unconditional. */
    record None() implements Precondition {
        @Override
        public boolean holds(KeyState current) {
            return true;
        }
    }

    /** {@code If-None-Match: *}: only if no live value exists. */
    record Absent() implements Precondition {
        @Override
        public boolean holds(KeyState current) {
            return !current.exists();
        }
    }

    /** {@code If-Match: *}: only if a live value exists. */
    record Present() implements Precondition {
        @Override
        public boolean holds(KeyState current) {
            return current.exists();
        }
    }

    /** {@code If-Match: "v1", "v2"}: only if the live value's version is one of these. */
    record VersionIn(List<Ballot> versions) implements Precondition {
        public VersionIn {
            versions = List.copyOf(versions);
        }

        @Override
        public boolean holds(KeyState current) {
            Ballot live = current.liveVersion();
            return live != null && versions.contains(live);
        }
    }

    Precondition NONE = new None();
}
