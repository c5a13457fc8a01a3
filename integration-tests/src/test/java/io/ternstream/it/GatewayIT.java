package io.ternstream.it;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.langchain4j.data.message.AiMessage;
import dev.langchain4j.data.message.ChatMessage;
import dev.langchain4j.data.message.SystemMessage;
import dev.langchain4j.data.message.UserMessage;
import dev.langchain4j.model.chat.response.ChatResponse;
import dev.langchain4j.model.chat.response.StreamingChatResponseHandler;
import dev.langchain4j.model.openai.OpenAiChatModel;
import dev.langchain4j.model.openai.OpenAiStreamingChatModel;
import dev.langchain4j.model.output.FinishReason;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Supplier;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The gateway's OpenAI API driven by a real OpenAI client library (LangChain4j's OpenAI models)
 * against the service process and a real KRaft broker; and the time-to-first-token measurement of
 * a 10-turn chat, whose numbers go to docs/PERFORMANCE.md (Gateway section).
 */
class GatewayIT {
    private static final String KEY = "it-secret-key";
    private static final String MODEL = "ternstream-it";
    private static final Path TOKENIZER = Path.of("../service/src/test/resources/gateway/tokenizer.json");
    private static ServiceProcess service;
    private static Broker.Topics topics;

    @BeforeAll
    static void start() throws IOException {
        topics = Broker.Topics.create("gateway-it", 4);
        service = ServiceProcess.start("gateway-it", topics, modelWithTokenizer(),
                "-Dternstream.gateway.security.api-keys=" + KEY,
                "-Dternstream.gateway.model-name=" + MODEL,
                "-Dternstream.gateway.replica-id=it",
                "-Dternstream.gateway.owners-topic=gateway-it.owners",
                "-Dternstream.limits.max-prompt-tokens=16384",
                "-Dternstream.gateway.limits.requests-per-second=1000",
                "-Dternstream.gateway.limits.burst=1000");
    }

    @AfterAll
    static void stop() {
        if (service != null) {
            service.close();
        }
    }

    /**
     * A second, gateway-only replica (no model) in front of the same engine: each replica's chats
     * complete, and their reply events travel only on that replica's reply topic.
     */
    @Test
    void repliesReachTheReplicaThatServesTheClient() throws Exception {
        try (ServiceProcess second = ServiceProcess.start("gateway-it-2", topics, modelWithTokenizer(),
                "-Dternstream.role=gateway",
                "-Dternstream.gateway.security.api-keys=" + KEY,
                "-Dternstream.gateway.model-name=" + MODEL,
                "-Dternstream.gateway.replica-id=it2",
                "-Dternstream.gateway.owners-topic=gateway-it.owners")) {
            List<String> viaFirst = new ArrayList<>();
            List<String> viaSecond = new ArrayList<>();
            List<CompletableFuture<Turn>> turns = new ArrayList<>();
            // not the common pool: with one worker on 2 cores, a blocked caller would starve the
            // client's own callbacks
            var callers = java.util.concurrent.Executors.newVirtualThreadPerTaskExecutor();
            for (int i = 0; i < 4; i++) {
                for (ServiceProcess gateway : List.of(service, second)) {
                    String session = "replica-" + i + "-" + UUID.randomUUID();
                    (gateway == service ? viaFirst : viaSecond).add(session);
                    var model = OpenAiStreamingChatModel.builder().baseUrl(gateway.baseUrl() + "/v1").apiKey(KEY)
                            .modelName(MODEL).maxTokens(6).customHeaders(Map.of("X-Ternstream-Session", session))
                            .timeout(Duration.ofSeconds(60)).build();
                    turns.add(CompletableFuture.supplyAsync(() -> stream(model, List.of(UserMessage.from("hi " + session))),
                            callers));
                }
            }
            // every turn completes: 6 tokens, or fewer when the sampled text ends (end of sequence)
            turns.forEach(t -> {
                ChatResponse r = t.join().response();
                int n = r.tokenUsage().outputTokenCount();
                assertTrue(n >= 1 && n <= 6, "output tokens " + n);
                // sessions are random, so is the text: the sixth token may itself be the end of sequence (stop)
                if (n < 6) assertEquals(FinishReason.STOP, r.finishReason(), "finish reason at " + n + " tokens");
                else assertTrue(r.finishReason() == FinishReason.LENGTH || r.finishReason() == FinishReason.STOP,
                        "finish reason at 6 tokens: " + r.finishReason());
            });
            callers.close();
            java.util.Set<String> first = keysIn(topics.replies() + ".gw-it");
            java.util.Set<String> secondTopic = keysIn(topics.replies() + ".gw-it2");
            assertTrue(first.containsAll(viaFirst) && secondTopic.containsAll(viaSecond), "each replica's topic has "
                    + "its sessions' events");
            assertTrue(viaFirst.stream().noneMatch(secondTopic::contains) && viaSecond.stream().noneMatch(first::contains),
                    "and no other replica's");
        }
    }

    /** Record keys (sessionIds) of a whole topic. */
    private static java.util.Set<String> keysIn(String topic) {
        java.util.Set<String> keys = new java.util.HashSet<>();
        try (var consumer = new org.apache.kafka.clients.consumer.KafkaConsumer<String, byte[]>(Map.of(
                "bootstrap.servers", Broker.bootstrapServers(),
                "key.deserializer", org.apache.kafka.common.serialization.StringDeserializer.class.getName(),
                "value.deserializer", org.apache.kafka.common.serialization.ByteArrayDeserializer.class.getName()))) {
            var partitions = consumer.partitionsFor(topic).stream()
                    .map(p -> new org.apache.kafka.common.TopicPartition(topic, p.partition())).toList();
            consumer.assign(partitions);
            consumer.seekToBeginning(partitions);
            var end = consumer.endOffsets(partitions);
            await().atMost(Duration.ofSeconds(30)).until(() -> {
                consumer.poll(Duration.ofMillis(100)).forEach(r -> keys.add(r.key()));
                return partitions.stream().allMatch(p -> consumer.position(p) >= end.get(p));
            });
        }
        return keys;
    }

    /** The golden tiny checkpoint with a byte-level tokenizer beside it, so chat text can be encoded. */
    private static Path modelWithTokenizer() throws IOException {
        Path dir = Path.of("target", "gateway-it-model").toAbsolutePath();
        Files.createDirectories(dir);
        for (String file : new String[] {"config.json", "model.safetensors"}) {
            Files.copy(ServiceProcess.GOLDEN_MODEL.resolve(file), dir.resolve(file), StandardCopyOption.REPLACE_EXISTING);
        }
        Files.copy(TOKENIZER, dir.resolve("tokenizer.json"), StandardCopyOption.REPLACE_EXISTING);
        return dir;
    }

    private static OpenAiStreamingChatModel streaming(int maxTokens, Supplier<Map<String, String>> headers) {
        return OpenAiStreamingChatModel.builder().baseUrl(service.baseUrl() + "/v1").apiKey(KEY).modelName(MODEL)
                .maxTokens(maxTokens).temperature(0.0).customHeaders(headers).timeout(Duration.ofSeconds(60)).build();
    }

    /** One streamed turn: the client-side time to the first content, and the whole response. */
    record Turn(double ttftMillis, List<String> partials, ChatResponse response) {}

    private static Turn stream(OpenAiStreamingChatModel model, List<ChatMessage> messages) {
        CompletableFuture<ChatResponse> done = new CompletableFuture<>();
        List<String> partials = new ArrayList<>();
        AtomicLong first = new AtomicLong();
        long start = System.nanoTime();
        model.chat(messages, new StreamingChatResponseHandler() {
            @Override
            public void onPartialResponse(String partial) {
                first.compareAndSet(0, System.nanoTime());
                partials.add(partial);
            }

            @Override
            public void onCompleteResponse(ChatResponse response) {
                done.complete(response);
            }

            @Override
            public void onError(Throwable error) {
                done.completeExceptionally(error);
            }
        });
        await().atMost(Duration.ofSeconds(90)).until(done::isDone);
        ChatResponse response = done.join();
        long firstAt = first.get() == 0 ? System.nanoTime() : first.get();
        return new Turn((firstAt - start) / 1e6, partials, response);
    }

    @Test
    void streamingChatModelTalksToTheGateway() {
        var model = streaming(12, Map::of);
        List<ChatMessage> conversation = new ArrayList<>(List.of(SystemMessage.from("You are terse."),
                UserMessage.from("Hello, who are you?")));
        for (int turn = 0; turn < 3; turn++) {
            Turn t = stream(model, conversation);
            AiMessage reply = t.response().aiMessage();
            assertEquals(String.join("", t.partials()), reply.text(), "the streamed pieces make up the answer");
            assertEquals(FinishReason.LENGTH, t.response().finishReason());
            assertEquals(12, t.response().tokenUsage().outputTokenCount());
            conversation.add(reply);
            conversation.add(UserMessage.from("Tell me more (" + turn + ")"));
        }
    }

    @Test
    void blockingChatModelTalksToTheGateway() {
        var model = OpenAiChatModel.builder().baseUrl(service.baseUrl() + "/v1").apiKey(KEY).modelName(MODEL)
                .maxTokens(6).seed(42).timeout(Duration.ofSeconds(60)).build();
        ChatResponse response = model.chat(UserMessage.from("Say something"));
        assertEquals(6, response.tokenUsage().outputTokenCount());
        assertTrue(response.tokenUsage().inputTokenCount() > 0);
    }

    @Test
    void wrongKeyIsRefusedThroughTheClient() {
        var model = OpenAiChatModel.builder().baseUrl(service.baseUrl() + "/v1").apiKey("not-the-key")
                .modelName(MODEL).maxTokens(4).timeout(Duration.ofSeconds(30)).build();
        Exception e = org.junit.jupiter.api.Assertions.assertThrows(Exception.class,
                () -> model.chat(UserMessage.from("hi")));
        assertTrue(String.valueOf(e.getMessage()).contains("invalid_api_key") || e.getClass().getSimpleName()
                .contains("Authentication"), e.toString());
    }

    /**
     * Ten turns of ~400-token user messages. With prefix reuse the gateway sends only the new turn
     * to the session that holds the conversation; the baseline names a new session each turn, so
     * the whole conversation is prefilled again. Time to first token of turn 10 must not grow with
     * the conversation when it is reused.
     */
    @Test
    void timeToFirstTokenOfTurnTenDoesNotGrow() throws IOException {
        int turns = 10;
        String filler = "the stream keeps a fixed size state for every session so turns cost the same. ";
        conversation(3, filler, Map::of); // warm up the JIT on both paths before measuring
        conversation(3, filler, () -> Map.of("X-Ternstream-Session", "warm-" + UUID.randomUUID()));
        double[] reused = conversation(turns, filler, Map::of);
        double[] baseline = conversation(turns, filler, () -> Map.of("X-Ternstream-Session", "fresh-" + UUID.randomUUID()));

        StringBuilder table = new StringBuilder("| turn | prompt sent (reused) | TTFT reused (ms) | TTFT full re-prefill (ms) |\n"
                + "|---:|---|---:|---:|\n");
        for (int i = 0; i < turns; i++) {
            table.append(String.format(Locale.ROOT, "| %d | %s | %.1f | %.1f |%n", i + 1,
                    i == 0 ? "whole conversation" : "new turn only", reused[i], baseline[i]));
        }
        Path out = Path.of("target", "gateway-ttft.md");
        Files.writeString(out, table.toString());
        System.out.println("gateway TTFT per turn (written to " + out.toAbsolutePath() + "):\n" + table);

        // medians of three turns, because the machine is shared and a single turn can stall
        double firstTurns = median(reused, 0);
        double lastTurns = median(reused, turns - 3);
        double lastBaseline = median(baseline, turns - 3);
        System.out.printf(Locale.ROOT, "median TTFT: turns 1-3 reused %.1f ms, turns 8-10 reused %.1f ms, "
                + "turns 8-10 full re-prefill %.1f ms%n", firstTurns, lastTurns, lastBaseline);
        assertTrue(lastTurns <= 2 * firstTurns + 50,
                "late turns with the session reused should cost about what the first ones do: " + table);
        assertTrue(lastTurns < lastBaseline,
                "re-prefilling the whole conversation must be slower than sending only the new turn: " + table);
    }

    /**
     * Short prompts over the WebSocket: what the gateway and Kafka add to the engine's own time to
     * first token, and the gaps between token events. The numbers go to docs/GATEWAY.md.
     */
    @Test
    void webSocketLatencyThroughTheGateway() throws IOException {
        List<GatewayLatency.Turn> measured = new ArrayList<>();
        try (var ws = GatewayLatency.connect(service.baseUrl(), KEY, "latency-" + UUID.randomUUID())) {
            for (int i = 0; i < 10; i++) {
                ws.turn("warm-" + i, "User: hello there\nAssistant:", 16); // JIT first, as the engine's warm-up does
            }
            for (int i = 0; i < 30; i++) {
                GatewayLatency.Turn turn = ws.turn("m-" + i, "User: hello there\nAssistant:", 16);
                assertTrue(turn.clientTtftMs() >= turn.engineTtftMs(),
                        "the engine's time to first token lies within the client's: " + turn);
                measured.add(turn);
            }
        }
        String table = GatewayLatency.table(measured);
        Path out = Path.of("target", "gateway-latency.md");
        Files.writeString(out, table);
        System.out.println("gateway latency over the WebSocket (written to " + out.toAbsolutePath() + "):\n" + table);
    }

    private static double median(double[] values, int from) {
        double[] three = java.util.Arrays.copyOfRange(values, from, from + 3);
        java.util.Arrays.sort(three);
        return three[1];
    }

    /** Client-side time to first token of each turn of one 10-turn conversation. */
    private double[] conversation(int turns, String filler, Supplier<Map<String, String>> headers) {
        var model = streaming(8, headers);
        List<ChatMessage> messages = new ArrayList<>();
        double[] ttft = new double[turns];
        for (int i = 0; i < turns; i++) {
            messages.add(UserMessage.from("Turn " + i + ": " + filler.repeat(5)));
            Turn t = stream(model, messages);
            assertFalse(t.partials().isEmpty(), "turn " + i + " streamed no text");
            ttft[i] = t.ttftMillis();
            messages.add(t.response().aiMessage());
        }
        return ttft;
    }
}
