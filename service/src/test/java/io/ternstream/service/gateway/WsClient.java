package io.ternstream.service.gateway;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.vertx.core.Vertx;
import io.vertx.core.http.UpgradeRejectedException;
import io.vertx.core.http.WebSocket;
import io.vertx.core.http.WebSocketClient;
import io.vertx.core.http.WebSocketConnectOptions;
import java.net.URI;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;

/** A test WebSocket client that records every text message it receives, in order. */
final class WsClient implements AutoCloseable {
    private static final ObjectMapper JSON = new ObjectMapper();

    final List<JsonNode> received = new CopyOnWriteArrayList<>();
    private final WebSocketClient client;
    private WebSocket socket;

    private WsClient(Vertx vertx) {
        this.client = vertx.createWebSocketClient();
    }

    /** Connects; the upgrade's HTTP status when refused, else 101. */
    static Result connect(Vertx vertx, URI base, String path, String key, String origin) {
        WsClient c = new WsClient(vertx);
        var options = new WebSocketConnectOptions().setHost(base.getHost()).setPort(base.getPort()).setURI(path);
        if (key != null) {
            options.addHeader("Authorization", "Bearer " + key);
        }
        if (origin != null) {
            options.addHeader("Origin", origin);
        }
        try {
            // the handler is set on the event loop as the upgrade completes: messages sent at once are kept
            c.socket = c.client.connect(options).onSuccess(ws -> ws.textMessageHandler(text -> {
                try {
                    c.received.add(JSON.readTree(text));
                } catch (Exception e) {
                    throw new IllegalStateException("not JSON: " + text, e);
                }
            })).toCompletionStage().toCompletableFuture().get(20, TimeUnit.SECONDS);
            return new Result(101, c);
        } catch (ExecutionException e) {
            if (e.getCause() instanceof UpgradeRejectedException rejected) {
                c.client.close();
                return new Result(rejected.getStatus(), null);
            }
            throw new IllegalStateException(e);
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    record Result(int status, WsClient client) {}

    void send(String text) {
        socket.writeTextMessage(text);
    }

    void send(Object message) {
        try {
            send(JSON.writeValueAsString(message));
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    List<JsonNode> of(String requestId) {
        return received.stream().filter(n -> requestId.equals(n.path("requestId").asText(null))).toList();
    }

    boolean finished(String requestId) {
        return of(requestId).stream().anyMatch(n -> !n.path("type").asText().equals("token"));
    }

    @Override
    public void close() {
        if (socket != null) {
            socket.close().toCompletionStage().toCompletableFuture().orTimeout(5, TimeUnit.SECONDS).exceptionally(e -> null)
                    .join();
        }
        client.close();
    }
}
