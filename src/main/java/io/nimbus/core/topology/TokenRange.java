package io.nimbus.core.topology;

/**
 * The ring tokens after {@code start} up to and including {@code end}, wrapping past the largest token;
 * {@code start == end} is the whole ring.
 */
public record TokenRange(long start, long end) {
    public boolean contains(long token) {
        if (start < end) {
            return token > start && token <= end;
        }
        return token > start || token <= end;
    }

    @Override
    public String toString() {
        return "(" + start + ", " + end + "]";
    }
}
