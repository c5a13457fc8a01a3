package io.ternstream.it;

import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.WebSocket;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Predicate;

/**
 * A java.net.http WebSocket to the gateway's session stream that records every text message as
 * JSON and how the connection closed. A recorder opened as a slow reader requests no message
 * until {@link #startReading()}, so it leaves everything the gateway sends unread in the sockets.
 */
final class WsRecorder implements WebSocket.Listener {
    private static final ObjectMapper JSON = new ObjectMapper();

    /** Every complete text message, in arrival order. */
    final List<JsonNode> messages = new CopyOnWriteArrayList<>();
    /** The close code the server sent, or -1 when the connection failed without one. */
    final CompletableFuture<Integer> closed = new CompletableFuture<>();
    private final StringBuilder partial = new StringBuilder();
    private final boolean reading;
    private volatile WebSocket socket;

    private WsRecorder(boolean reading) {
        this.reading = reading;
    }

    static URI streamUri(String baseUrl, String sessionId) {
        return URI.create(baseUrl.replaceFirst("^http", "ws") + "/v1/sessions/" + sessionId + "/stream");
    }

    /** Opens the session's stream with the key as a bearer token; fails with the handshake's status. */
    static WsRecorder open(HttpClient client, String baseUrl, String sessionId, String key, boolean reading) {
        WsRecorder recorder = new WsRecorder(reading);
        client.newWebSocketBuilder().header("Authorization", "Bearer " + key).connectTimeout(Duration.ofSeconds(20))
                .buildAsync(streamUri(baseUrl, sessionId), recorder).join();
        return recorder;
    }

    @Override
    public void onOpen(WebSocket webSocket) {
        socket = webSocket;
        if (reading) {
            webSocket.request(1);
        }
    }

    @Override
    public CompletionStage<?> onText(WebSocket webSocket, CharSequence data, boolean last) {
        partial.append(data);
        if (last) {
            try {
                messages.add(JSON.readTree(partial.toString()));
            } catch (IOException e) {
                throw new UncheckedIOException("the gateway sent a text message that is not JSON: " + partial, e);
            }
            partial.setLength(0);
        }
        webSocket.request(1);
        return null;
    }

    @Override
    public CompletionStage<?> onClose(WebSocket webSocket, int statusCode, String reason) {
        closed.complete(statusCode);
        return null;
    }

    @Override
    public void onError(WebSocket webSocket, Throwable error) {
        closed.complete(-1);
    }

    /** A slow reader catches up: from now on every message is read. */
    void startReading() {
        socket.request(1);
    }

    void send(String json) {
        socket.sendText(json, true).join();
    }

    /** Sends without waiting until it is written: the server may close before it has read it all. */
    void sendWithoutWaiting(String text) {
        socket.sendText(text, true);
    }

    boolean open() {
        return !closed.isDone() && !socket.isOutputClosed();
    }

    void close() {
        if (open()) {
            socket.sendClose(WebSocket.NORMAL_CLOSURE, "done").join();
        }
    }

    Optional<JsonNode> find(Predicate<JsonNode> test) {
        return messages.stream().filter(test).findFirst();
    }

    /** Waits for the first message that passes the test. */
    JsonNode awaitMessage(String what, Duration timeout, Predicate<JsonNode> test) {
        await(what).atMost(timeout).pollInterval(Duration.ofMillis(20)).until(() -> find(test).isPresent());
        return find(test).orElseThrow();
    }

    /** The gateway's refusal of the message with this requestId (null: a refusal that names none). */
    JsonNode gatewayError(String requestId) {
        return awaitMessage("gateway_error for " + requestId, Duration.ofSeconds(20), m -> m.path("type").asText()
                .equals("gateway_error") && (requestId == null ? !m.has("requestId") : m.path("requestId").asText()
                .equals(requestId)));
    }

    /** The terminal event (complete or error) of a request. */
    JsonNode terminal(String requestId, Duration timeout) {
        return awaitMessage("end of " + requestId, timeout, m -> m.path("requestId").asText().equals(requestId)
                && List.of("complete", "error", "gateway_error").contains(m.path("type").asText()));
    }
}
