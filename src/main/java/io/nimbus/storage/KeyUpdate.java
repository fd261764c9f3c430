package io.nimbus.storage;

import io.nimbus.core.kv.Ballot;
import io.nimbus.core.kv.KeyState;
import io.nimbus.core.paxos.Acceptor;

import java.util.function.Supplier;

/**
 * A change to one key's registers, decided on the store's writer thread against the current state
 * (including earlier changes in the same batch). It returns the next state — the same object when
 * nothing changes — and the reply, which is released only after the next state is durable.
 * {@code freshBallot} issues a new ballot from this node's clock for updates that need a version.
 */
@FunctionalInterface
public interface KeyUpdate<R> {
    Acceptor.Transition<R> apply(KeyState current, Supplier<Ballot> freshBallot);
}
