package io.nimbus.it;

import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;

/** Bounded polling: every wait in these tests goes through here and ends by a deadline. */
final class Await {
    private static final long POLL_MS = 50;

    /** A condition that may throw (a node not answering yet counts as "not yet"). */
    @FunctionalInterface
    interface Check {
        boolean holds() throws Exception;
    }

    private Await() {
    }

    /**
     * Polls {@code check} until it holds and returns the milliseconds it took; fails after
     * {@code timeout} with {@code what}, the last exception and {@code diagnostics}.
     */
    static long until(String what, Duration timeout, Check check, Supplier<String> diagnostics)
            throws InterruptedException {
        long start = System.nanoTime();
        long deadline = start + timeout.toNanos();
        Exception last = null;
        while (true) {
            try {
                if (check.holds()) {
                    return TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
                }
            } catch (InterruptedException e) {
                throw e;
            } catch (Exception e) {
                last = e;
            }
            if (System.nanoTime() > deadline) {
                throw new AssertionError("not within " + timeout + ": " + what
                        + (last == null ? "" : "\nlast error: " + last) + "\n" + diagnostics.get());
            }
            Thread.sleep(POLL_MS);
        }
    }

    /**
     * Checks {@code invariant} repeatedly for {@code period}; fails at the first time it does not hold
     * (an exception from the check counts as a failure too).
     */
    static void during(String what, Duration period, Check invariant, Supplier<String> diagnostics)
            throws InterruptedException {
        long deadline = System.nanoTime() + period.toNanos();
        int checks = 0;
        do {
            boolean holds;
            Exception error = null;
            try {
                holds = invariant.holds();
            } catch (InterruptedException e) {
                throw e;
            } catch (Exception e) {
                holds = false;
                error = e;
            }
            if (!holds) {
                throw new AssertionError("did not hold throughout " + period + " (failed at check " + (checks + 1)
                        + "): " + what + (error == null ? "" : "\nerror: " + error) + "\n" + diagnostics.get());
            }
            checks++;
            Thread.sleep(4 * POLL_MS);
        } while (System.nanoTime() < deadline);
    }
}
