package io.nimbus.lin;

/**
 * One operation of one key's history, encoded for the search: values and versions are small interned ids
 * (see {@link KeyEncoding}), so a register state packs into a long (see {@link RegisterModel}).
 *
 * @param index      position of the operation in the key's operation list
 * @param kind       what it does
 * @param outcome    OK, REJECTED or INDETERMINATE (FAILED operations and indeterminate reads are dropped)
 * @param value      the value it writes (WRITE, CAS, CREATE), else -1
 * @param expected   the version it requires (CAS, conditional DELETE), else -1
 * @param newVersion the version it makes (OK or INDETERMINATE WRITE, CAS, CREATE): an id, or
 *                   {@link #UNSEEN} for a version no other operation mentions; else -1
 * @param seen       what it observed: {@link #SEEN_NOTHING}, {@link #SEEN_ABSENT}, {@link #SEEN_VERSION}
 *                   (present with {@code seenVersion}, any value) or {@link #SEEN_FOUND} (present with
 *                   {@code seenValue} at {@code seenVersion})
 * @param twinClass  for an indeterminate operation: the value it writes if some read may see that value
 *                   made by it, else {@link #ANY_VALUE}; operations that agree on kind, expected version
 *                   and this are interchangeable once invoked (see {@link JitSearch})
 * @param invoke     invocation time
 * @param response   response time, {@link Operation#NO_RESPONSE} if indeterminate
 */
record ModelOp(int index, Kind kind, Operation.Outcome outcome, int value, int expected, int newVersion,
               int seen, int seenValue, int seenVersion, int twinClass, long invoke, long response) {

    enum Kind { READ, WRITE, CAS, CREATE, DELETE }

    /** The {@link #value()} of an alternative whose version no read returns: the value cannot matter. */
    static final int ANY_VALUE = Integer.MAX_VALUE;

    /** {@link #newVersion()} of an indeterminate write whose version nobody observed or expected. */
    static final int UNSEEN = -2;

    static final int SEEN_NOTHING = 0;
    static final int SEEN_ABSENT = 1;
    static final int SEEN_VERSION = 2;
    static final int SEEN_FOUND = 3;

    boolean indeterminate() {
        return outcome == Operation.Outcome.INDETERMINATE;
    }
}
