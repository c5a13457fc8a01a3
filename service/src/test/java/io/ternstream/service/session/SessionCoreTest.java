package io.ternstream.service.session;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.opentelemetry.api.OpenTelemetry;
import io.ternstream.engine.Engine;
import io.ternstream.engine.EngineOptions;
import io.ternstream.engine.state.SessionState;
import io.ternstream.schemas.CancelCommand;
import io.ternstream.schemas.ControlAckEvent;
import io.ternstream.schemas.DeleteCommand;
import io.ternstream.schemas.ErrorCode;
import io.ternstream.schemas.ErrorEvent;
import io.ternstream.schemas.FinishReason;
import io.ternstream.schemas.ForkCommand;
import io.ternstream.schemas.GenerationParams;
import io.ternstream.schemas.MessageCodec;
import io.ternstream.schemas.PromptRequest;
import io.ternstream.schemas.PromptTopicMessage;
import io.ternstream.schemas.ReplyEvent;
import io.ternstream.schemas.ResetCommand;
import io.ternstream.schemas.SessionImport;
import io.ternstream.schemas.TokenEvent;
import io.ternstream.schemas.TurnCompleteEvent;
import io.ternstream.service.config.ServiceConfig;
import io.ternstream.service.config.TestConfigs;
import io.ternstream.service.ops.ServiceMetrics;
import io.ternstream.service.ops.Tracing;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.stream.IntStream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The session semantics driven directly, without Kafka: work in, ticks, effects out. The model is
 * the golden tiny checkpoint (token-id prompts, no tokenizer).
 */
class SessionCoreTest {
    private static final MessageCodec CODEC = new MessageCodec();
    private static final SessionRecordCodec RECORDS = new SessionRecordCodec(CODEC);
    private static Engine engine;

    private final ServiceConfig config = TestConfigs.of(Map.of("ternstream.scheduler.session-ttl", "1h",
            "ternstream.scheduler.prefill-chunk-tokens", "4"));
    private RecordingEffects fx;
    private SimpleMeterRegistry registry;
    private ServiceMetrics metrics;
    private SessionCore core;
    private long now = 1_000_000;
    private long nextOffset;

    @BeforeAll
    static void openModel() throws Exception {
        engine = Engine.open(Path.of(System.getProperty("ternstream.model.dir")), new EngineOptions(1));
    }

    @AfterAll
    static void closeModel() {
        engine.close();
    }

    @BeforeEach
    void newCore() {
        fx = new RecordingEffects();
        registry = new SimpleMeterRegistry();
        metrics = new ServiceMetrics(registry);
        core = new SessionCore(engine, config.scheduler(), config.generation(), fx, RECORDS, metrics,
                new Tracing(OpenTelemetry.noop()), () -> now);
    }

    // ---- prompts ----

    @Test
    void aTurnStreamsItsTokensThenCompletesAndSavesTheContext() {
        long offset = submit(prompt("a", "r1", 6, 3, 5, 9));
        runUntilIdle();

        List<ReplyEvent> events = fx.of("r1");
        assertEquals(7, events.size(), "six tokens and the complete event");
        for (int i = 0; i < 6; i++) {
            assertEquals(i, assertInstanceOf(TokenEvent.class, events.get(i)).seq());
        }
        var complete = assertInstanceOf(TurnCompleteEvent.class, events.get(6));
        assertEquals(6, complete.seq());
        assertEquals(3, complete.usage().promptTokens());
        assertTrue(fx.done.contains(offset));
        SessionRecord saved = fx.store.get("a");
        assertEquals(1, saved.turnCount());
        assertEquals(complete, saved.answerOf("r1"));
        // the context is exactly the prompt plus every emitted token (the last one absorbed after the turn)
        int[] context = IntStream.concat(IntStream.of(3, 5, 9), events.subList(0, complete.usage().completionTokens())
                .stream().mapToInt(e -> ((TokenEvent) e).tokenIds().getFirst())).toArray();
        SessionState expected = engine.newState();
        engine.prefill(expected, context);
        assertArrayEquals(expected.toBytes(), saved.state());
        assertEquals(0, core.held(), "an idle session whose save is written leaves memory");
    }

    @Test
    void aPromptSentWhileATurnRunsWaitsForItThenContinuesTheSameContext() {
        submit(prompt("a", "r1", 5, 3, 5));
        core.tick();
        submit(prompt("a", "r2", 2, 7));
        runUntilIdle();

        int firstComplete = indexOfComplete("r1");
        assertTrue(firstComplete >= 0 && firstComplete < fx.replies.indexOf(fx.of("r2").getFirst()),
                "r2 starts after r1 ended");
        assertEquals(2, fx.store.get("a").turnCount());
    }

    @Test
    void sessionsInDifferentStatesAdvanceInOneBatchedStep() {
        submit(prompt("a", "r1", 8, 3, 5));
        submit(prompt("b", "r1", 8, 4, 6, 8, 10, 12, 14));
        runUntilIdle();
        assertInstanceOf(TurnCompleteEvent.class, fx.of("r1").stream().filter(e -> e.sessionId().equals("a")).toList().getLast());
        assertInstanceOf(TurnCompleteEvent.class, fx.of("r1").stream().filter(e -> e.sessionId().equals("b")).toList().getLast());
        assertEquals(2.0, registry.get("ternstream.batch.size").summary().max(), "both decoded in one engine step");
    }

    @Test
    void aRepeatedRequestIdIsAnsweredWithItsOriginalCompleteEvent() {
        submit(prompt("a", "r1", 3, 3, 5));
        runUntilIdle();
        ReplyEvent original = fx.of("r1").getLast();
        int before = fx.replies.size();

        long retry = submit(prompt("a", "r1", 3, 3, 5));
        runUntilIdle();

        assertEquals(List.of(original), fx.replies.subList(before, fx.replies.size()), "the same event again, nothing rerun");
        assertTrue(fx.done.contains(retry));
        assertEquals(1, fx.store.get("a").turnCount());
    }

    @Test
    void aRedoneTurnSkipsTheEventsAlreadyDeliveredAndProducesTheSameTokens() {
        submit(prompt("a", "r1", 6, 3, 5));
        runUntilIdle();
        List<ReplyEvent> first = fx.of("r1");

        newCore(); // another instance takes the work up again, as after a crash
        core.submit(new Work(0, 0, prompt("a", "r1", 6, 3, 5), new int[] {3, 5}, null, System.nanoTime()), null, 4);
        runUntilIdle();

        assertEquals(first.subList(4, first.size()).stream().map(SessionCoreTest::withoutTimings).toList(),
                fx.of("r1").stream().map(SessionCoreTest::withoutTimings).toList());
    }

    @Test
    void workAtOrBelowTheStoredRecordsOffsetIsNeverAppliedAgainWhateverItsRequestId() {
        long first = submit(prompt("a", "r1", 3, 3, 5));
        runUntilIdle();
        SessionRecord saved = fx.store.get("a");
        assertEquals(first, saved.appliedOffset());

        // a pending store restored from a stale copy still holds the applied work, its requestId long forgotten
        newCore();
        fx.store.put("a", saved);
        core.submit(new Work(0, first, prompt("a", "forgotten", 3, 3, 5), new int[] {3, 5}, null, System.nanoTime()),
                RECORDS.encode(saved), 0);
        runUntilIdle();

        assertTrue(fx.replies.isEmpty(), "nothing answered: the answer went out when it was applied");
        assertTrue(fx.done.contains(first), "the stale copy is done");
        assertEquals(1, fx.store.get("a").turnCount(), "the context took the turn once");
        assertEquals(1.0, metricsCount("ternstream.requests.duplicate"));

        long next = submit(prompt("a", "r2", 2, 7));
        runUntilIdle();
        assertEquals(2, fx.store.get("a").turnCount(), "later work still runs");
        assertEquals(next, fx.store.get("a").appliedOffset());
    }

    @Test
    void aFinishedRecordTakenUpAgainWithItsProgressSendsNothingAgain() {
        long first = submit(prompt("a", "r1", 3, 3, 5));
        runUntilIdle();
        SessionRecord saved = fx.store.get("a");
        List<ReplyEvent> answer = fx.of("r1");
        int delivered = fx.progress.get(first);
        assertEquals(answer.size(), delivered, "the completion counts as delivered");

        // a graceful hand-over before the finished record's deferred delete: the next owner restores both
        newCore();
        fx.store.put("a", saved);
        core.submit(new Work(0, first, prompt("a", "r1", 3, 3, 5), new int[] {3, 5}, null, System.nanoTime()),
                RECORDS.encode(saved), delivered);
        runUntilIdle();

        assertTrue(fx.replies.isEmpty(), "the answer went out in full before the hand-over");
        assertTrue(fx.done.contains(first));
        assertEquals(1, fx.store.get("a").turnCount());
    }

    @Test
    void aControlsAnswerCountsAsDelivered() {
        long offset = submit(new ResetCommand("a", "x1"));
        runUntilIdle();
        assertEquals(1, fx.progress.get(offset));
    }

    // ---- cancel ----

    @Test
    void cancelStopsARunningTurnWithinAStepAndKeepsWhatWasSaid() {
        submit(prompt("a", "r1", 200, 3, 5));
        core.tick();
        core.tick();
        submit(new CancelCommand("a", "c1", null));
        runUntilIdle();

        var ack = assertInstanceOf(ControlAckEvent.class, fx.of("c1").getFirst());
        assertTrue(ack.ok());
        var complete = assertInstanceOf(TurnCompleteEvent.class, fx.of("r1").getLast());
        assertEquals(FinishReason.CANCELLED, complete.finishReason());
        assertTrue(complete.usage().completionTokens() < 5);
        assertEquals(1, fx.store.get("a").turnCount());
    }

    @Test
    void cancelOfAQueuedPromptAnswersItWithoutRunningIt() {
        submit(prompt("a", "r1", 4, 3, 5));
        core.tick();
        submit(prompt("a", "r2", 4, 7));
        submit(new CancelCommand("a", "c1", "r2"));
        runUntilIdle();

        assertEquals(List.of(new TurnCompleteEvent("a", "r2", 0, null, FinishReason.CANCELLED,
                new io.ternstream.schemas.Usage(0, 0, 0, 0))), fx.of("r2"));
        assertTrue(((ControlAckEvent) fx.of("c1").getFirst()).ok());
    }

    @Test
    void cancelOfAnUnknownSessionIsAnErrorAndADeadLetter() {
        long offset = submit(new CancelCommand("nobody", "c1", null));
        runUntilIdle();
        assertEquals(ErrorCode.UNKNOWN_SESSION, ((ErrorEvent) fx.of("c1").getFirst()).code());
        assertEquals(List.of(offset), fx.deadLetters);
    }

    // ---- reset, delete ----

    @Test
    void resetEmptiesTheStateAndKeepsTheSession() {
        submit(prompt("a", "r1", 3, 3, 5));
        submit(new ResetCommand("a", "x1"));
        runUntilIdle();
        assertTrue(((ControlAckEvent) fx.of("x1").getFirst()).ok());
        assertNull(fx.store.get("a").state());
        assertEquals(1, fx.store.get("a").turnCount());
    }

    @Test
    void controlsOfAnUnknownSessionAreRefused() {
        submit(new ResetCommand("nobody", "x1"));
        submit(new DeleteCommand("nobody", "x2"));
        submit(new ForkCommand("nobody", "x3", "other"));
        runUntilIdle();
        for (String id : List.of("x1", "x2", "x3")) {
            assertEquals(ErrorCode.UNKNOWN_SESSION, ((ErrorEvent) fx.of(id).getFirst()).code(), id);
        }
        assertEquals(3, fx.deadLetters.size());
        assertFalse(fx.store.containsKey("nobody"));
    }

    @Test
    void deleteForgetsTheConversationAndALaterPromptStartsANewOne() {
        submit(prompt("a", "r1", 3, 3, 5));
        submit(new DeleteCommand("a", "d1"));
        runUntilIdle();
        assertTrue(fx.store.get("a").deleted());
        assertNull(fx.store.get("a").state());

        submit(prompt("a", "r2", 3, 3, 5));
        runUntilIdle();
        SessionRecord after = fx.store.get("a");
        assertFalse(after.deleted());
        assertEquals(1, after.turnCount());
        assertEquals(tokensOf("r1"), tokensOf("r2"), "the same prompt and seed on an empty state: the same reply");
    }

    // ---- fork and import ----

    @Test
    void forkOfARunningSessionCopiesTheStateAfterItsTurn() {
        submit(prompt("a", "r1", 5, 3, 5));
        core.tick();
        submit(new ForkCommand("a", "f1", "b"));
        runUntilIdle();

        SessionImport copy = fx.imports.getFirst();
        assertEquals("b", copy.sessionId());
        assertEquals("a", copy.sourceSessionId());
        assertArrayEquals(fx.store.get("a").state(), copy.state(), "the copy is the state after r1");
        assertEquals(1, copy.turnCount());

        long importOffset = submit(copy);
        runUntilIdle();
        var ack = assertInstanceOf(ControlAckEvent.class, fx.of("f1").getLast());
        assertEquals("a", ack.sessionId(), "the fork is acknowledged to the source's stream");
        assertTrue(ack.ok());
        assertArrayEquals(copy.state(), fx.store.get("b").state());
        assertTrue(fx.done.contains(importOffset));
    }

    @Test
    void importIntoAnExistingSessionIsRefused() {
        submit(prompt("b", "r1", 2, 3));
        runUntilIdle();
        submit(new SessionImport("b", "f1", "a", engine.fingerprint(), new byte[0], 0));
        runUntilIdle();
        assertFalse(((ControlAckEvent) fx.of("f1").getFirst()).ok());
    }

    @Test
    void forkIntoItselfIsRefused() {
        submit(prompt("a", "r1", 2, 3));
        submit(new ForkCommand("a", "f1", "a"));
        runUntilIdle();
        assertEquals(ErrorCode.INVALID_PARAMETERS, ((ErrorEvent) fx.of("f1").getFirst()).code());
    }

    // ---- lost state ----

    @Test
    void anUnreadableStoredRecordIsReportedOnTheNextPromptNeverSilentlyEmptied() {
        long offset = nextOffset++;
        core.submit(new Work(0, offset, prompt("a", "r1", 3, 3), new int[] {3}, null, System.nanoTime()),
                new byte[] {'T', 'S', 'R', '1', 0, 0, 0, 0, 99}, 0);
        runUntilIdle();

        var error = assertInstanceOf(ErrorEvent.class, fx.of("r1").getFirst());
        assertEquals(ErrorCode.STATE_LOST, error.code());
        assertEquals(1, fx.of("r1").size(), "the prompt is not run on an empty state");
        assertEquals(1.0, metricsCount("ternstream.states.lost"));

        submit(prompt("a", "r2", 2, 3));
        runUntilIdle();
        assertInstanceOf(TurnCompleteEvent.class, fx.of("r2").getLast(), "told once, the session starts over");
    }

    @Test
    void aRecordOfAnotherModelIsLostToo() {
        byte[] foreign = RECORDS.encode(new SessionRecord("a", "another-model", new byte[] {1}, 3, now, false, -1, List.of()));
        core.submit(new Work(0, nextOffset++, prompt("a", "r1", 3, 3), new int[] {3}, null, System.nanoTime()), foreign, 0);
        runUntilIdle();
        assertEquals(ErrorCode.STATE_LOST, ((ErrorEvent) fx.of("r1").getFirst()).code());
    }

    // ---- TTL, memory ----

    @Test
    void expiredSessionsAreRemovedUnlessTheyHaveWork() {
        submit(prompt("idle", "r1", 2, 3));
        runUntilIdle();
        submit(prompt("busy", "r1", 50, 3));
        core.tick();

        now += Duration.ofHours(2).toMillis();
        assertTrue(fx.store.get("idle").expired(now, config.scheduler().sessionTtl()));
        core.expire(0, List.of("idle", "busy"));

        assertFalse(fx.store.containsKey("idle"));
        runUntilIdle();
        assertTrue(fx.store.containsKey("busy"), "a session with work is not expired");
    }

    @Test
    void aMovedPartitionDropsItsSessionsAndTurns() {
        submit(prompt("a", "r1", 50, 3));
        core.tick();
        core.dropPartition(0);
        assertFalse(core.hasWork());
        assertEquals(0, core.held());
    }

    // ---- helpers ----

    private long submit(PromptTopicMessage message) {
        long offset = nextOffset++;
        int[] tokens = message instanceof PromptRequest p ? p.tokenIds().stream().mapToInt(Integer::intValue).toArray() : null;
        SessionRecord stored = fx.store.get(message.sessionId());
        core.submit(new Work(0, offset, message, tokens, null, System.nanoTime()),
                stored == null ? null : RECORDS.encode(stored), 0);
        return offset;
    }

    /** Ticks until every session is idle, confirming saves as a store would. */
    private void runUntilIdle() {
        for (int i = 0; i < 10_000 && (core.hasWork() || !fx.unconfirmedSaves.isEmpty()); i++) {
            if (core.hasWork()) {
                core.tick();
            }
            List<String> saves = List.copyOf(fx.unconfirmedSaves);
            fx.unconfirmedSaves.clear();
            saves.forEach(core::written);
        }
        assertFalse(core.hasWork(), "the core went idle");
    }

    private static PromptRequest prompt(String session, String requestId, int maxTokens, Integer... tokens) {
        return PromptRequest.ofTokens(session, requestId, List.of(tokens),
                new GenerationParams(maxTokens, 0.7f, null, null, null, null, 42L, null));
    }

    private int indexOfComplete(String requestId) {
        for (int i = 0; i < fx.replies.size(); i++) {
            if (fx.replies.get(i) instanceof TurnCompleteEvent c && c.requestId().equals(requestId)) {
                return i;
            }
        }
        return -1;
    }

    private List<Integer> tokensOf(String requestId) {
        return fx.of(requestId).stream().filter(e -> e instanceof TokenEvent).map(e -> ((TokenEvent) e).tokenIds().getFirst()).toList();
    }

    private double metricsCount(String name) {
        return registry.get(name).counter().count();
    }

    /** Timing fields differ between runs; everything else of an event must repeat exactly. */
    private static ReplyEvent withoutTimings(ReplyEvent e) {
        if (e instanceof TurnCompleteEvent c) {
            return new TurnCompleteEvent(c.sessionId(), c.requestId(), c.seq(), c.text(), c.finishReason(),
                    new io.ternstream.schemas.Usage(c.usage().promptTokens(), c.usage().completionTokens(), 0, 0));
        }
        return e;
    }
}
