package io.nimbus.storage;

/**
 * The store hit an error it cannot reason past (a failed commit, a corrupt record) and has stopped
 * taking requests. Writes that were in the failed batch have an unknown outcome.
 */
public final class StoreFailedException extends RuntimeException {
    public StoreFailedException(String message, Throwable cause) {
        super(message, cause);
    }
}
