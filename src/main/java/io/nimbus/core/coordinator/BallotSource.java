package io.nimbus.core.coordinator;

import io.nimbus.core.kv.Ballot;

/** Where a coordinator's ballots come from (a node's ballot clock): each above every one before and above {@code above}. */
@FunctionalInterface
public interface BallotSource {
    Ballot next(Ballot above);
}
