package io.ternstream.it;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.ternstream.schemas.FinishReason;
import io.ternstream.schemas.GenerationParams;
import io.ternstream.schemas.PromptRequest;
import io.ternstream.schemas.ReplyEvent;
import io.ternstream.schemas.TokenEvent;
import io.ternstream.schemas.TurnCompleteEvent;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The bundled model (with its tokenizer) behind Kafka: text in, text deltas out, stop strings. */
class TextModelIT {
    private static Broker.Topics topics;
    private static ServiceProcess service;
    private static Clients kafka;

    @BeforeAll
    static void start() {
        topics = Broker.Topics.create("text-it", 2);
        service = ServiceProcess.start("text-it", topics, ServiceProcess.BUNDLED_MODEL);
        kafka = new Clients(topics);
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

    private static String text(String session, String request) {
        StringBuilder sb = new StringBuilder();
        for (ReplyEvent e : kafka.request(session, request)) {
            if (e instanceof TokenEvent t) {
                sb.append(t.text());
            } else if (e instanceof TurnCompleteEvent c && c.text() != null) {
                sb.append(c.text());
            }
        }
        return sb.toString();
    }

    @Test
    void textStreamsAndAStopStringEndsTheTurn() {
        var greedy = new GenerationParams(24, 0f, null, null, null, null, null, null);
        kafka.send(PromptRequest.ofText("story", "r1", "Once upon a time", greedy));
        await().atMost(Duration.ofSeconds(120)).until(() -> kafka.completed("story", "r1"));
        String full = text("story", "r1");
        assertFalse(full.isBlank(), "the reply has text");
        assertEquals(FinishReason.LENGTH, kafka.completion("story", "r1").finishReason());

        // the same prompt in a new session, stopping at a piece of what it said before
        String stop = full.substring(full.length() / 2, full.length() / 2 + 3);
        var stopping = new GenerationParams(24, 0f, null, null, null, null, null, List.of(stop));
        kafka.send(PromptRequest.ofText("story-2", "r1", "Once upon a time", stopping));
        await().atMost(Duration.ofSeconds(120)).until(() -> kafka.completed("story-2", "r1"));
        assertEquals(FinishReason.STOP, kafka.completion("story-2", "r1").finishReason());
        String stopped = text("story-2", "r1");
        assertEquals(full.substring(0, full.indexOf(stop)), stopped, "text up to the stop string, without it");
        assertTrue(kafka.completion("story-2", "r1").usage().completionTokens() < 24);
    }
}
