package io.nimbus.lin;

/**
 * The sequential specification of one key: a register that is absent or holds a value at a version.
 *
 * <p>A state is a long: {@link #ABSENT}, {@code value << 32 | version} for ids ≥ 0, or {@link #UNSEEN}
 * (a tombstone is just absent: nothing can observe its version). {@code UNSEEN} is the state after an
 * indeterminate write whose version no operation mentions: no read can return that version and no
 * precondition can name it, so its value and which write made it cannot matter, and all such states are
 * one state (which keeps the search small). {@link #step} says what an operation does from a state, or
 * {@link #INVALID} if the operation could not have been linearized there with the outcome it reported:
 * <ul>
 *   <li>OK: its precondition held (a read: the state equals what it returned) and it made its effect;</li>
 *   <li>REJECTED: its precondition did not hold and the state matches what it observed; no effect;</li>
 *   <li>INDETERMINATE: placed here, it took effect, so its precondition held. "It failed" or "it never
 *       happened" is modelled by never placing it, which the search allows.</li>
 * </ul>
 */
final class RegisterModel {
    static final long ABSENT = -1L;
    static final long INVALID = -2L;
    /** Present, at a version no operation mentions; {@link #version} of it is negative, matching no id. */
    static final long UNSEEN = -3L;

    private RegisterModel() {
    }

    static long present(int value, int version) {
        return ((long) value << 32) | (version & 0xffff_ffffL);
    }

    static int value(long state) {
        return (int) (state >>> 32);
    }

    static int version(long state) {
        return (int) state;
    }

    /** The state after {@code op} at {@code state}, or {@link #INVALID}. */
    static long step(long state, ModelOp op) {
        if (op.kind() == ModelOp.Kind.READ) {
            return observes(state, op) ? state : INVALID;
        }
        boolean holds = preconditionHolds(state, op);
        if (op.outcome() == Operation.Outcome.REJECTED) {
            return !holds && observes(state, op) ? state : INVALID;
        }
        if (!holds) {
            return INVALID;
        }
        if (op.kind() == ModelOp.Kind.DELETE) {
            return ABSENT;
        }
        return op.newVersion() == ModelOp.UNSEEN ? UNSEEN : present(op.value(), op.newVersion());
    }

    static boolean preconditionHolds(long state, ModelOp op) {
        boolean isPresent = state != ABSENT;
        return switch (op.kind()) {
            case READ, WRITE -> true;
            case CAS -> isPresent && version(state) == op.expected();
            case CREATE -> !isPresent;
            case DELETE -> isPresent && (op.expected() < 0 || version(state) == op.expected());
        };
    }

    static boolean observes(long state, ModelOp op) {
        return switch (op.seen()) {
            case ModelOp.SEEN_ABSENT -> state == ABSENT;
            case ModelOp.SEEN_VERSION -> state != ABSENT && version(state) == op.seenVersion();
            case ModelOp.SEEN_FOUND -> state == present(op.seenValue(), op.seenVersion());
            default -> true;
        };
    }
}
