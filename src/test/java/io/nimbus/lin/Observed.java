package io.nimbus.lin;

import java.util.Objects;

/**
 * What a rejected operation (412 precondition failed, 404 not found) saw when its precondition did not
 * hold: the key absent, the key present with some version (the 412's ETag), or nothing said.
 *
 * <p>A tombstone is reported as {@link #absent()}: reads and preconditions treat a deleted key as absent.
 */
public sealed interface Observed permits Observed.Absent, Observed.Version, Observed.Unknown {

    record Absent() implements Observed {
        @Override
        public String toString() {
            return "absent";
        }
    }

    record Version(String version) implements Observed {
        public Version {
            Objects.requireNonNull(version, "version");
        }

        @Override
        public String toString() {
            return "current " + version;
        }
    }

    record Unknown() implements Observed {
        @Override
        public String toString() {
            return "current unknown";
        }
    }

    static Observed absent() {
        return new Absent();
    }

    static Observed version(String version) {
        return new Version(version);
    }

    static Observed unknown() {
        return new Unknown();
    }
}
