package io.nimbus.api;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.nimbus.core.coordinator.Result;
import io.nimbus.node.RequestFailedException;
import io.nimbus.storage.StoreDiskFullException;
import io.nimbus.storage.StoreFailedException;
import io.nimbus.storage.StoreOverloadedException;
import io.vertx.core.http.HttpServerRequest;
import jakarta.ws.rs.WebApplicationException;
import jakarta.ws.rs.core.HttpHeaders;
import jakarta.ws.rs.core.Response;
import org.jboss.logging.Logger;
import org.jboss.resteasy.reactive.server.ServerExceptionMapper;

import java.util.UUID;

/**
 * One mapper per narrow exception, each answering an RFC 9457 problem that says what to do.
 * No mapper ever puts a class name or stack trace in a response.
 */
public class ProblemMappers {
    private static final Logger LOG = Logger.getLogger(ProblemMappers.class);

    private final ObjectMapper json;

    public ProblemMappers(ObjectMapper json) {
        this.json = json;
    }

    @ServerExceptionMapper
    public Response problem(ProblemException e, HttpServerRequest request) {
        Response.ResponseBuilder r = builder(e.status(), e.type(), e.title(), e.getMessage(), request);
        if (e instanceof ProblemException.PreconditionFailed pf && pf.currentEtag() != null) {
            r.header(HttpHeaders.ETAG, pf.currentEtag());
        }
        return r.build();
    }

    @ServerExceptionMapper
    public Response overloaded(StoreOverloadedException e, HttpServerRequest request) {
        return builder(503, "overloaded", "Overloaded", "this node has " + e.queued() + " writes waiting for disk "
                + "(nimbus.limits.write-queue-max); the write was not applied, retry after the Retry-After delay", request)
                .header(HttpHeaders.RETRY_AFTER, "1").build();
    }

    /** A request that ended without an answer: the one place its {@link Result} becomes a status. */
    @ServerExceptionMapper
    public Response failed(RequestFailedException e, HttpServerRequest request) {
        Result r = e.result();
        if (r instanceof Result.NotReady n) {
            return builder(503, "node-not-ready", "Node not ready", n.why()
                    + ". Nothing was written; retry after the Retry-After delay, or through another node.", request)
                    .header(HttpHeaders.RETRY_AFTER, "1").build();
        }
        if (r instanceof Result.NotEnoughReplicas n) {
            return builder(503, "not-enough-replicas", "Not enough replicas", n.level() + " needs " + n.needed()
                    + " replica(s), " + n.reachable() + " reachable: " + n.why()
                    + ". Nothing was written; retry later or at a lower consistency level.", request)
                    .header(HttpHeaders.RETRY_AFTER, "1").build();
        }
        if (r instanceof Result.Unavailable u) {
            return builder(503, "replicas-unavailable", "Replicas unavailable", u.why() + ". It is safe to retry.", request)
                    .header(HttpHeaders.RETRY_AFTER, "1").build();
        }
        if (r instanceof Result.Overloaded o) {
            return builder(503, "peer-overloaded", "Peer overloaded", o.why() + ". This node holds back from "
                    + String.join(", ", o.peers()) + ": it already has as many requests in flight to "
                    + (o.peers().size() == 1 ? "it" : "them") + " as nimbus.peer.bulkhead.calls-max and queue-max allow. "
                    + "Nothing was written; retry after the Retry-After delay, through another node, or at a lower "
                    + "consistency level.", request)
                    .header(HttpHeaders.RETRY_AFTER, "1").build();
        }
        if (r instanceof Result.TimedOut t) {
            return builder(504, "timed-out", "Timed out", t.why() + ". It is safe to retry.", request).build();
        }
        if (r instanceof Result.OutcomeUnknown u) {
            return builder(504, "outcome-unknown", "Outcome unknown", u.why() + ": the outcome is unknown, the "
                    + "write may still be applied. Read the key (or retry with If-Match) to find out.", request).build();
        }
        throw new IllegalStateException("a successful result reached the failure mapper: " + r);
    }

    @ServerExceptionMapper
    public Response diskFull(StoreDiskFullException e, HttpServerRequest request) {
        return builder(503, "disk-full", "Disk full", e.getMessage() + ". Reads still work; writes resume by "
                + "themselves once space is freed on the node's data disk", request)
                .header(HttpHeaders.RETRY_AFTER, "10").build();
    }

    @ServerExceptionMapper
    public Response storageFailed(StoreFailedException e, HttpServerRequest request) {
        return builder(503, "storage-failed", "Storage unavailable", e.getMessage()
                + ". The node stops serving after a storage fault; restart it (the write-ahead log replays "
                + "every acknowledged write)", request)
                .header(HttpHeaders.RETRY_AFTER, "10").build();
    }

    @ServerExceptionMapper
    public Response http(WebApplicationException e, HttpServerRequest request) {
        int status = e.getResponse().getStatus();
        Response.StatusType type = Response.Status.fromStatusCode(status);
        String title = type == null ? "HTTP " + status : type.getReasonPhrase();
        String detail = switch (status) {
            case 404 -> "no such resource: keys live under /v1/kv/{key}; see /q/swagger-ui";
            case 405 -> "method not allowed here; see /q/swagger-ui for the operations of this path";
            case 406 -> "cannot produce the media type you Accept; values are application/octet-stream (or text/plain "
                    + "for UTF-8 text, when Accept prefers it)";
            case 415 -> "unsupported Content-Type";
            default -> title;
        };
        Response.ResponseBuilder r = builder(status, "http-" + status, title, detail, request);
        String allow = e.getResponse().getHeaderString(HttpHeaders.ALLOW);
        if (allow != null) {
            r.header(HttpHeaders.ALLOW, allow);
        }
        return r.build();
    }

    @ServerExceptionMapper
    public Response unexpected(RuntimeException e, HttpServerRequest request) {
        String id = UUID.randomUUID().toString();
        LOG.errorf(e, "internal error %s on %s %s", id, request.method(), Problem.instanceOf(request.path()));
        return builder(500, "internal", "Internal error", "the node hit an internal error (reference " + id
                + " in its log); the outcome of a write is unknown", request).build();
    }

    private Response.ResponseBuilder builder(int status, String type, String title, String detail,
                                             HttpServerRequest request) {
        return Problem.response(json, status, type, title, detail, request);
    }
}
