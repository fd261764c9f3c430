package io.nimbus.lin;

import java.util.Objects;

/**
 * What a client asked for: one operation on one key of the per-key register.
 *
 * <p>Values and versions are plain strings. A version is an opaque token chosen by the system (a Paxos
 * ballot, an ETag); the checker only compares versions for equality and learns them from outputs.
 */
public sealed interface Op permits Op.Read, Op.Write, Op.Cas, Op.CreateIfAbsent, Op.Delete {

    /** The key this operation is on; keys are checked independently. */
    String key();

    /** A linearizable read: returns absent, or the value and its version. */
    record Read(String key) implements Op {
        public Read {
            Objects.requireNonNull(key, "key");
        }

        @Override
        public String toString() {
            return "read(" + key + ")";
        }
    }

    /** An unconditional write: always succeeds, returning the new version. */
    record Write(String key, String value) implements Op {
        public Write {
            Objects.requireNonNull(key, "key");
            Objects.requireNonNull(value, "value");
        }

        @Override
        public String toString() {
            return "write(" + key + ", \"" + value + "\")";
        }
    }

    /** Compare-and-set: succeeds iff the key is present with exactly {@code expectedVersion}. */
    record Cas(String key, String expectedVersion, String value) implements Op {
        public Cas {
            Objects.requireNonNull(key, "key");
            Objects.requireNonNull(expectedVersion, "expectedVersion");
            Objects.requireNonNull(value, "value");
        }

        @Override
        public String toString() {
            return "cas(" + key + ", if " + expectedVersion + ", \"" + value + "\")";
        }
    }

    /** Create: succeeds iff the key is absent (never written, or deleted). */
    record CreateIfAbsent(String key, String value) implements Op {
        public CreateIfAbsent {
            Objects.requireNonNull(key, "key");
            Objects.requireNonNull(value, "value");
        }

        @Override
        public String toString() {
            return "create(" + key + ", \"" + value + "\")";
        }
    }

    /**
     * Delete: succeeds iff the key is present and, when {@code expectedVersion} is not null, has that
     * version. Afterwards the key is absent (the store keeps a tombstone, which reads see as absent).
     */
    record Delete(String key, String expectedVersion) implements Op {
        public Delete {
            Objects.requireNonNull(key, "key");
        }

        @Override
        public String toString() {
            return expectedVersion == null ? "delete(" + key + ")" : "delete(" + key + ", if " + expectedVersion + ")";
        }
    }

    static Op read(String key) {
        return new Read(key);
    }

    static Op write(String key, String value) {
        return new Write(key, value);
    }

    static Op cas(String key, String expectedVersion, String value) {
        return new Cas(key, expectedVersion, value);
    }

    static Op createIfAbsent(String key, String value) {
        return new CreateIfAbsent(key, value);
    }

    static Op delete(String key) {
        return new Delete(key, null);
    }

    static Op deleteIf(String key, String expectedVersion) {
        return new Delete(key, Objects.requireNonNull(expectedVersion, "expectedVersion"));
    }
}
