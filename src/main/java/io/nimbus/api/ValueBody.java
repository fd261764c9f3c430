package io.nimbus.api;

import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.http.HttpVersion;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;

/**
 * Reads a PUT's value from the request itself, counting as it goes: a body that passes
 * {@code nimbus.limits.max-value-bytes} fails the read with {@link ProblemException.ValueTooLarge} (413) at
 * that chunk, whatever its framing. A declared Content-Length over the limit never gets here ({@link BodyLimit}
 * refuses it before any byte is read); a chunked body declares nothing, so this is its limit.
 *
 * <p>Why not RESTEasy's entity parameter: its body reader has no limit of its own short of
 * {@code quarkus.http.limits.max-body-size} (a bare 413), and bounding it with a {@code ReaderInterceptor} sent
 * every PUT down RESTEasy Reactive's interceptor path, which re-read the method's parameter annotations by
 * reflection per request (7.8% of the event loops' samples under writes). What follows the failure (the rest
 * of a body still arriving) is drained or the connection closed by {@link HttpEdge}.
 */
final class ValueBody {
    private static final byte[] EMPTY = new byte[0];
    private static final int INITIAL_BYTES_MAX = 64 * 1024;

    private ValueBody() {
    }

    /** The whole body (empty if there is none), or a failure: too large, or the connection broke. */
    static CompletionStage<byte[]> read(HttpServerRequest request, int maxBytes) {
        if (request.isEnded()) {
            return CompletableFuture.completedFuture(EMPTY);
        }
        CompletableFuture<byte[]> out = new CompletableFuture<>();
        long declared = BodyLimit.declaredLength(request.getHeader(HttpHeaders.CONTENT_LENGTH));
        // grows as the body arrives: a client that declares a length and sends nothing holds no memory for it
        Buffer body = Buffer.buffer((int) Math.min(Math.max(declared, 0), Math.min(maxBytes, INITIAL_BYTES_MAX)));
        // the connection closed or broke mid-body (or the body time-out closed it): nothing is written, and the
        // answer (if the connection still takes one) says so; no internal error to log
        request.exceptionHandler(e -> out.completeExceptionally(new ProblemException.BadRequest("the request body "
                + "did not arrive whole (" + e.getMessage() + "); nothing was written")));
        request.handler(chunk -> {
            if (out.isDone()) {
                return;
            }
            if ((long) body.length() + chunk.length() > maxBytes) {
                out.completeExceptionally(new ProblemException.ValueTooLarge(-1, maxBytes));
                return;
            }
            body.appendBuffer(chunk);
        });
        request.endHandler(end -> out.complete(body.length() == 0 ? EMPTY : body.getBytes()));
        if (request.version() == HttpVersion.HTTP_1_1
                && "100-continue".equalsIgnoreCase(request.getHeader(HttpHeaders.EXPECT))) {
            request.response().writeContinue(); // the client waits for this before it sends the body
        }
        request.resume();
        return out;
    }
}
