package io.nimbus.storage;

/**
 * The store refused a write because the disk is (nearly) full: the write was not applied and will not
 * apply. Safe to retry once space is freed; the store resumes by itself.
 */
public final class StoreDiskFullException extends RuntimeException {
    public StoreDiskFullException(String message) {
        super(message);
    }
}
