package io.nimbus.lin;

import java.util.List;

/**
 * The verdict on a whole history, and on each key.
 *
 * @param verdict     {@link Verdict#VIOLATION} if any key is not linearizable; else {@link Verdict#UNKNOWN}
 *                    if any key could not be decided within the limits; else {@link Verdict#LINEARIZABLE}
 * @param explanation a readable account: the first violation's explanation, the reason for UNKNOWN, or a
 *                    summary
 * @param keys        one result per key, in key order
 */
public record Result(Verdict verdict, String explanation, List<KeyResult> keys) {

    public enum Verdict {
        LINEARIZABLE,
        /** Definitely not linearizable: no order of the operations explains what the clients saw. */
        VIOLATION,
        /** Not decided: the search hit {@link LinearizabilityChecker.Limits}. Not a violation. */
        UNKNOWN
    }

    /**
     * The verdict on one key.
     *
     * @param statesExplored configurations the search recorded (all attempts added up)
     * @param longestPrefix  for a violation: the longest sequence of operations that could be linearized
     *                       (empty if the history was refuted before searching)
     * @param blocking       for a violation: the operation whose response came when nothing more could be
     *                       linearized (null if refuted before searching)
     */
    public record KeyResult(String key, Verdict verdict, String explanation, long statesExplored,
                            List<Operation> longestPrefix, Operation blocking) {
    }

    public boolean isLinearizable() {
        return verdict == Verdict.LINEARIZABLE;
    }

    public boolean isViolation() {
        return verdict == Verdict.VIOLATION;
    }

    public boolean isUnknown() {
        return verdict == Verdict.UNKNOWN;
    }

    @Override
    public String toString() {
        return verdict + ": " + explanation;
    }
}
