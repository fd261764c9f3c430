package io.nimbus.api;

import io.nimbus.config.NimbusConfig;
import jakarta.enterprise.inject.Instance;
import jakarta.ws.rs.ext.Provider;
import jakarta.ws.rs.ext.ReaderInterceptor;
import jakarta.ws.rs.ext.ReaderInterceptorContext;

import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;

/**
 * Stops reading a body as soon as it passes the value limit, and refuses it with a 413 problem: a
 * chunked body declares no length for {@link BodyLimit} to check, and without this it was read up to
 * {@code quarkus.http.limits.max-body-size} before Nimbus saw it (beyond that, a bare 413).
 */
@Provider
public class BodyLimitInterceptor implements ReaderInterceptor {
    /** Looked up per request: providers are built before the configuration mapping exists. */
    private final Instance<NimbusConfig> config;

    public BodyLimitInterceptor(Instance<NimbusConfig> config) {
        this.config = config;
    }

    @Override
    public Object aroundReadFrom(ReaderInterceptorContext context) throws IOException {
        context.setInputStream(new Bounded(context.getInputStream(), config.get().limits().maxValueBytes()));
        return context.proceed();
    }

    /** Counts what is read and throws once more than {@code max} bytes were. */
    static final class Bounded extends FilterInputStream {
        private final int max;
        private long read;

        Bounded(InputStream in, int max) {
            super(in);
            this.max = max;
        }

        @Override
        public int read() throws IOException {
            int b = super.read();
            if (b >= 0) {
                count(1);
            }
            return b;
        }

        @Override
        public int read(byte[] b, int off, int len) throws IOException {
            int n = super.read(b, off, len);
            if (n > 0) {
                count(n);
            }
            return n;
        }

        @Override
        public long skip(long n) throws IOException {
            long skipped = super.skip(n);
            count(skipped);
            return skipped;
        }

        private void count(long n) {
            read += n;
            if (read > max) {
                throw new ProblemException.ValueTooLarge(-1, max);
            }
        }
    }
}
