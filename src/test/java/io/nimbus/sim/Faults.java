package io.nimbus.sim;

/**
 * Per-message faults, each drawn from the simulation's seed: a message is lost with {@code loss}
 * probability, otherwise delivered after a delay in {@code [minDelayMs, maxDelayMs]} (different delays
 * reorder messages), and delivered twice with {@code duplicate} probability.
 */
record Faults(double loss, long minDelayMs, long maxDelayMs, double duplicate) {
    Faults {
        if (loss < 0 || loss > 1 || duplicate < 0 || duplicate > 1 || minDelayMs < 0 || maxDelayMs < minDelayMs) {
            throw new IllegalArgumentException("bad faults " + loss + " " + minDelayMs + " " + maxDelayMs);
        }
    }

    /** A healthy network: no loss, no duplicates, short delays (still some reordering). */
    static Faults none() {
        return new Faults(0, 1, 50, 0);
    }

    /** Lossy: the given loss, delays 1..300 ms (reordering), 2% duplicates. */
    static Faults lossy(double loss) {
        return new Faults(loss, 1, 300, 0.02);
    }

    Faults withLoss(double l) {
        return new Faults(l, minDelayMs, maxDelayMs, duplicate);
    }
}
