package io.nimbus.lin;

import java.util.Objects;

/** What a successful (OK) operation returned. */
public sealed interface Output permits Output.Found, Output.NotFound, Output.Written, Output.Deleted {

    /** A read found the key: its value and version. */
    record Found(String value, String version) implements Output {
        public Found {
            Objects.requireNonNull(value, "value");
            Objects.requireNonNull(version, "version");
        }

        @Override
        public String toString() {
            return "\"" + value + "\"@" + version;
        }
    }

    /** A read found the key absent (never written, or deleted). */
    record NotFound() implements Output {
        @Override
        public String toString() {
            return "absent";
        }
    }

    /** A write, compare-and-set or create took effect and made this new version. */
    record Written(String version) implements Output {
        public Written {
            Objects.requireNonNull(version, "version");
        }

        @Override
        public String toString() {
            return "new version " + version;
        }
    }

    /**
     * A delete took effect. {@code tombstoneVersion} is the tombstone's version when the system reports one,
     * else null; no read can observe it, so it only serves to tell that no write made that version.
     */
    record Deleted(String tombstoneVersion) implements Output {
        @Override
        public String toString() {
            return tombstoneVersion == null ? "deleted" : "deleted, tombstone " + tombstoneVersion;
        }
    }

    static Output found(String value, String version) {
        return new Found(value, version);
    }

    static Output notFound() {
        return new NotFound();
    }

    static Output written(String version) {
        return new Written(version);
    }

    static Output deleted() {
        return new Deleted(null);
    }
}
