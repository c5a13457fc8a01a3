package io.ternstream.service.gateway;

import static io.ternstream.service.gateway.GatewayTestProfile.ALICE;
import static io.ternstream.service.gateway.GatewayTestProfile.BOB;
import static io.ternstream.service.gateway.GatewayTestProfile.FLOOD;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.quarkus.test.common.http.TestHTTPResource;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.TestProfile;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;

/** The OpenAI-compatible HTTP API, its error JSON and its limits, over real HTTP. */
@QuarkusTest
@TestProfile(GatewayTestProfile.class)
class GatewayOpenAiTest {
    static final ObjectMapper JSON = new ObjectMapper();
    static final String MODEL = "ternstream-test";

    @TestHTTPResource("/")
    URI base;

    final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10)).build();

    HttpResponse<String> post(String path, String key, Object body, String... headers) throws Exception {
        var builder = HttpRequest.newBuilder(base.resolve(path)).timeout(Duration.ofSeconds(60))
                .header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(body instanceof String s ? s : JSON.writeValueAsString(body)));
        if (key != null) {
            builder.header("Authorization", "Bearer " + key);
        }
        if (headers.length > 0) {
            builder.headers(headers);
        }
        return http.send(builder.build(), HttpResponse.BodyHandlers.ofString());
    }

    static ObjectNode chat(boolean stream, String... turns) {
        ObjectNode body = JSON.createObjectNode().put("model", MODEL).put("max_tokens", 8).put("temperature", 0)
                .put("stream", stream);
        ArrayNode messages = body.putArray("messages");
        for (int i = 0; i < turns.length; i++) {
            messages.addObject().put("role", i % 2 == 0 ? "user" : "assistant").put("content", turns[i]);
        }
        return body;
    }

    static JsonNode error(HttpResponse<String> response) throws Exception {
        JsonNode error = JSON.readTree(response.body()).get("error");
        assertNotNull(error, response.body());
        assertTrue(error.hasNonNull("message") && error.hasNonNull("type") && error.has("code"), response.body());
        return error;
    }

    @Test
    void readinessIncludesTheGateway() throws Exception {
        var response = http.send(HttpRequest.newBuilder(base.resolve("/q/health/ready")).build(),
                HttpResponse.BodyHandlers.ofString());
        assertEquals(200, response.statusCode(), response.body());
        JsonNode gateway = null;
        for (JsonNode check : JSON.readTree(response.body()).get("checks")) {
            if (check.get("name").asText().equals("gateway")) {
                gateway = check;
            }
        }
        assertNotNull(gateway, response.body());
        assertEquals("UP", gateway.get("status").asText());
        assertEquals("ternstream.replies.gw-test", gateway.at("/data/replyTopic").asText());
        // the channels' health is the Kafka connector's
        JsonNode messaging = null;
        for (JsonNode check : JSON.readTree(response.body()).get("checks")) {
            if (check.get("name").asText().contains("Reactive Messaging")) {
                messaging = check;
            }
        }
        assertNotNull(messaging, response.body());
        assertEquals("UP", messaging.get("status").asText());
        for (String channel : GatewayChannels.INCOMING) {
            assertTrue(messaging.path("data").has(channel), response.body());
        }
    }

    @Test
    void modelsListsTheServedModel() throws Exception {
        var response = http.send(HttpRequest.newBuilder(base.resolve("/v1/models")).header("Authorization", "Bearer "
                + ALICE).build(), HttpResponse.BodyHandlers.ofString());
        assertEquals(200, response.statusCode());
        JsonNode list = JSON.readTree(response.body());
        assertEquals("list", list.get("object").asText());
        assertEquals(MODEL, list.at("/data/0/id").asText());
    }

    @Test
    void chatCompletionAnswersAndContinuesTheSameSession() throws Exception {
        var first = post("/v1/chat/completions", ALICE, chat(false, "Hello"));
        assertEquals(200, first.statusCode(), first.body());
        JsonNode body = JSON.readTree(first.body());
        assertEquals("chat.completion", body.get("object").asText());
        assertEquals("assistant", body.at("/choices/0/message/role").asText());
        assertEquals("length", body.at("/choices/0/finish_reason").asText());
        assertEquals(8, body.at("/usage/completion_tokens").asInt());
        String session = first.headers().firstValue(OpenAiRoutes.SESSION_HEADER).orElseThrow();

        String reply = body.at("/choices/0/message/content").asText();
        var second = post("/v1/chat/completions", ALICE, chat(false, "Hello", reply, "And then?"));
        assertEquals(200, second.statusCode(), second.body());
        assertEquals(session, second.headers().firstValue(OpenAiRoutes.SESSION_HEADER).orElseThrow(),
                "the conversation continues in the session that holds its state");
        int secondPromptTokens = JSON.readTree(second.body()).at("/usage/prompt_tokens").asInt();
        int fullPromptTokens = JSON.readTree(post("/v1/chat/completions", ALICE,
                chat(false, "Hello", reply + " (edited)", "And then?")).body()).at("/usage/prompt_tokens").asInt();
        assertTrue(secondPromptTokens < fullPromptTokens, "only the new turn was sent: " + secondPromptTokens
                + " prompt tokens versus " + fullPromptTokens + " for the whole conversation");
    }

    @Test
    void streamingChatIsServerSentEventsEndingInDone() throws Exception {
        ObjectNode request = chat(true, "Hello");
        request.putObject("stream_options").put("include_usage", true);
        var response = post("/v1/chat/completions", ALICE, request);
        assertEquals(200, response.statusCode(), response.body());
        assertTrue(response.headers().firstValue("Content-Type").orElse("").startsWith("text/event-stream"));
        List<String> events = response.body().lines().filter(l -> !l.isEmpty()).toList();
        events.forEach(l -> assertTrue(l.startsWith("data: "), l));
        assertEquals("data: [DONE]", events.getLast());
        List<JsonNode> chunks = new ArrayList<>();
        for (String e : events.subList(0, events.size() - 1)) {
            chunks.add(JSON.readTree(e.substring(6)));
        }
        assertEquals("assistant", chunks.getFirst().at("/choices/0/delta/role").asText());
        chunks.forEach(c -> assertEquals("chat.completion.chunk", c.get("object").asText()));
        JsonNode usage = chunks.getLast();
        assertTrue(usage.get("choices").isEmpty());
        assertEquals(8, usage.at("/usage/completion_tokens").asInt());
        assertEquals("length", chunks.get(chunks.size() - 2).at("/choices/0/finish_reason").asText());
    }

    @Test
    void completionsTakeTextOrTokenIds() throws Exception {
        ObjectNode text = JSON.createObjectNode().put("model", MODEL).put("prompt", "Once upon a time")
                .put("max_tokens", 5).put("seed", 3);
        var response = post("/v1/completions", ALICE, text);
        assertEquals(200, response.statusCode(), response.body());
        assertEquals("text_completion", JSON.readTree(response.body()).get("object").asText());

        ObjectNode ids = JSON.createObjectNode().put("model", MODEL).put("max_tokens", 5);
        ids.putArray("prompt").add(5).add(17).add(42);
        var byIds = post("/v1/completions", ALICE, ids);
        assertEquals(200, byIds.statusCode(), byIds.body());
        assertEquals(3, JSON.readTree(byIds.body()).at("/usage/prompt_tokens").asInt());

        var streamed = post("/v1/completions", ALICE, text.put("stream", true));
        assertEquals(200, streamed.statusCode(), streamed.body());
        assertTrue(streamed.body().strip().endsWith("data: [DONE]"), streamed.body());
    }

    /** Messages per channel and the Kafka clients' own metrics come from the connector. */
    @Test
    void channelMetricsComeFromTheConnector() throws Exception {
        ObjectNode text = JSON.createObjectNode().put("model", MODEL).put("prompt", "Once upon a time")
                .put("max_tokens", 3);
        assertEquals(200, post("/v1/completions", ALICE, text).statusCode());
        String metrics = http.send(HttpRequest.newBuilder(base.resolve("/q/metrics")).build(),
                HttpResponse.BodyHandlers.ofString()).body().lines()
                .filter(l -> l.contains("messaging") || l.contains("ternstream-gateway"))
                .collect(java.util.stream.Collectors.joining("\n"));
        for (String channel : List.of(GatewayChannels.REPLIES, GatewayChannels.OWNERS)) {
            assertTrue(metrics.lines().anyMatch(l -> l.startsWith("mp_messaging_message_count")
                    && l.contains("channel=\"" + channel + "\"")), channel + " in\n" + metrics);
        }
        assertTrue(metrics.lines().anyMatch(l -> l.startsWith("kafka_consumer_fetch_manager_records_consumed_total")
                && l.contains("ternstream-gateway-replies")), metrics);
        assertTrue(metrics.lines().anyMatch(l -> l.startsWith("kafka_producer_record_send_total")
                && l.contains("ternstream-gateway-prompts")), metrics);
    }

    @Test
    void wrongOrMissingKeyIs401() throws Exception {
        assertEquals("invalid_api_key", error(post("/v1/chat/completions", "wrong", chat(false, "hi"))).get("code")
                .asText());
        var missing = post("/v1/chat/completions", null, chat(false, "hi"));
        assertEquals(401, missing.statusCode());
        assertEquals(401, post("/v1/chat/completions", "wrong", chat(false, "hi")).statusCode());
    }

    @Test
    void anotherKeysSessionIs403() throws Exception {
        var alice = post("/v1/chat/completions", ALICE, chat(false, "mine"));
        String session = alice.headers().firstValue(OpenAiRoutes.SESSION_HEADER).orElseThrow();
        var bob = post("/v1/chat/completions", BOB, chat(false, "let me in"), OpenAiRoutes.SESSION_HEADER, session);
        assertEquals(403, bob.statusCode(), bob.body());
        assertEquals("permission_error", error(bob).get("type").asText());
        var again = post("/v1/chat/completions", ALICE, chat(false, "still mine"), OpenAiRoutes.SESSION_HEADER, session);
        assertEquals(200, again.statusCode(), again.body());
    }

    @Test
    void oversizeBodyIs413AndBadParametersAre400Or404() throws Exception {
        var big = post("/v1/chat/completions", ALICE, chat(false, "x".repeat(GatewayTestProfile.MAX_MESSAGE_BYTES)));
        assertEquals(413, big.statusCode(), big.body());
        assertEquals("message_too_large", error(big).get("code").asText());

        ObjectNode tooMany = chat(false, "hi").put("max_tokens", GatewayTestProfile.MAX_TOKENS + 1);
        var limit = post("/v1/chat/completions", ALICE, tooMany);
        assertEquals(400, limit.statusCode());
        assertEquals("max_tokens_too_large", error(limit).get("code").asText());

        var model = post("/v1/chat/completions", ALICE, chat(false, "hi").put("model", "gpt-17"));
        assertEquals(404, model.statusCode());
        assertEquals("model_not_found", error(model).get("code").asText());

        assertEquals(400, post("/v1/chat/completions", ALICE, "{not json").statusCode());
        assertEquals(400, post("/v1/chat/completions", ALICE, chat(false, "hi").put("n", 2)).statusCode());
        assertEquals(400, post("/v1/chat/completions", ALICE, chat(false, "hi", "assistant last")).statusCode());
        assertEquals(400, post("/v1/completions", ALICE, JSON.createObjectNode().put("model", MODEL)).statusCode());
        var temperature = post("/v1/chat/completions", ALICE, chat(false, "hi").put("temperature", 5));
        assertEquals("temperature", error(temperature).get("param").asText());
    }

    @Test
    void floodOfRequestsGets429() throws Exception {
        HttpRequest models = HttpRequest.newBuilder(base.resolve("/v1/models"))
                .header("Authorization", "Bearer " + FLOOD).build();
        List<CompletableFuture<HttpResponse<String>>> all = IntStream.range(0, 150)
                .mapToObj(i -> http.sendAsync(models, HttpResponse.BodyHandlers.ofString())).toList();
        List<Integer> statuses = all.stream().map(f -> f.join().statusCode()).toList();
        assertTrue(statuses.contains(200), statuses.toString());
        assertTrue(statuses.contains(429), statuses.toString());
        assertFalse(statuses.stream().anyMatch(s -> s != 200 && s != 429), statuses.toString());
        var limited = all.stream().map(CompletableFuture::join).filter(r -> r.statusCode() == 429).findFirst()
                .orElseThrow();
        assertEquals("rate_limit_exceeded", error(limited).get("code").asText());
        assertTrue(limited.headers().firstValue("Retry-After").isPresent());
        // another key is not affected
        assertEquals(200, http.send(HttpRequest.newBuilder(base.resolve("/v1/models"))
                .header("Authorization", "Bearer " + BOB).build(), HttpResponse.BodyHandlers.ofString()).statusCode());
    }
}
