package io.ternstream.it;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.WebSocket;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeUnit;

/**
 * What the gateway and Kafka add to a turn, seen from a WebSocket client: the time from sending a
 * short prompt to its first token event, against the engine's own time to first token (from the
 * record's arrival to the token, reported in the turn-complete event), and the gaps between token
 * events, against the engine's time per token. The difference of the first pair is the whole path
 * client → gateway → broker → engine and engine → broker → gateway → client.
 */
final class GatewayLatency implements AutoCloseable {
    private static final ObjectMapper JSON = new ObjectMapper();

    /** One turn as the client saw it. */
    record Turn(double clientTtftMs, double engineTtftMs, List<Double> tokenGapsMs, double engineMsPerToken) {}

    private final WebSocket socket;
    private final String session;
    private final StringBuilder partial = new StringBuilder();
    private volatile CompletableFuture<Void> done;
    private final List<Long> tokenArrivals = new ArrayList<>();
    private volatile JsonNode complete;
    private volatile String failure;

    private GatewayLatency(String baseUrl, String key, String session) {
        this.session = session;
        URI uri = URI.create(baseUrl.replace("http://", "ws://") + "/v1/sessions/" + session + "/stream");
        this.socket = HttpClient.newHttpClient().newWebSocketBuilder().header("Authorization", "Bearer " + key)
                .buildAsync(uri, new Listener()).orTimeout(30, TimeUnit.SECONDS).join();
    }

    static GatewayLatency connect(String baseUrl, String key, String session) {
        return new GatewayLatency(baseUrl, key, session);
    }

    /** One greedy turn of maxTokens tokens on the session; returns once its turn-complete event is in. */
    Turn turn(String requestId, String text, int maxTokens) {
        synchronized (this) {
            tokenArrivals.clear();
            complete = null;
            failure = null;
            done = new CompletableFuture<>();
        }
        var prompt = JSON.createObjectNode().put("type", "prompt").put("sessionId", session)
                .put("requestId", requestId).put("text", text);
        prompt.putObject("params").put("maxTokens", maxTokens).put("temperature", 0.0).put("seed", 7);
        long sent = System.nanoTime();
        socket.sendText(prompt.toString(), true).join();
        await().atMost(Duration.ofSeconds(60)).until(() -> done.isDone());
        assertEquals(null, failure, "turn " + requestId);
        List<Long> arrivals;
        synchronized (this) {
            arrivals = List.copyOf(tokenArrivals);
        }
        assertTrue(!arrivals.isEmpty(), "turn " + requestId + " streamed no token");
        List<Double> gaps = new ArrayList<>();
        for (int i = 1; i < arrivals.size(); i++) {
            gaps.add((arrivals.get(i) - arrivals.get(i - 1)) / 1e6);
        }
        JsonNode usage = complete.get("usage");
        double tps = usage.get("tokensPerSecond").asDouble();
        return new Turn((arrivals.getFirst() - sent) / 1e6, usage.get("timeToFirstTokenMs").asDouble(), gaps,
                tps > 0 ? 1000 / tps : Double.NaN);
    }

    /** Medians and 90th percentiles of the measured turns, as a Markdown table. */
    static String table(List<Turn> turns) {
        double[] client = turns.stream().mapToDouble(Turn::clientTtftMs).toArray();
        double[] engine = turns.stream().mapToDouble(Turn::engineTtftMs).toArray();
        double[] added = turns.stream().mapToDouble(t -> t.clientTtftMs() - t.engineTtftMs()).toArray();
        double[] gaps = turns.stream().flatMap(t -> t.tokenGapsMs().stream()).mapToDouble(Double::doubleValue)
                .toArray();
        double[] perToken = turns.stream().mapToDouble(Turn::engineMsPerToken).filter(d -> !Double.isNaN(d))
                .toArray();
        return "| " + turns.size() + " turns | median (ms) | p90 (ms) |\n|---|---:|---:|\n"
                + row("time to first token, client", client)
                + row("time to first token, engine", engine)
                + row("added by gateway + Kafka (client - engine)", added)
                + row("gap between token events, client", gaps)
                + row("time per token, engine (1000 / tokens per s)", perToken);
    }

    private static String row(String name, double[] values) {
        return String.format(Locale.ROOT, "| %s | %.2f | %.2f |%n", name, percentile(values, 50),
                percentile(values, 90));
    }

    static double percentile(double[] values, int p) {
        double[] sorted = values.clone();
        Arrays.sort(sorted);
        return sorted[Math.min(sorted.length - 1, (int) Math.ceil(p / 100.0 * sorted.length) - 1)];
    }

    @Override
    public void close() {
        socket.sendClose(WebSocket.NORMAL_CLOSURE, "done").orTimeout(5, TimeUnit.SECONDS).exceptionally(e -> null)
                .join();
    }

    private final class Listener implements WebSocket.Listener {
        @Override
        public CompletionStage<?> onText(WebSocket webSocket, CharSequence data, boolean last) {
            long now = System.nanoTime();
            partial.append(data);
            if (last) {
                onMessage(partial.toString(), now);
                partial.setLength(0);
            }
            webSocket.request(1);
            return null;
        }

        private void onMessage(String text, long arrivedNanos) {
            JsonNode event;
            try {
                event = JSON.readTree(text);
            } catch (Exception e) {
                failure = "not JSON: " + text;
                done.complete(null);
                return;
            }
            switch (event.path("type").asText()) {
                case "token" -> {
                    synchronized (GatewayLatency.this) {
                        tokenArrivals.add(arrivedNanos);
                    }
                }
                case "complete" -> {
                    complete = event;
                    done.complete(null);
                }
                default -> {
                    failure = text;
                    done.complete(null);
                }
            }
        }
    }
}
