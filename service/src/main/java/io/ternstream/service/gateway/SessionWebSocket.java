package io.ternstream.service.gateway;

import io.netty.handler.codec.http.websocketx.WebSocketCloseStatus;
import io.quarkus.websockets.next.CloseReason;
import io.quarkus.websockets.next.OnClose;
import io.quarkus.websockets.next.OnError;
import io.quarkus.websockets.next.OnOpen;
import io.quarkus.websockets.next.OnTextMessage;
import io.quarkus.websockets.next.WebSocket;
import io.quarkus.websockets.next.WebSocketConnection;
import io.smallrye.mutiny.Uni;
import io.ternstream.schemas.ContractViolation;
import io.ternstream.schemas.DeleteCommand;
import io.ternstream.schemas.PromptRequest;
import io.ternstream.schemas.PromptTopicMessage;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import org.jboss.logging.Logger;

/**
 * One conversation over a WebSocket: the client sends the prompts topic's JSON (prompt, cancel,
 * reset, fork, delete) for the session in the path, and receives that session's reply events as
 * the engines publish them, in order and without duplicates. Reconnecting with
 * {@code ?lastRequestId=R&lastSeq=N} first replays what the client missed.
 */
@WebSocket(path = "/v1/sessions/{sessionId}/stream")
public class SessionWebSocket {
    private static final Logger LOG = Logger.getLogger(SessionWebSocket.class);

    private final Gateway gateway;
    private final RateLimiter limiter;
    private final Map<String, ReplyHub.Listener> listeners = new ConcurrentHashMap<>();

    public SessionWebSocket(Gateway gateway, RateLimiter limiter) {
        this.gateway = gateway;
        this.limiter = limiter;
    }

    @OnOpen
    void open(WebSocketConnection connection) {
        String sessionId = connection.pathParam("sessionId");
        ReplyHub.Listener listener = reply -> connection.sendText(reply.json()).subscribe()
                .with(ok -> { }, error -> LOG.debugf("send to %s failed: %s", connection.id(), error.getMessage()));
        listeners.put(connection.id(), listener);
        Map<String, String> query = query(connection.handshakeRequest().query());
        ReplyHub.ResumePoint resume = null;
        if (query.containsKey("lastRequestId")) {
            try {
                resume = new ReplyHub.ResumePoint(query.get("lastRequestId"),
                        Integer.parseInt(query.getOrDefault("lastSeq", "-1")));
            } catch (NumberFormatException e) {
                refuse(connection, null, 400, "bad_resume", "lastSeq must be an integer").subscribe().with(ok -> { });
            }
        }
        if (gateway.hub().attach(sessionId, listener, resume)) {
            return;
        }
        // not in the buffer (this replica restarted, or the client was away long): read the reply
        // topics back, then resume; events arriving meanwhile are buffered and merged without duplicates
        ReplyHub.ResumePoint point = resume;
        gateway.hub().track(sessionId);
        gateway.history(sessionId).whenComplete((history, error) -> {
            if (error == null) {
                gateway.hub().backfill(sessionId, history);
            }
            if (!connection.isOpen() || !listeners.containsKey(connection.id())) {
                return;
            }
            if (!gateway.hub().attach(sessionId, listener, point)) {
                gateway.hub().attach(sessionId, listener, null);
                refuse(connection, point.requestId(), 410, "resume_unavailable", "the events of request "
                        + point.requestId() + " are no longer held by this gateway nor in its reply topic")
                        .subscribe().with(ok -> { });
            }
        });
    }

    @OnTextMessage
    Uni<Void> message(WebSocketConnection connection, String text) {
        String sessionId = connection.pathParam("sessionId");
        String caller = connection.userData().get(WebSocketGuard.CALLER);
        byte[] bytes = text.getBytes(StandardCharsets.UTF_8);
        if (bytes.length > gateway.config().limits().maxMessageBytes()) {
            return refuse(connection, null, 413, "message_too_large", "the message has " + bytes.length
                    + " bytes; the limit is " + gateway.config().limits().maxMessageBytes());
        }
        if (!limiter.tryAcquire(caller)) {
            return refuse(connection, null, 429, "rate_limited", "too many requests for this API key");
        }
        PromptTopicMessage message;
        try {
            message = gateway.codec().decodePromptTopic(bytes);
        } catch (ContractViolation e) {
            return refuse(connection, e.requestId(), 400, e.code().json(), e.getMessage());
        }
        return Uni.createFrom().completionStage(gateway.policy().check(sessionId, caller, message)
                .thenCompose(verdict -> switch (verdict) {
                    case ClientMessagePolicy.Refusal r ->
                            refuse(connection, r.requestId(), r.status(), r.code(), r.message())
                                    .subscribeAsCompletionStage();
                    case ClientMessagePolicy.Forward f -> forward(connection, sessionId, f.message());
                })).replaceWithVoid();
    }

    private CompletableFuture<Void> forward(WebSocketConnection connection, String sessionId,
                                            PromptTopicMessage message) {
        if (message instanceof PromptRequest prompt) {
            Optional<PromptLimits.Refusal> refusal = PromptLimits.check(gateway, prompt);
            if (refusal.isPresent()) {
                return refuse(connection, prompt.requestId(), refusal.get().status(), refusal.get().code(),
                        refusal.get().message()).subscribeAsCompletionStage();
            }
        }
        return gateway.send(message).thenAccept(sent -> {
            if (message instanceof DeleteCommand) {
                gateway.owners().release(sessionId);
            }
        }).exceptionallyCompose(e -> refuse(connection, message.requestId(), 503, "unavailable",
                "Kafka did not take the message: " + e.getMessage()).subscribeAsCompletionStage());
    }

    @OnClose
    void close(WebSocketConnection connection) {
        ReplyHub.Listener listener = listeners.remove(connection.id());
        if (listener != null) {
            gateway.hub().detach(connection.pathParam("sessionId"), listener);
        }
    }

    /**
     * A message over the WebSocket layer's hard cap (quarkus.websockets-next.server.max-message-size) is
     * never read, so it cannot get a gateway_error: close with 1009 (message too big), as RFC 6455 says,
     * rather than with 1011 and a server error logged for what the client did.
     */
    @OnError
    Uni<Void> unreadable(IllegalStateException e, WebSocketConnection connection) {
        if (e.getMessage() == null || !e.getMessage().contains("max message size")) {
            return Uni.createFrom().failure(e);
        }
        LOG.debugf("closing %s: %s", connection.id(), e.getMessage());
        return connection.close(new CloseReason(WebSocketCloseStatus.MESSAGE_TOO_BIG.code(), "message too big"));
    }

    private Uni<Void> refuse(WebSocketConnection connection, String requestId, int status, String code,
                             String message) {
        var error = new GatewayError(connection.pathParam("sessionId"), requestId, status, code, message);
        return connection.sendText(gateway.codec().encodeToString(error));
    }

    private static Map<String, String> query(String query) {
        Map<String, String> params = new java.util.HashMap<>();
        if (query == null || query.isEmpty()) {
            return params;
        }
        for (String pair : query.split("&")) {
            int eq = pair.indexOf('=');
            String name = URLDecoder.decode(eq < 0 ? pair : pair.substring(0, eq), StandardCharsets.UTF_8);
            String value = eq < 0 ? "" : URLDecoder.decode(pair.substring(eq + 1), StandardCharsets.UTF_8);
            params.put(name, value);
        }
        return params;
    }
}
