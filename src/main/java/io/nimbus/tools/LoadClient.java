package io.nimbus.tools;

import java.io.Closeable;

/**
 * One connection's worth of client for the load tool, one request in flight: the store's API behind three
 * operations. A compare-and-set is {@link #get} (which learns the version) then {@link #casPut} with it.
 */
interface LoadClient extends Closeable {

    /**
     * What one request came back with. {@code status}: a label for the statuses line (the HTTP code, or for
     * etcd's transaction the code and whether its compare held); {@code version}: what a later
     * {@link #casPut} compares with (Nimbus: the ETag; etcd: the key's mod_revision), null if none.
     */
    record Reply(String status, boolean ok, boolean conflict, String version) {
        static Reply ok(String status, String version) {
            return new Reply(status, true, false, version);
        }

        static Reply conflict(String status) {
            return new Reply(status, false, true, null);
        }

        static Reply failed(String status) {
            return new Reply(status, false, false, null);
        }
    }

    /** A blind write of the tool's value. */
    Reply put(int key);

    /** A read at the level the store makes linearizable (Nimbus: the level asked for; etcd: the default range). */
    Reply get(int key);

    /** A write that applies only if the key is still at {@code version}; a lost race is a conflict, not a failure. */
    Reply casPut(int key, String version);

    @Override
    void close();
}
