package io.nimbus.lin;

/**
 * One operation of a history: who invoked what, when, and how it ended.
 *
 * @param id       its position in invocation order (unique in its history; used in explanations as #id)
 * @param client   the client (process) that invoked it
 * @param op       what was asked
 * @param invoke   invocation time
 * @param response response time, or {@link #NO_RESPONSE} for an {@link Outcome#INDETERMINATE} operation
 * @param outcome  how it ended
 * @param output   for {@link Outcome#OK}: what it returned; else null
 * @param observed for {@link Outcome#REJECTED}: what it saw instead of its precondition; else null
 */
public record Operation(int id, String client, Op op, long invoke, long response, Outcome outcome,
                        Output output, Observed observed) {

    /** The response time of an operation that never answered. */
    public static final long NO_RESPONSE = Long.MAX_VALUE;

    /** How an operation ended. */
    public enum Outcome {
        /** It took effect, once, between invoke and response, and returned {@link #output()}. */
        OK,
        /**
         * Its precondition did not hold (412, or 404 for a delete): it changed nothing, and at some point
         * between invoke and response the register was as {@link #observed()} says.
         */
        REJECTED,
        /** It definitely had no effect and tells nothing about the state (503 before it ran): ignored. */
        FAILED,
        /** Unknown (timeout, 504): it took effect once at some time after invoke, or never. */
        INDETERMINATE
    }

    public String key() {
        return op.key();
    }

    /** Whether the checker must place this operation in every linearization (OK or REJECTED). */
    public boolean mustTakeEffect() {
        return outcome == Outcome.OK || outcome == Outcome.REJECTED;
    }

    @Override
    public String toString() {
        String end = response == NO_RESPONSE ? "..." : Long.toString(response);
        String result = switch (outcome) {
            case OK -> "ok " + output;
            case REJECTED -> "rejected (" + observed + ")";
            case FAILED -> "failed, no effect";
            case INDETERMINATE -> "indeterminate";
        };
        return "#" + id + " " + client + " " + op + " [" + invoke + ", " + end + "] -> " + result;
    }
}
