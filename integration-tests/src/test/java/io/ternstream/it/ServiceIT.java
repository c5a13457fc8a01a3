package io.ternstream.it;

import static io.ternstream.it.Clients.sampled;
import static io.ternstream.it.Clients.tokens;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.ternstream.schemas.CancelCommand;
import io.ternstream.schemas.Contracts;
import io.ternstream.schemas.ControlAckEvent;
import io.ternstream.schemas.DeleteCommand;
import io.ternstream.schemas.ErrorCode;
import io.ternstream.schemas.ErrorEvent;
import io.ternstream.schemas.FinishReason;
import io.ternstream.schemas.ForkCommand;
import io.ternstream.schemas.GenerationParams;
import io.ternstream.schemas.PromptRequest;
import io.ternstream.schemas.ReplyEvent;
import io.ternstream.schemas.ResetCommand;
import io.ternstream.schemas.TokenEvent;
import io.ternstream.schemas.TurnCompleteEvent;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Set;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.common.header.Header;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The service process against a real KRaft broker, driven only through Kafka: conversations keep
 * their context, many sessions stream at once in order, controls do what they say, and bad records
 * go to the dead-letter topic while other sessions keep streaming.
 */
class ServiceIT {
    private static final Duration TIMEOUT = Duration.ofSeconds(120);
    private static Broker.Topics topics;
    private static ServiceProcess service;
    private static Clients kafka;

    @BeforeAll
    static void start() {
        topics = Broker.Topics.create("service-it", 4);
        service = ServiceProcess.start("service-it", topics, "-Dternstream.scheduler.session-ttl=8s");
        kafka = new Clients(topics);
        // idles from now on; sessionsExpireAfterTheirTtl waits for its tombstone
        kafka.send(tokens("ttl-1", "r", List.of(1, 2), 2));
    }

    @AfterAll
    static void stop() throws InterruptedException {
        if (kafka != null) {
            kafka.close();
        }
        if (service != null) {
            service.close();
        }
    }

    private static void awaitCompleted(String session, String request) {
        await(session + "/" + request + " completes").atMost(TIMEOUT).until(() -> kafka.completed(session, request));
    }

    private static List<Integer> concat(List<Integer> a, List<Integer> b, List<Integer> c) {
        List<Integer> all = new ArrayList<>(a);
        all.addAll(b);
        all.addAll(c);
        return all;
    }

    @Test
    void secondTurnContinuesTheFirstTurnsContext() {
        List<Integer> turn1 = List.of(1, 10, 20, 30);
        List<Integer> turn2 = List.of(40, 50);
        kafka.send(tokens("ctx-a", "t1", turn1, 6));
        kafka.send(tokens("ctx-a", "t2", turn2, 6));
        awaitCompleted("ctx-a", "t1");
        awaitCompleted("ctx-a", "t2");
        List<Integer> generated1 = kafka.generated("ctx-a", "t1");
        List<Integer> generated2 = kafka.generated("ctx-a", "t2");
        assertFalse(generated1.isEmpty());

        // one prompt holding both turns: the first prompt, the first answer, the second prompt
        kafka.send(tokens("ctx-b", "whole", concat(turn1, generated1, turn2), 6));
        awaitCompleted("ctx-b", "whole");
        assertEquals(generated2, kafka.generated("ctx-b", "whole"),
                "the second turn must see exactly the context of the first");
        TurnCompleteEvent done = kafka.completion("ctx-a", "t2");
        assertEquals(turn2.size(), done.usage().promptTokens());
        assertEquals(generated2.size(), done.usage().completionTokens());
    }

    @Test
    void aRepeatedRequestIdIsAnsweredWithTheOriginalCompleteEvent() {
        kafka.send(sampled("dup-a", "r1", List.of(3, 4, 5), 6));
        awaitCompleted("dup-a", "r1");
        TurnCompleteEvent original = kafka.completion("dup-a", "r1");
        int before = kafka.events("dup-a").size();

        kafka.send(sampled("dup-a", "r1", List.of(3, 4, 5), 6)); // a client retrying after a lost connection
        await("the retry is answered").atMost(TIMEOUT).until(() -> kafka.events("dup-a").size() > before);

        List<Clients.Received> answer = kafka.events("dup-a").subList(before, kafka.events("dup-a").size());
        assertEquals(List.of(original), answer.stream().map(Clients.Received::event).toList(),
                "the same complete event (same seq, usage and finish reason), and the turn is not run again");
        assertTrue(service.metric("ternstream_requests_duplicate_total") >= 1);
    }

    @Test
    void fiftyConcurrentSessionsAllCompleteEachInOrder() {
        List<String> sessions = IntStream.range(0, 50).mapToObj(i -> "many-" + i).toList();
        for (String s : sessions) {
            kafka.send(sampled(s, "a", List.of(3, 4, 5 + s.length()), 12));
            kafka.send(sampled(s, "b", List.of(7, 8), 12));
        }
        await("50 sessions x 2 turns").atMost(TIMEOUT)
                .until(() -> sessions.stream().allMatch(s -> kafka.completed(s, "a") && kafka.completed(s, "b")));
        for (String s : sessions) {
            List<ReplyEvent> arrived = kafka.events(s).stream().map(Clients.Received::event).toList();
            int lastOfA = -1;
            int firstOfB = Integer.MAX_VALUE;
            for (int i = 0; i < arrived.size(); i++) {
                if (arrived.get(i).requestId().equals("a")) {
                    lastOfA = i;
                } else {
                    firstOfB = Math.min(firstOfB, i);
                }
            }
            assertTrue(lastOfA < firstOfB, s + ": turn b started before turn a ended: " + arrived);
            for (String request : List.of("a", "b")) {
                List<ReplyEvent> events = arrived.stream().filter(e -> e.requestId().equals(request)).toList();
                for (int i = 0; i < events.size(); i++) {
                    assertEquals(i, events.get(i).seq(), s + "/" + request + " out of order: " + events);
                }
                ReplyEvent last = events.getLast();
                assertTrue(last instanceof TurnCompleteEvent, s + "/" + request + " ends with " + last);
                assertEquals(events.size() - 1, ((TurnCompleteEvent) last).usage().completionTokens());
            }
        }
    }

    @Test
    void cancelStopsARunningTurn() {
        PromptRequest longOne = PromptRequest.ofTokens("cancel-1", "long", List.of(5, 6, 7),
                new GenerationParams(4000, 0.8f, null, null, null, null, 7L, null));
        kafka.send(longOne);
        await().atMost(TIMEOUT).until(() -> kafka.request("cancel-1", "long").size() >= 3);
        kafka.send(new CancelCommand("cancel-1", "stop-it", "long"));
        awaitCompleted("cancel-1", "long");
        TurnCompleteEvent done = kafka.completion("cancel-1", "long");
        assertEquals(FinishReason.CANCELLED, done.finishReason());
        assertTrue(done.usage().completionTokens() < 4000);
        ControlAckEvent ack = (ControlAckEvent) kafka.request("cancel-1", "stop-it").getFirst();
        assertTrue(ack.ok(), ack.toString());
        assertEquals("cancel", ack.command());
    }

    @Test
    void resetForgetsTheContextAndDeleteRemovesTheSession() {
        List<Integer> prompt = List.of(5, 6, 7);
        kafka.send(tokens("reset-1", "p1", prompt, 5));
        kafka.send(tokens("reset-1", "p2", List.of(8), 5));
        kafka.send(new ResetCommand("reset-1", "x1"));
        kafka.send(tokens("reset-1", "p3", prompt, 5));
        awaitCompleted("reset-1", "p3");
        assertEquals(kafka.generated("reset-1", "p1"), kafka.generated("reset-1", "p3"),
                "after a reset the same prompt gives what it gave in a new session");
        assertTrue(((ControlAckEvent) kafka.request("reset-1", "x1").getFirst()).ok());

        kafka.send(new DeleteCommand("reset-1", "d1"));
        kafka.send(new ResetCommand("reset-1", "x2"));
        kafka.send(tokens("reset-1", "p4", prompt, 5));
        awaitCompleted("reset-1", "p4");
        assertTrue(((ControlAckEvent) kafka.request("reset-1", "d1").getFirst()).ok());
        ErrorEvent unknown = (ErrorEvent) kafka.request("reset-1", "x2").getFirst();
        assertEquals(ErrorCode.UNKNOWN_SESSION, unknown.code(), "a deleted session cannot be reset");
        assertEquals(kafka.generated("reset-1", "p1"), kafka.generated("reset-1", "p4"),
                "a prompt after delete starts a new conversation");
    }

    @Test
    void forkCopiesTheStateIntoAnIndependentSession() {
        kafka.send(tokens("fork-src", "p1", List.of(9, 8, 7), 6));
        kafka.send(new ForkCommand("fork-src", "f1", "fork-dst"));
        awaitCompleted("fork-src", "f1");
        ControlAckEvent ack = (ControlAckEvent) kafka.request("fork-src", "f1").getFirst();
        assertTrue(ack.ok(), ack.toString());
        kafka.send(tokens("fork-src", "p2", List.of(3, 4), 8));
        kafka.send(tokens("fork-dst", "p2", List.of(3, 4), 8));
        awaitCompleted("fork-src", "p2");
        awaitCompleted("fork-dst", "p2");
        assertEquals(kafka.generated("fork-src", "p2"), kafka.generated("fork-dst", "p2"),
                "the fork continues from the same state");
        assertEquals(2, kafka.completion("fork-dst", "p2").usage().promptTokens());

        kafka.send(new ForkCommand("no-such-session", "f2", "whatever"));
        awaitCompleted("no-such-session", "f2");
        assertEquals(ErrorCode.UNKNOWN_SESSION, ((ErrorEvent) kafka.request("no-such-session", "f2").getFirst()).code());
    }

    @Test
    void badRecordsGoToTheDeadLetterTopicWhileOtherSessionsStream() {
        List<String> streaming = IntStream.range(0, 5).mapToObj(i -> "steady-" + i).toList();
        streaming.forEach(s -> kafka.send(sampled(s, "r", List.of(11, 12), 40)));
        int before = kafka.deadLetters.size();

        kafka.sendRaw("poison-1", "{not json".getBytes(StandardCharsets.UTF_8));
        kafka.sendRaw("poison-2", "{\"type\":\"prompt\",\"sessionId\":\"poison-2\",\"requestId\":\"q\",\"tokenIds\":[1],\"params\":{\"temperature\":-1}}".getBytes(StandardCharsets.UTF_8));
        kafka.sendRaw("poison-3", Clients.CODEC.encode(tokens("someone-else", "q", List.of(1), 2)));
        kafka.send(PromptRequest.ofText("poison-4", "q", "text needs a tokenizer", null));
        kafka.send(tokens("poison-5", "q", List.of(1, 600), 2));
        kafka.send(tokens("poison-6", "q", Collections.nCopies(9000, 1), 2));
        kafka.send(new CancelCommand("poison-7", "q", null));
        kafka.sendRaw("poison-8", null);

        await("8 dead letters").atMost(TIMEOUT).until(() -> kafka.deadLetters.size() - before >= 8);
        await("streaming sessions complete").atMost(TIMEOUT)
                .until(() -> streaming.stream().allMatch(s -> kafka.completed(s, "r")));
        List<ConsumerRecord<String, byte[]>> dead = kafka.deadLetters.subList(before, kafka.deadLetters.size());
        assertEquals(Set.of("poison-1", "poison-2", "poison-3", "poison-4", "poison-5", "poison-6", "poison-7", "poison-8"),
                dead.stream().map(ConsumerRecord::key).collect(Collectors.toSet()));
        for (ConsumerRecord<String, byte[]> r : dead) {
            assertNotNull(header(r, Contracts.HEADER_DLQ_REASON), r.key() + " has no reason");
            assertEquals(topics.prompts(), header(r, Contracts.HEADER_DLQ_TOPIC));
            assertNotNull(header(r, Contracts.HEADER_DLQ_OFFSET));
        }
        assertEquals("malformed_json", header(find(dead, "poison-1"), Contracts.HEADER_DLQ_CODE));
        assertTrue(header(find(dead, "poison-2"), Contracts.HEADER_DLQ_REASON).contains("$.params.temperature"));
        assertEquals("{not json", new String(find(dead, "poison-1").value(), StandardCharsets.UTF_8), "bytes unchanged");
        // an error event wherever a sessionId and requestId could be read
        await().atMost(TIMEOUT).until(() -> kafka.completed("poison-2", "q") && kafka.completed("someone-else", "q")
                && kafka.completed("poison-4", "q") && kafka.completed("poison-5", "q")
                && kafka.completed("poison-6", "q") && kafka.completed("poison-7", "q"));
        assertEquals(ErrorCode.SCHEMA_VIOLATION, error("poison-2").code());
        assertEquals(ErrorCode.KEY_MISMATCH, error("someone-else").code());
        assertEquals(ErrorCode.NO_TOKENIZER, error("poison-4").code());
        assertEquals(ErrorCode.INVALID_PARAMETERS, error("poison-5").code());
        assertEquals(ErrorCode.PROMPT_TOO_LONG, error("poison-6").code());
        assertEquals(ErrorCode.UNKNOWN_SESSION, error("poison-7").code());
        for (String s : streaming) {
            long tokens = kafka.request(s, "r").stream().filter(e -> e instanceof TokenEvent).count();
            assertEquals(kafka.completion(s, "r").usage().completionTokens(), tokens);
        }
        assertTrue(service.alive());
        assertTrue(service.metric("ternstream_records_rejected_total") >= 8);
    }

    private static ErrorEvent error(String session) {
        return (ErrorEvent) kafka.request(session, "q").getFirst();
    }

    private static ConsumerRecord<String, byte[]> find(List<ConsumerRecord<String, byte[]>> records, String key) {
        return records.stream().filter(r -> key.equals(r.key())).findFirst().orElseThrow();
    }

    private static String header(ConsumerRecord<String, byte[]> r, String name) {
        Header h = r.headers().lastHeader(name);
        return h == null ? null : new String(h.value(), StandardCharsets.UTF_8);
    }

    @Test
    void sessionsExpireAfterTheirTtl() {
        await("tombstone of the idle session").atMost(Duration.ofSeconds(60)).until(() -> kafka.stateRecords.stream()
                .anyMatch(r -> r.key().equals("ttl-1") && r.value() == null));
        assertTrue(kafka.stateRecords.stream().anyMatch(r -> r.key().equals("ttl-1") && r.value() != null),
                "its snapshot was written first");
        kafka.send(new ResetCommand("ttl-1", "after-expiry"));
        awaitCompleted("ttl-1", "after-expiry");
        assertEquals(ErrorCode.UNKNOWN_SESSION, ((ErrorEvent) kafka.request("ttl-1", "after-expiry").getFirst()).code());
    }

    @Test
    void traceContextTravelsFromThePromptToItsReplies() {
        String traceId = "4bf92f3577b34da6a3ce929d0e0e4736";
        kafka.sendRaw("traced", Clients.CODEC.encode(tokens("traced", "r", List.of(1, 2), 3)),
                java.util.Map.of("traceparent", "00-" + traceId + "-00f067aa0ba902b7-01"));
        awaitCompleted("traced", "r");
        for (Clients.Received r : kafka.events("traced")) {
            assertNotNull(r.traceparent(), "reply without trace context: " + r.event());
            assertEquals(traceId, r.traceparent().split("-")[1], "the replies belong to the prompt's trace");
        }
    }

    @Test
    void theTerminalClientStreamsOneTurn() throws Exception {
        var json = ServiceProcess.client("--bootstrap-servers", Broker.bootstrapServers(), "--session", "cli-1",
                "--tokens", "1,2,3", "--max-tokens", "5", "--temperature", "0", "--json",
                "--prompts-topic", topics.prompts(), "--replies-topic", topics.replies());
        assertEquals(0, json.status(), json.err());
        List<String> lines = json.out().lines().toList();
        ReplyEvent last = Clients.CODEC.decodeReply(lines.getLast().getBytes(StandardCharsets.UTF_8));
        assertTrue(last instanceof TurnCompleteEvent, "the last line is the turn-complete event: " + lines);
        assertEquals(lines.size() - 1, ((TurnCompleteEvent) last).usage().completionTokens());

        var plain = ServiceProcess.client("--bootstrap-servers", Broker.bootstrapServers(), "--session", "cli-2",
                "--tokens", "1,2,3", "--max-tokens", "5", "--temperature", "0",
                "--prompts-topic", topics.prompts(), "--replies-topic", topics.replies());
        assertEquals(0, plain.status(), plain.err());
        List<Integer> ids = kafka.generated("cli-2", kafka.events("cli-2").getFirst().event().requestId());
        assertEquals(ids.stream().map(String::valueOf).collect(Collectors.joining(" ")), plain.out().trim(),
                "without a tokenizer the client prints the token ids");
        assertTrue(plain.err().contains("completion tokens"), plain.err());

        var refused = ServiceProcess.client("--bootstrap-servers", Broker.bootstrapServers(), "--session", "cli-3",
                "--prompt", "this model has no tokenizer", "--prompts-topic", topics.prompts(),
                "--replies-topic", topics.replies());
        assertEquals(1, refused.status());
        assertTrue(refused.err().contains("no_tokenizer"), refused.err());
    }

    @Test
    void healthAndMetricsAnswer() {
        assertEquals(200, service.get("/q/health/ready"));
        assertEquals(200, service.get("/q/health/live"));
        String metrics = service.body("/q/metrics");
        for (String name : List.of("ternstream_tokens_generated_total", "ternstream_time_to_first_token_seconds",
                "ternstream_inter_token_latency_seconds", "ternstream_sessions_active", "ternstream_batch_size",
                "ternstream_partitions_assigned", "ternstream_states_lost_total", "ternstream_states_restored_total")) {
            assertTrue(metrics.contains(name), "missing metric " + name);
        }
    }
}
