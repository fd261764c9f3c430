package io.nimbus.storage;

/** The store cannot be opened: locked by another process, damaged, or not ours. The message says what to do. */
public final class StoreOpenException extends RuntimeException {
    public StoreOpenException(String message) {
        super(message);
    }

    public StoreOpenException(String message, Throwable cause) {
        super(message, cause);
    }
}
