package io.ternstream.service.gateway;

import static io.ternstream.service.gateway.GatewayTestProfile.ALICE;
import static io.ternstream.service.gateway.GatewayTestProfile.BOB;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.quarkus.test.common.http.TestHTTPResource;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.TestProfile;
import io.ternstream.schemas.CancelCommand;
import io.ternstream.schemas.GenerationParams;
import io.ternstream.schemas.PromptRequest;
import io.ternstream.schemas.SessionImport;
import io.ternstream.service.kafka.KafkaConnection;
import io.vertx.core.Vertx;
import jakarta.inject.Inject;
import java.net.URI;
import java.time.Duration;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.CompletionException;
import org.junit.jupiter.api.Test;

@QuarkusTest
@TestProfile(GatewayTestProfile.class)
class GatewayWebSocketTest {
    private static final Duration WAIT = Duration.ofSeconds(30);

    @TestHTTPResource("/")
    URI base;

    @Inject
    Vertx vertx;

    @Inject
    Gateway gateway;

    @Inject
    KafkaConnection kafka;

    private static String id(String prefix) {
        return prefix + UUID.randomUUID().toString().substring(0, 8);
    }

    private WsClient open(String session, String key) {
        var result = WsClient.connect(vertx, base, "/v1/sessions/" + session + "/stream", key, null);
        assertEquals(101, result.status());
        return result.client();
    }

    private static PromptRequest prompt(String session, String request, int maxTokens) {
        return new PromptRequest(session, request, "User: hello there\nAssistant:", null,
                new GenerationParams(maxTokens, 0f, null, null, null, null, 7L, null), null);
    }

    /** Tokens arrive as they are generated, in order, seq 0..n, ending in one turn-complete event. */
    @Test
    void promptStreamsTokensInOrder() {
        String session = id("ws-");
        try (WsClient ws = open(session, ALICE)) {
            ws.send(prompt(session, "r1", 12));
            await().atMost(WAIT).until(() -> ws.finished("r1"));
            List<JsonNode> events = ws.of("r1");
            for (int i = 0; i < events.size(); i++) {
                assertEquals(i, events.get(i).get("seq").asInt(), "seq in order without gaps or duplicates");
            }
            JsonNode last = events.getLast();
            assertEquals("complete", last.get("type").asText(), last.toString());
            assertEquals(12, last.at("/usage/completionTokens").asInt());
            assertTrue(events.size() >= 2, "token events before the complete event");
        }
    }

    /** A client that reconnects with its last seen seq gets exactly what it missed. */
    @Test
    void reconnectWithLastSeqResumes() {
        String session = id("resume-");
        int seenBeforeDrop;
        try (WsClient first = open(session, ALICE)) {
            first.send(prompt(session, "r1", 40));
            await().atMost(WAIT).until(() -> first.of("r1").size() >= 3);
            seenBeforeDrop = first.of("r1").get(2).get("seq").asInt(); // the client saw seq 0..2, then dropped
        }
        var again = WsClient.connect(vertx, base, "/v1/sessions/" + session + "/stream?lastRequestId=r1&lastSeq="
                + seenBeforeDrop, ALICE, null);
        assertEquals(101, again.status());
        try (WsClient second = again.client()) {
            await().atMost(WAIT).until(() -> second.finished("r1"));
            List<JsonNode> rest = second.of("r1");
            for (int i = 0; i < rest.size(); i++) {
                assertEquals(seenBeforeDrop + 1 + i, rest.get(i).get("seq").asInt(), rest.toString());
            }
            assertEquals(40, rest.getLast().at("/usage/completionTokens").asInt());
        }
    }

    /** After a restart the buffer is empty: the events come back from the replica's reply topic. */
    @Test
    void reconnectAfterTheBufferIsGoneReadsTheReplyTopic() {
        String session = id("restart-");
        try (WsClient first = open(session, ALICE)) {
            first.send(prompt(session, "r1", 20));
            await().atMost(WAIT).until(() -> first.finished("r1"));
        }
        gateway.hub().forget(session);
        var again = WsClient.connect(vertx, base, "/v1/sessions/" + session + "/stream?lastRequestId=r1&lastSeq=4",
                ALICE, null);
        assertEquals(101, again.status());
        try (WsClient second = again.client()) {
            await().atMost(WAIT).until(() -> second.finished("r1"));
            List<Integer> seqs = second.of("r1").stream().map(n -> n.get("seq").asInt()).toList();
            assertEquals(java.util.stream.IntStream.rangeClosed(5, 20).boxed().toList(), seqs);
        }
        var unknown = WsClient.connect(vertx, base, "/v1/sessions/" + session + "/stream?lastRequestId=never&lastSeq=0",
                ALICE, null);
        try (WsClient third = unknown.client()) {
            await().atMost(WAIT).until(() -> !third.received.isEmpty());
            assertEquals(410, third.received.getFirst().get("status").asInt());
        }
    }

    @Test
    void cancelStopsTheTurn() {
        String session = id("cancel-");
        try (WsClient ws = open(session, ALICE)) {
            ws.send(prompt(session, "long", GatewayTestProfile.MAX_TOKENS));
            await().atMost(WAIT).until(() -> !ws.of("long").isEmpty());
            ws.send(new CancelCommand(session, "c1", "long"));
            await().atMost(WAIT).until(() -> ws.finished("long"));
            assertEquals("cancelled", ws.of("long").getLast().get("finishReason").asText());
        }
    }

    @Test
    void wrongKeyIsRefusedWith401() {
        assertEquals(401, WsClient.connect(vertx, base, "/v1/sessions/" + id("s") + "/stream", "nope", null).status());
        assertEquals(401, WsClient.connect(vertx, base, "/v1/sessions/" + id("s") + "/stream", null, null).status());
    }

    @Test
    void anotherKeysSessionIsRefusedWith403() {
        String session = id("alice-");
        try (WsClient ignored = open(session, ALICE)) {
            assertEquals(403, WsClient.connect(vertx, base, "/v1/sessions/" + session + "/stream", BOB, null).status());
        }
    }

    @Test
    void foreignOriginIsRefusedWith403() {
        String path = "/v1/sessions/" + id("o") + "/stream";
        assertEquals(403, WsClient.connect(vertx, base, path, ALICE, "https://evil.example").status());
        String own = "http://" + base.getHost() + ":" + base.getPort();
        var ok = WsClient.connect(vertx, base, path, ALICE, own);
        assertEquals(101, ok.status());
        ok.client().close();
    }

    @Test
    void oversizeAndBrokenMessagesGetGatewayErrors() {
        String session = id("bad-");
        try (WsClient ws = open(session, ALICE)) {
            ws.send("{\"type\":\"prompt\",\"sessionId\":\"" + session + "\",\"requestId\":\"big\",\"text\":\""
                    + "x".repeat(GatewayTestProfile.MAX_MESSAGE_BYTES) + "\"}");
            ws.send("{not json");
            ws.send(new PromptRequest("someone-else", "wrong", "hi", null, null, null));
            ws.send(prompt(session, "huge", GatewayTestProfile.MAX_TOKENS + 1));
            await().atMost(WAIT).until(() -> ws.received.size() >= 4);
            List<Integer> statuses = ws.received.stream().map(n -> {
                assertEquals("gateway_error", n.get("type").asText(), n.toString());
                return n.get("status").asInt();
            }).toList();
            assertEquals(List.of(413, 400, 400, 400), statuses);
            assertEquals("malformed_json", ws.received.get(1).get("code").asText());
            assertEquals("session_mismatch", ws.received.get(2).get("code").asText());
            assertEquals("max_tokens_too_large", ws.received.get(3).get("code").asText());
            // the connection is still usable
            ws.send(prompt(session, "ok", 3));
            await().atMost(WAIT).until(() -> ws.finished("ok"));
            assertFalse(ws.of("ok").isEmpty());
        }
    }

    /** The engines' internal messages never pass, from another key nor from the session's own key. */
    @Test
    void anInternalMessageIsRefusedAndReachesNoOtherSession() {
        ImportInjection.assertRefused(vertx, base, ALICE, BOB);
        ImportInjection.assertRefused(vertx, base, ALICE, ALICE);
    }

    /** Whatever a front end builds, the gateway produces no internal type to the prompts topic. */
    @Test
    void theGatewaySendsNoInternalType() {
        var sent = gateway.send(new SessionImport("s1", "r1", "s0", "fp", new byte[0], 0));
        var failure = assertThrows(CompletionException.class, sent::join);
        assertInstanceOf(IllegalArgumentException.class, failure.getCause());
    }

    /** Every replica reads every partition itself: no consumer group, so none ever rebalances another. */
    @Test
    void theGatewayJoinsNoConsumerGroup() throws Exception {
        var groups = kafka.admin().listGroups().all().get(30, java.util.concurrent.TimeUnit.SECONDS).stream()
                .map(g -> g.groupId()).toList();
        assertFalse(groups.stream().anyMatch(g -> g.startsWith("ternstream-gateway")), "groups: " + groups);
    }

    /** The prompt channel traces each prompt and hands its context to the engine in the record's headers. */
    @Test
    void promptsCarryTheirTraceContextToTheEngine() {
        String session = id("trace-");
        try (WsClient ws = open(session, ALICE)) {
            ws.send(prompt(session, "t1", 2));
            await().atMost(WAIT).until(() -> ws.finished("t1"));
        }
        var properties = kafka.restoreConsumerProperties();
        try (var consumer = new org.apache.kafka.clients.consumer.KafkaConsumer<String, byte[]>(properties)) {
            String topic = gateway.topics().prompts();
            var partitions = consumer.partitionsFor(topic).stream()
                    .map(p -> new org.apache.kafka.common.TopicPartition(topic, p.partition())).toList();
            consumer.assign(partitions);
            consumer.seekToBeginning(partitions);
            var sent = new java.util.concurrent.atomic.AtomicReference<org.apache.kafka.common.header.Headers>();
            await().atMost(WAIT).until(() -> {
                consumer.poll(Duration.ofMillis(200)).forEach(r -> {
                    if (session.equals(r.key())) {
                        sent.set(r.headers());
                    }
                });
                return sent.get() != null;
            });
            assertNotNull(sent.get().lastHeader("traceparent"), "the prompt record has no trace context");
        }
    }
}
