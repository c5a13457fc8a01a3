package io.ternstream.it;

import tools.jackson.databind.JsonNode;
import io.ternstream.schemas.ContractViolation;
import io.ternstream.schemas.PromptRequest;
import io.ternstream.schemas.ReplyEvent;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.WebSocket;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * One session's WebSocket to the gateway ({@code /v1/sessions/{id}/stream}), as a client would use
 * it: prompts out, the session's reply events in. {@code gateway_error}s refuse the prompt they name.
 * A connection that drops is opened again with {@code ?lastRequestId=&lastSeq=}, so nothing is missed.
 */
final class GatewaySocket implements PromptChannel, AutoCloseable {
    private final HttpClient http;
    private final String baseUrl;
    private final String apiKey;
    private final String session;
    private final TurnLedger ledger;
    private final AtomicInteger reconnects = new AtomicInteger();
    private volatile WebSocket socket;
    private volatile String lastRequestId;
    private volatile int lastSeq = -1;
    private volatile boolean closing;

    private GatewaySocket(HttpClient http, String baseUrl, String apiKey, String session, TurnLedger ledger) {
        this.http = http;
        this.baseUrl = baseUrl;
        this.apiKey = apiKey;
        this.session = session;
        this.ledger = ledger;
    }

    static GatewaySocket open(HttpClient http, String baseUrl, String apiKey, String session, TurnLedger ledger) {
        GatewaySocket s = new GatewaySocket(http, baseUrl, apiKey, session, ledger);
        s.socket = s.connect().join();
        return s;
    }

    private CompletableFuture<WebSocket> connect() {
        String resume = lastRequestId == null ? ""
                : "?lastRequestId=" + URLEncoder.encode(lastRequestId, StandardCharsets.UTF_8) + "&lastSeq=" + lastSeq;
        URI uri = URI.create(baseUrl.replaceFirst("^http", "ws") + "/v1/sessions/" + session + "/stream" + resume);
        return http.newWebSocketBuilder().header("Authorization", "Bearer " + apiKey).buildAsync(uri, new Listener());
    }

    @Override
    public CompletableFuture<Void> send(PromptRequest prompt) {
        return socket.sendText(Clients.CODEC.encodeToString(prompt), true).thenApply(ws -> null);
    }

    int reconnects() {
        return reconnects.get();
    }

    private void received(String json) {
        JsonNode tree = Clients.CODEC.tree(json.getBytes(StandardCharsets.UTF_8));
        if ("gateway_error".equals(tree.path("type").asString())) {
            String requestId = tree.path("requestId").asString(null);
            if (requestId != null) {
                ledger.refused(requestId, tree.path("status").asInt() + " " + tree.path("code").asString());
            }
            return;
        }
        try {
            ReplyEvent event = Clients.CODEC.decodeReply(json.getBytes(StandardCharsets.UTF_8));
            lastRequestId = event.requestId();
            lastSeq = event.seq();
            ledger.fromGateway(event);
        } catch (ContractViolation e) {
            throw new AssertionError("the gateway relayed an event that breaks the contract: " + e.getMessage());
        }
    }

    private void dropped() {
        if (!closing) {
            reconnects.incrementAndGet();
            connect().whenComplete((ws, error) -> {
                if (error == null) {
                    socket = ws;
                } else {
                    CompletableFuture.delayedExecutor(1, TimeUnit.SECONDS).execute(this::dropped);
                }
            });
        }
    }

    private final class Listener implements WebSocket.Listener {
        private final StringBuilder text = new StringBuilder();

        @Override
        public CompletionStage<?> onText(WebSocket webSocket, CharSequence data, boolean last) {
            text.append(data);
            if (last) {
                received(text.toString());
                text.setLength(0);
            }
            webSocket.request(1);
            return null;
        }

        @Override
        public CompletionStage<?> onClose(WebSocket webSocket, int statusCode, String reason) {
            dropped();
            return null;
        }

        @Override
        public void onError(WebSocket webSocket, Throwable error) {
            dropped();
        }
    }

    @Override
    public void close() {
        closing = true;
        socket.sendClose(WebSocket.NORMAL_CLOSURE, "done");
    }
}
