package io.nimbus.core.coordinator;

import java.util.random.RandomGenerator;

/**
 * How a coordinator retries after a rival ballot pre-empted it: at most {@code attemptsMax} attempts,
 * each after a randomized backoff uniform in [0, min(backoffMaxMs, backoffBaseMs·2^attempt)] — also after
 * finishing a rival's in-flight proposal, since two coordinators finishing each other's could tie forever.
 */
public record RetryPolicy(int attemptsMax, long backoffBaseMs, long backoffMaxMs) {
    public RetryPolicy {
        if (attemptsMax < 1 || backoffBaseMs < 0 || backoffMaxMs < 0) {
            throw new IllegalArgumentException("attempts >= 1 and backoffs >= 0, got " + attemptsMax + ", "
                    + backoffBaseMs + ", " + backoffMaxMs);
        }
    }

    /** The wait before attempt {@code attempt + 1} (attempt counts from 1). */
    public long backoffMs(int attempt, RandomGenerator random) {
        long cap = Math.min(backoffMaxMs, backoffBaseMs << Math.min(attempt, 20));
        return cap <= 0 ? 0 : random.nextLong(cap + 1);
    }
}
