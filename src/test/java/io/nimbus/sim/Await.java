package io.nimbus.sim;

import java.util.function.BooleanSupplier;
import java.util.function.Supplier;

/** Waiting for liveness conditions in a test, failing with the seed and step when they do not come. */
final class Await {
    private Await() {
    }

    /**
     * Runs {@code sim} until {@code condition} holds (checked every {@code everyMs}); returns the
     * elapsed simulated ms, or fails with {@code why} if it did not hold within {@code maxMs}.
     */
    static long until(Simulation sim, BooleanSupplier condition, long maxMs, long everyMs, String what,
                      Supplier<String> why) {
        long start = sim.now();
        long t = sim.runUntil(condition, maxMs, everyMs);
        if (t < 0) {
            throw sim.failure(what + " did not happen within " + maxMs + " ms: " + why.get());
        }
        return t - start;
    }

    /** Waits (checking every round) until converged; returns the rounds it took. */
    static long converged(Simulation sim, int maxRounds, String what) {
        long interval = sim.config.intervalMs;
        return until(sim, () -> Views.converged(sim), maxRounds * interval, interval, what,
                () -> Views.divergence(sim)) / interval;
    }
}
