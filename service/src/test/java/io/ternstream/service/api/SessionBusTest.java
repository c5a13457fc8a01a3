package io.ternstream.service.api;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.quarkus.test.junit.QuarkusTest;
import io.ternstream.schemas.FinishReason;
import io.ternstream.schemas.GenerationParams;
import io.ternstream.schemas.PromptRequest;
import io.ternstream.schemas.ReplyEvent;
import io.ternstream.schemas.TokenEvent;
import io.ternstream.schemas.TurnCompleteEvent;
import jakarta.inject.Inject;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;

/**
 * The whole service in one JVM (role all, embedded KRaft broker, the golden tiny model): a prompt
 * submitted through the gateway's internal API comes back as that session's events, in order.
 */
@QuarkusTest
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class SessionBusTest {
    private static final String READER = "ternstream-session-bus";

    @Inject
    SessionBus bus;

    /** The gateway has its own link to Kafka: the bus reads no replies until something uses it. */
    @Test
    @Order(1)
    void readsNothingUntilFirstUsed() throws Exception {
        assertTrue(Thread.getAllStackTraces().keySet().stream().noneMatch(t -> READER.equals(t.getName())),
                "the session bus's reader runs before anything used the bus");
        try (var s = bus.subscribe("bus-0", e -> { })) {
            assertTrue(Thread.getAllStackTraces().keySet().stream().anyMatch(t -> READER.equals(t.getName())),
                    "subscribing starts the reader");
        }
    }

    @Test
    void aSubmittedPromptStreamsBackToTheSessionsSubscriber() throws Exception {
        List<ReplyEvent> events = new CopyOnWriteArrayList<>();
        List<ReplyEvent> otherSession = new CopyOnWriteArrayList<>();
        try (var s = bus.subscribe("bus-1", events::add); var o = bus.subscribe("bus-2", otherSession::add)) {
            bus.send(PromptRequest.ofTokens("bus-1", "r1", List.of(1, 2, 3),
                    new GenerationParams(5, 0f, null, null, null, null, null, null))).toCompletableFuture()
                    .get(30, TimeUnit.SECONDS);
            await().atMost(Duration.ofSeconds(60)).until(() -> !events.isEmpty() && events.getLast().terminal());
        }
        for (int i = 0; i < events.size(); i++) {
            assertEquals(i, events.get(i).seq());
        }
        TurnCompleteEvent done = (TurnCompleteEvent) events.getLast();
        assertTrue(done.finishReason() == FinishReason.LENGTH || done.finishReason() == FinishReason.STOP);
        assertEquals(done.usage().completionTokens(), events.stream().filter(e -> e instanceof TokenEvent).count());
        assertTrue(otherSession.isEmpty(), "events go to their own session's subscribers only");
    }

    @Test
    void theMultiViewEndsWhenCancelled() throws Exception {
        var received = new CopyOnWriteArrayList<ReplyEvent>();
        var cancellable = bus.replies("bus-3").subscribe().with(received::add);
        bus.send(PromptRequest.ofTokens("bus-3", "r1", List.of(4), new GenerationParams(3, 0f, null, null, null, null,
                null, null))).toCompletableFuture().get(30, TimeUnit.SECONDS);
        await().atMost(Duration.ofSeconds(60)).until(() -> !received.isEmpty() && received.getLast().terminal());
        cancellable.cancel();
        assertEquals("r1", received.getFirst().requestId());
    }
}
