package io.nimbus.api;

/**
 * A request the API refuses for a reason the client can act on. Each subclass is one problem type
 * with one status; the mapper turns it into an RFC 9457 body. Messages never carry class names.
 */
public abstract sealed class ProblemException extends RuntimeException
        permits ProblemException.BadRequest, ProblemException.KeyNotFound, ProblemException.PreconditionFailed,
        ProblemException.ValueTooLarge, ProblemException.ChangeRefused, ProblemException.ChangeFailed {

    private ProblemException(String detail) {
        super(detail, null, false, false);
    }

    public abstract int status();

    /** Short, stable slug used in the problem {@code type} URI. */
    public abstract String type();

    public abstract String title();

    /** 400: a bad key, header, parameter or body shape. */
    public static final class BadRequest extends ProblemException {
        public BadRequest(String detail) {
            super(detail);
        }

        public int status() {
            return 400;
        }

        public String type() {
            return "bad-request";
        }

        public String title() {
            return "Bad request";
        }
    }

    /** 404: the key has no live value. */
    public static final class KeyNotFound extends ProblemException {
        public KeyNotFound(String key) {
            super("key '" + Keys.printable(key) + "' does not exist (never written, or deleted)");
        }

        public int status() {
            return 404;
        }

        public String type() {
            return "key-not-found";
        }

        public String title() {
            return "No such key";
        }
    }

    /** 412: If-Match / If-None-Match did not hold; carries the current version, if any. */
    public static final class PreconditionFailed extends ProblemException {
        private final String currentEtag;

        public PreconditionFailed(String detail, String currentEtag) {
            super(detail);
            this.currentEtag = currentEtag;
        }

        public String currentEtag() {
            return currentEtag;
        }

        public int status() {
            return 412;
        }

        public String type() {
            return "precondition-failed";
        }

        public String title() {
            return "Precondition failed";
        }
    }

    /** 413: the value is over {@code nimbus.limits.max-value-bytes}. */
    public static final class ValueTooLarge extends ProblemException {
        public ValueTooLarge(long size, int max) {
            super("value is " + (size < 0 ? "larger than the limit" : size + " bytes") + "; the limit is " + max
                    + " bytes (nimbus.limits.max-value-bytes). Store large blobs elsewhere and keep a reference here.");
        }

        public int status() {
            return 413;
        }

        public String type() {
            return "value-too-large";
        }

        public String title() {
            return "Value too large";
        }
    }

    /** 409: a topology operation that does not apply now (another is in progress, the last worker, ...). */
    public static final class ChangeRefused extends ProblemException {
        public ChangeRefused(String detail) {
            super(detail);
        }

        public int status() {
            return 409;
        }

        public String type() {
            return "topology-change-refused";
        }

        public String title() {
            return "Topology change refused";
        }
    }

    /** 503: the topology register could not be changed (no quorum of its electorate, conflicts). */
    public static final class ChangeFailed extends ProblemException {
        public ChangeFailed(String detail) {
            super(detail);
        }

        public int status() {
            return 503;
        }

        public String type() {
            return "topology-change-failed";
        }

        public String title() {
            return "Topology change failed";
        }
    }
}
