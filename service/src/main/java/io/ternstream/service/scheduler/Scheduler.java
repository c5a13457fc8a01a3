package io.ternstream.service.scheduler;

import io.ternstream.engine.Engine;
import io.ternstream.engine.sampling.Sampler;
import io.ternstream.engine.sampling.SamplingParams;
import io.ternstream.engine.sampling.StopMatcher;
import io.ternstream.engine.state.SessionState;
import io.ternstream.engine.tokenizer.StreamingDetokenizer;
import io.ternstream.engine.tokenizer.TextTokenizer;
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
import io.ternstream.schemas.ResetCommand;
import io.ternstream.schemas.SessionImport;
import io.ternstream.schemas.SessionSnapshot;
import io.ternstream.schemas.TokenEvent;
import io.ternstream.schemas.TurnCompleteEvent;
import io.ternstream.schemas.Usage;
import io.ternstream.service.config.ServiceConfig;
import io.ternstream.service.ops.ServiceMetrics;
import io.ternstream.service.ops.Tracing;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Iterator;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.consumer.CloseOptions;
import org.apache.kafka.clients.consumer.Consumer;
import org.apache.kafka.clients.consumer.ConsumerRebalanceListener;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.jboss.logging.Logger;
import org.jboss.logging.MDC;

/**
 * The engine loop. One thread owns the prompts consumer, the engine and every session, so nothing
 * here is shared or locked. Each iteration:
 * <ol>
 *   <li>reads whatever records arrived (never blocking while turns run) and queues them per session,
 *       pausing the consumer while the number of sessions with work is at its bound;</li>
 *   <li>starts the next queued record of every idle session (one turn per session, in offset order);</li>
 *   <li>prefills prompts in chunks up to a per-iteration token budget, so long prompts interleave
 *       with decoding;</li>
 *   <li>advances every decoding session with one batched engine step (continuous batching);</li>
 *   <li>commits offsets whose records are finished: reply events acknowledged and the session's
 *       snapshot written to the state topic.</li>
 * </ol>
 */
public final class Scheduler {
    private static final Logger LOG = Logger.getLogger(Scheduler.class);
    private static final Duration IDLE_POLL = Duration.ofMillis(50);
    private static final long SWEEP_INTERVAL_NANOS = TimeUnit.SECONDS.toNanos(1);
    /** While turns run, Kafka is polled at most this often: a poll costs more than a small model's step. */
    private static final long GAUGE_INTERVAL_NANOS = TimeUnit.MILLISECONDS.toNanos(100);
    private static final long BUSY_POLL_INTERVAL_NANOS = TimeUnit.MICROSECONDS.toNanos(500);

    /** A record whose outgoing records were all acknowledged (error == null) or failed. */
    private record Done(TopicPartition partition, long offset, Throwable error) {}

    private final ServiceConfig config;
    private final Engine engine;
    private final Consumer<String, byte[]> consumer;
    private final Outbound out;
    private final TokenPublisher tokens;
    private final SessionStateStore store;
    private final DeadLetterPublisher deadLetters;
    private final PromptProcessor processor;
    private final MessageCodec codec;
    private final ServiceMetrics metrics;
    private final Tracing tracing;
    private final String promptsTopic;
    private final String fingerprint;
    private final Integer eosTokenId;
    private final Integer bosTokenId;
    private final Optional<TextTokenizer> tokenizer;

    private final Map<String, Session> sessions = new HashMap<>();
    private final Set<Session> busy = new LinkedHashSet<>();
    private final List<Turn> turns = new ArrayList<>();
    private final OffsetTracker offsets = new OffsetTracker();
    private final ConcurrentLinkedQueue<Done> done = new ConcurrentLinkedQueue<>();
    private final CountDownLatch stopped = new CountDownLatch(1);
    private Thread thread;
    private volatile boolean stopRequested;
    private volatile boolean alive;
    private long drainDeadlineNanos;
    private long lastCommitNanos;
    private long lastSweepNanos;
    private long lastPollNanos;
    private long lastGaugeNanos;
    /** Consumption is paused (the bound of active sessions is reached, or we are draining). */
    private boolean paused;
    private float[][] logitsBuffer = new float[0][];
    /** Token events were handed to the producer since the last yield. */
    private boolean sentSinceYield;

    Scheduler(ServiceConfig config, Engine engine, Consumer<String, byte[]> consumer, Outbound out,
              TokenPublisher tokens, SessionStateStore store, DeadLetterPublisher deadLetters, PromptProcessor processor,
              MessageCodec codec, ServiceMetrics metrics, Tracing tracing) {
        this.config = config;
        this.engine = engine;
        this.consumer = consumer;
        this.out = out;
        this.tokens = tokens;
        this.store = store;
        this.deadLetters = deadLetters;
        this.processor = processor;
        this.codec = codec;
        this.metrics = metrics;
        this.tracing = tracing;
        this.promptsTopic = config.topics().prompts();
        this.fingerprint = engine.fingerprint();
        this.eosTokenId = engine.config().eosTokenId();
        this.bosTokenId = engine.config().bosTokenId();
        this.tokenizer = engine.tokenizer();
    }

    public void start() {
        thread = Thread.ofPlatform().name("ternstream-scheduler").start(this::run);
    }

    /** Liveness: the loop is running (or has not been asked to stop). */
    public boolean alive() {
        return alive;
    }

    /**
     * Graceful stop: take no new records, finish running turns (up to the drain timeout), wait for
     * every outgoing record, commit, leave the group.
     */
    public void stop() throws InterruptedException {
        stopRequested = true;
        if (thread != null) {
            stopped.await(config.scheduler().drainTimeout().toSeconds() + 30, TimeUnit.SECONDS);
        }
    }

    private void run() {
        alive = true;
        try {
            consumer.subscribe(List.of(promptsTopic), new Rebalance());
            while (true) {
                if (stopRequested && drainDeadlineNanos == 0) {
                    drainDeadlineNanos = System.nanoTime() + config.scheduler().drainTimeout().toNanos();
                    LOG.infof("draining: finishing %d running turns", turns.size());
                }
                if (drainDeadlineNanos != 0 && (turns.isEmpty() || System.nanoTime() > drainDeadlineNanos)) {
                    break;
                }
                iteration();
            }
            shutdown();
        } catch (Throwable t) {
            LOG.error("scheduler stopped by an unexpected error; the instance is no longer live", t);
            try {
                consumer.close(Duration.ofSeconds(5));
            } catch (RuntimeException ignored) {
                // the error above is what matters
            }
        } finally {
            alive = false;
            stopped.countDown();
        }
    }

    private void iteration() {
        drainDone();
        commitIfDue(false);
        long now = System.nanoTime();
        if (turns.isEmpty() || now - lastPollNanos >= BUSY_POLL_INTERVAL_NANOS) {
            lastPollNanos = now;
            for (ConsumerRecord<String, byte[]> record : consumer.poll(turns.isEmpty() ? IDLE_POLL : Duration.ZERO)) {
                accept(record);
            }
        }
        applyBackpressure();
        if (drainDeadlineNanos == 0) {
            startWork();
        }
        step();
        sweepExpired();
        publishGauges();
    }

    // ---- reading ----

    private void accept(ConsumerRecord<String, byte[]> record) {
        TopicPartition tp = new TopicPartition(record.topic(), record.partition());
        offsets.received(tp, record.offset());
        switch (processor.process(record)) {
            case PromptProcessor.Rejected r -> reject(record, r.code(), r.reason(), r.sessionId(), r.requestId());
            case PromptProcessor.Accepted a -> route(a.pending());
        }
    }

    private void reject(ConsumerRecord<String, byte[]> record, ErrorCode code, String reason, String sessionId,
                        String requestId) {
        metrics.rejected(code);
        LOG.warnf("rejected %s-%d@%d (session %s, request %s): %s: %s", record.topic(), record.partition(),
                record.offset(), sessionId, requestId, code.json(), reason);
        List<CompletableFuture<?>> sends = new ArrayList<>();
        sends.add(deadLetters.publish(record, code, reason));
        if (sessionId != null && requestId != null) {
            sends.add(tokens.publish(null, new ErrorEvent(sessionId, requestId, 0, code, reason), null));
        }
        whenSent(new TopicPartition(record.topic(), record.partition()), record.offset(), sends);
    }

    private void route(Pending p) {
        String id = p.message().sessionId();
        Session session = sessions.get(id);
        if (p.message() instanceof CancelCommand cancel) {
            cancel(session, p, cancel); // acts now, not in the session's queue: the turn to stop is running
            return;
        }
        if (session == null) {
            if (!(p.message() instanceof PromptRequest) && !(p.message() instanceof SessionImport)) {
                reject(p.record(), ErrorCode.UNKNOWN_SESSION, "no session '" + id + "'", id, p.message().requestId());
                return;
            }
            session = new Session(id, p.partition(), System.currentTimeMillis());
            sessions.put(id, session);
        }
        session.queue.addLast(p);
        busy.add(session);
    }

    private void cancel(Session session, Pending p, CancelCommand c) {
        if (session == null || (!session.exists() && !session.busy())) {
            reject(p.record(), ErrorCode.UNKNOWN_SESSION, "no session '" + c.sessionId() + "'", c.sessionId(),
                    c.requestId());
            return;
        }
        String target = c.targetRequestId();
        boolean found = false;
        if (session.running != null && (target == null || session.running.request.requestId().equals(target))) {
            session.running.cancelRequested = true;
            target = session.running.request.requestId();
            found = true;
        } else if (target != null) {
            for (Pending queued : session.queue) {
                if (queued.message() instanceof PromptRequest r && r.requestId().equals(target)) {
                    session.cancelledQueued.add(target);
                    found = true;
                }
            }
        }
        var ack = new ControlAckEvent(c.sessionId(), c.requestId(), 0, "cancel", found,
                found ? "cancelling " + target : "no running or queued request" + (target == null ? "" : " " + target));
        whenSent(p.partition(), p.offset(), List.of(tokens.publish(null, ack, null)));
    }

    private void applyBackpressure() {
        boolean atBound = busy.size() >= config.scheduler().maxActiveSessions() || drainDeadlineNanos != 0;
        if (atBound && !paused) {
            consumer.pause(consumer.assignment());
            paused = true;
        } else if (!atBound && paused) {
            consumer.resume(consumer.paused());
            paused = false;
        }
    }

    // ---- applying records in session order ----

    private void startWork() {
        for (Iterator<Session> it = busy.iterator(); it.hasNext(); ) {
            Session session = it.next();
            while (session.running == null && !session.queue.isEmpty() && turns.size() < config.scheduler().maxBatch()) {
                apply(session, session.queue.pollFirst());
            }
            if (!session.busy()) {
                it.remove();
            }
        }
    }

    private void apply(Session session, Pending p) {
        if (p.offset() <= session.appliedOffset || isRepeat(session, p)) {
            metrics.duplicate(); // redelivered after a crash, or the same requestId sent again
            LOG.debugf("skipping already applied %s of session %s (offset %d)", p.message().requestId(), session.id,
                    p.offset());
            whenSent(p.partition(), p.offset(), List.of());
            return;
        }
        session.lastActiveMillis = System.currentTimeMillis();
        switch (p.message()) {
            case PromptRequest r when session.cancelledQueued.remove(r.requestId()) -> {
                List<CompletableFuture<?>> sends = new ArrayList<>();
                sends.add(tokens.publish(r.replyTo(), new TurnCompleteEvent(r.sessionId(), r.requestId(), 0, null,
                        FinishReason.CANCELLED, new Usage(0, 0, 0, 0)), null));
                metrics.turnCompleted(FinishReason.CANCELLED);
                applied(session, p, sends);
            }
            case PromptRequest r -> startTurn(session, p, r);
            case ResetCommand r -> {
                if (requireExisting(session, p)) {
                    session.state = null;
                    session.stateBytes = null;
                    applied(session, p, ack(session.id, r.requestId(), "reset", true, "session state emptied"));
                }
            }
            case DeleteCommand d -> {
                if (requireExisting(session, p)) {
                    session.state = null;
                    session.stateBytes = null;
                    session.turnCount = 0;
                    session.deleted = true;
                    applied(session, p, ack(session.id, d.requestId(), "delete", true, "session deleted"));
                }
            }
            case ForkCommand f -> fork(session, p, f);
            case SessionImport i -> importState(session, p, i);
            case CancelCommand c -> throw new IllegalStateException("cancel is never queued");
        }
    }

    private boolean isRepeat(Session session, Pending p) {
        return !(p.message() instanceof ForkCommand) && session.recentRequestIds.contains(p.message().requestId());
    }

    private boolean requireExisting(Session session, Pending p) {
        if (session.exists()) {
            return true;
        }
        reject(p.record(), ErrorCode.UNKNOWN_SESSION, "no session '" + session.id + "'", session.id,
                p.message().requestId());
        return false;
    }

    private List<CompletableFuture<?>> ack(String sessionId, String requestId, String command, boolean ok, String detail) {
        List<CompletableFuture<?>> sends = new ArrayList<>();
        sends.add(tokens.publish(null, new ControlAckEvent(sessionId, requestId, 0, command, ok, detail), null));
        return sends;
    }

    /** The record changed the session: write its snapshot, then (once all is acknowledged) commit. */
    private void applied(Session session, Pending p, List<CompletableFuture<?>> sends) {
        session.rememberRequest(p.message().requestId());
        session.appliedOffset = p.offset();
        session.lastActiveMillis = System.currentTimeMillis();
        sends.add(store.write(session.partition.partition(), snapshot(session)));
        whenSent(p.partition(), p.offset(), sends);
    }

    private SessionSnapshot snapshot(Session session) {
        if (session.state != null) {
            session.stateBytes = session.state.toBytes();
            session.state = null; // park it as bytes while idle: memory grows with sessions, not with their age
        }
        return new SessionSnapshot(session.id, fingerprint, session.stateBytes, session.turnCount, session.lastRequestId,
                session.appliedOffset, session.recentRequestIdList(), session.lastActiveMillis, session.deleted);
    }

    private void fork(Session session, Pending p, ForkCommand f) {
        if (!requireExisting(session, p)) {
            return;
        }
        if (f.targetSessionId().equals(session.id)) {
            reject(p.record(), ErrorCode.INVALID_PARAMETERS, "a session cannot be forked into itself", session.id,
                    f.requestId());
            return;
        }
        byte[] state = session.state != null ? session.state.toBytes()
                : session.stateBytes != null ? session.stateBytes : new byte[0];
        var imported = new SessionImport(f.targetSessionId(), f.requestId(), session.id, fingerprint, state,
                session.turnCount);
        // keyed by the target: its owner applies the copy in the target session's order and acknowledges
        var record = new ProducerRecord<>(promptsTopic, f.targetSessionId(), codec.encode(imported));
        Tracing.inject(p.trace(), record.headers());
        whenSent(p.partition(), p.offset(), List.of(out.send(record)));
    }

    private void importState(Session target, Pending p, SessionImport i) {
        List<CompletableFuture<?>> sends = new ArrayList<>();
        String sourceRequest = i.requestId();
        if (target.exists()) {
            sends.add(tokens.publish(null, new ControlAckEvent(i.sourceSessionId(), sourceRequest, 0, "fork", false,
                    "target session " + target.id + " already exists"), null));
            whenSent(p.partition(), p.offset(), sends);
            return;
        }
        if (!fingerprint.equals(i.fingerprint())) {
            sends.add(tokens.publish(null, new ControlAckEvent(i.sourceSessionId(), sourceRequest, 0, "fork", false,
                    "the state was made by another model"), null));
            whenSent(p.partition(), p.offset(), sends);
            return;
        }
        target.deleted = false;
        target.state = null;
        target.stateBytes = i.state().length == 0 ? null : i.state();
        target.turnCount = i.turnCount();
        sends.add(tokens.publish(null, new ControlAckEvent(i.sourceSessionId(), sourceRequest, 0, "fork", true,
                "forked into " + target.id), null));
        applied(target, p, sends);
    }

    private void startTurn(Session session, Pending p, PromptRequest r) {
        if (session.deleted) {
            session.deleted = false; // a prompt to a deleted session starts a new conversation
            session.turnCount = 0;
        }
        SessionState state = liveState(session);
        int[] prompt = p.promptTokens();
        if (r.text() != null && bosTokenId != null && session.turnCount == 0 && state.tokenCount() == 0) {
            prompt = prepend(bosTokenId, prompt);
        }
        GenerationParams params = r.paramsOrDefaults();
        var generation = config.generation();
        var sampling = new SamplingParams(
                params.temperature() != null ? params.temperature() : generation.defaultTemperature(),
                params.topK() != null ? params.topK() : 0,
                params.topP() != null ? params.topP() : generation.defaultTopP(),
                params.minP() != null ? params.minP() : 0f,
                params.repetitionPenalty() != null ? params.repetitionPenalty() : 1f,
                params.seed() != null ? params.seed() : Seeds.derive(r.sessionId(), r.requestId()));
        int maxTokens = params.maxTokens() != null ? params.maxTokens() : generation.defaultMaxTokens();
        StopMatcher stops = params.stop() == null || params.stop().isEmpty() ? null : new StopMatcher(params.stop());
        StreamingDetokenizer detokenizer = tokenizer.map(TextTokenizer::streaming).orElse(null);
        var turn = new Turn(session, p, r, r.replyTo(), prompt, maxTokens, new Sampler(sampling), stops, detokenizer,
                state.copy(), tracing.startTurn(p.trace(), r.sessionId(), r.requestId()), System.nanoTime());
        session.state = state;
        session.stateBytes = null;
        session.running = turn;
        turns.add(turn);
    }

    private SessionState liveState(Session session) {
        if (session.state != null) {
            return session.state;
        }
        if (session.stateBytes != null) {
            try {
                return engine.decodeState(session.stateBytes);
            } catch (RuntimeException e) {
                LOG.errorf("session %s: stored state is unreadable (%s); starting it empty", session.id, e.getMessage());
            }
        }
        return engine.newState();
    }

    private static int[] prepend(int token, int[] tokens) {
        int[] result = new int[tokens.length + 1];
        result[0] = token;
        System.arraycopy(tokens, 0, result, 1, tokens.length);
        return result;
    }

    // ---- generating ----

    private void step() {
        if (turns.isEmpty()) {
            return;
        }
        for (Turn turn : List.copyOf(turns)) {
            if (turn.cancelRequested && turn.finish == null) {
                turn.finish = FinishReason.CANCELLED;
                if (turn.phase == Turn.Phase.PREFILL) {
                    turn.session.state = turn.checkpoint; // a cancelled prompt leaves no trace in the context
                    complete(turn);
                } else {
                    turn.phase = Turn.Phase.ABSORB;
                }
            }
        }
        prefill();
        yieldIfSent();
        decode();
        yieldIfSent();
    }

    /**
     * Lets the producer's I/O thread send what was just handed to it before the next engine step. The
     * producer wakes that thread, and the OS tends to queue it on this thread's core behind a step that
     * does not block: without this, the first token took 2.6 ms (p50) from send to broker append in the
     * service benchmark, with it 1.1 ms (docs/PERFORMANCE.md, "Service").
     */
    private void yieldIfSent() {
        if (sentSinceYield) {
            sentSinceYield = false;
            Thread.yield();
        }
    }

    private void prefill() {
        int budget = config.scheduler().prefillChunkTokens();
        for (Turn turn : List.copyOf(turns)) {
            if (budget <= 0) {
                break;
            }
            if (turn.phase != Turn.Phase.PREFILL) {
                continue;
            }
            int n = Math.min(budget, turn.prompt.length - turn.prefilled);
            float[] logits;
            try {
                logits = engine.prefill(turn.session.state, Arrays.copyOfRange(turn.prompt, turn.prefilled, turn.prefilled + n));
            } catch (RuntimeException e) {
                fail(turn, e);
                continue;
            }
            turn.prefilled += n;
            budget -= n;
            if (turn.prefilled == turn.prompt.length) {
                sampled(turn, logits);
            }
        }
    }

    private void decode() {
        List<Turn> batch = new ArrayList<>();
        for (Turn turn : turns) {
            if (turn.phase != Turn.Phase.PREFILL) {
                batch.add(turn);
            }
        }
        if (batch.isEmpty()) {
            return;
        }
        SessionState[] states = new SessionState[batch.size()];
        int[] next = new int[batch.size()];
        for (int i = 0; i < states.length; i++) {
            states[i] = batch.get(i).session.state;
            next[i] = batch.get(i).lastToken;
        }
        if (logitsBuffer.length < states.length) { // grows to the largest batch seen, then no allocation per step
            logitsBuffer = new float[Math.max(states.length, 2 * logitsBuffer.length)][engine.config().vocabSize()];
        }
        float[][] logits = logitsBuffer;
        try {
            engine.stepBatch(states, next, logits);
        } catch (RuntimeException e) {
            batch.forEach(t -> fail(t, e));
            return;
        }
        metrics.batch(states.length);
        for (int i = 0; i < states.length; i++) {
            Turn turn = batch.get(i);
            if (turn.phase == Turn.Phase.ABSORB) {
                complete(turn);
            } else {
                sampled(turn, logits[i]);
            }
        }
    }

    /** Samples the next token from the logits after the last fed token, and publishes it. */
    private void sampled(Turn turn, float[] logits) {
        int token = turn.sampler.sample(logits, turn.history, turn.historyLength);
        long now = System.nanoTime();
        turn.recordToken(token);
        if (turn.generated == 1) {
            turn.firstTokenNanos = now;
            metrics.timeToFirstToken(now - turn.pending.receivedNanos());
        } else {
            metrics.interTokenLatency(now - turn.lastTokenNanos);
        }
        turn.lastTokenNanos = now;
        metrics.token();
        boolean eos = eosTokenId != null && token == eosTokenId;
        String text = !eos && turn.detokenizer != null ? turn.detokenizer.push(token) : "";
        boolean stopped = eos;
        if (turn.stopMatcher != null && !text.isEmpty()) {
            StopMatcher.Result r = turn.stopMatcher.push(text);
            turn.heldText.append(text).delete(0, r.emit().length());
            text = r.emit();
            stopped |= r.stopped();
        }
        var event = new TokenEvent(turn.request.sessionId(), turn.request.requestId(), turn.seq++, text, List.of(token));
        turn.sends.add(tokens.publish(turn.replyTopic, event, turn.span));
        sentSinceYield = true;
        if (stopped) {
            turn.finish = FinishReason.STOP;
        } else if (turn.generated >= turn.maxTokens) {
            turn.finish = FinishReason.LENGTH;
        }
        turn.phase = turn.finish == null ? Turn.Phase.DECODE : Turn.Phase.ABSORB;
    }

    private void fail(Turn turn, RuntimeException e) {
        LOG.errorf(e, "session %s request %s failed in the engine", turn.request.sessionId(), turn.request.requestId());
        turn.session.state = turn.checkpoint;
        turn.finish = FinishReason.ERROR;
        complete(turn);
    }

    private void complete(Turn turn) {
        Session session = turn.session;
        String text = "";
        if (turn.finish != FinishReason.STOP) {
            text = turn.heldText.toString() + (turn.detokenizer != null ? turn.detokenizer.flush() : "");
        }
        double ttftMs = turn.generated == 0 ? 0 : (turn.firstTokenNanos - turn.pending.receivedNanos()) / 1e6;
        double seconds = (turn.lastTokenNanos - turn.firstTokenNanos) / 1e9;
        double tps = turn.generated > 1 && seconds > 0 ? (turn.generated - 1) / seconds : 0;
        var usage = new Usage(turn.prompt.length, turn.generated, ttftMs, tps);
        turn.sends.add(tokens.publish(turn.replyTopic, new TurnCompleteEvent(turn.request.sessionId(),
                turn.request.requestId(), turn.seq++, text.isEmpty() ? null : text, turn.finish, usage), turn.span));
        sentSinceYield = true;
        turns.remove(turn);
        session.running = null;
        session.turnCount++;
        metrics.turnCompleted(turn.finish);
        turn.span.end();
        MDC.put("sessionId", session.id);
        MDC.put("requestId", turn.request.requestId());
        LOG.infof("turn complete: %s, %d prompt + %d generated tokens, ttft %.1f ms", turn.finish.json(),
                turn.prompt.length, turn.generated, ttftMs);
        MDC.remove("sessionId");
        MDC.remove("requestId");
        applied(session, turn.pending, turn.sends);
    }

    // ---- delivery and commits ----

    private void whenSent(TopicPartition tp, long offset, List<CompletableFuture<?>> sends) {
        if (sends.isEmpty()) {
            done.add(new Done(tp, offset, null));
            return;
        }
        CompletableFuture.allOf(sends.toArray(CompletableFuture[]::new))
                .whenComplete((v, error) -> done.add(new Done(tp, offset, error)));
    }

    private void drainDone() {
        for (Done d; (d = done.poll()) != null; ) {
            if (d.error() == null) {
                offsets.done(d.partition(), d.offset());
            } else {
                // keep it uncommitted: whoever owns the partition next processes the record again
                LOG.errorf(d.error(), "outgoing records of %s@%d failed; its offset stays uncommitted", d.partition(),
                        d.offset());
            }
        }
    }

    private void commitIfDue(boolean sync) {
        long now = System.nanoTime();
        if (!sync && now - lastCommitNanos < config.scheduler().commitInterval().toNanos()) {
            return;
        }
        lastCommitNanos = now;
        Map<TopicPartition, Long> positions = offsets.committable();
        positions.keySet().retainAll(consumer.assignment());
        if (positions.isEmpty()) {
            return;
        }
        Map<TopicPartition, OffsetAndMetadata> commit = new HashMap<>();
        positions.forEach((tp, pos) -> commit.put(tp, new OffsetAndMetadata(pos)));
        if (sync) {
            consumer.commitSync(commit, Duration.ofSeconds(10));
        } else {
            consumer.commitAsync(commit, (o, error) -> {
                if (error != null) {
                    LOG.warnf("offset commit failed (the next one covers it): %s", error.getMessage());
                }
            });
        }
        offsets.markCommitted(positions);
    }

    private void sweepExpired() {
        long now = System.nanoTime();
        if (now - lastSweepNanos < SWEEP_INTERVAL_NANOS) {
            return;
        }
        lastSweepNanos = now;
        long cutoff = System.currentTimeMillis() - config.scheduler().sessionTtl().toMillis();
        for (Iterator<Session> it = sessions.values().iterator(); it.hasNext(); ) {
            Session s = it.next();
            if (!s.busy() && s.lastActiveMillis < cutoff) {
                store.tombstone(s.partition.partition(), s.id);
                it.remove();
                LOG.debugf("session %s expired", s.id);
            }
        }
    }

    private void publishGauges() {
        long now = System.nanoTime();
        if (now - lastGaugeNanos < GAUGE_INTERVAL_NANOS) {
            return;
        }
        lastGaugeNanos = now;
        metrics.activeSessions.set(busy.size());
        metrics.runningTurns.set(turns.size());
        int queued = 0;
        for (Session s : busy) {
            queued += s.queue.size();
        }
        metrics.queueDepth.set(queued);
        metrics.pausedPartitions.set(consumer.paused().size());
        metrics.heldSessions.set(sessions.size());
    }

    private void shutdown() {
        LOG.infof("scheduler stopping: %d turns abandoned to redelivery", turns.size());
        for (Turn t : turns) {
            t.span.end();
        }
        out.flush();
        drainDone();
        try {
            commitIfDue(true);
        } catch (RuntimeException e) {
            LOG.warnf("final commit failed: %s", e.getMessage());
        }
        // a drained instance leaves the group explicitly, also as a static member (which would otherwise keep
        // its partitions idle for the session timeout), so a scale-down moves its partitions at once
        consumer.close(CloseOptions.groupMembershipOperation(CloseOptions.GroupMembershipOperation.LEAVE_GROUP)
                .withTimeout(Duration.ofSeconds(10)));
    }

    /** Restores sessions when partitions arrive, hands them back when they leave. */
    private final class Rebalance implements ConsumerRebalanceListener {
        @Override
        public void onPartitionsAssigned(Collection<TopicPartition> partitions) {
            if (paused) {
                consumer.pause(partitions); // the bound holds for new partitions too
            }
            for (TopicPartition tp : partitions) {
                long t0 = System.nanoTime();
                Map<String, SessionSnapshot> restored = store.restore(List.of(tp));
                int kept = 0;
                for (SessionSnapshot s : restored.values()) {
                    if (!fingerprint.equals(s.fingerprint())) {
                        LOG.warnf("session %s was made by another model (%s); not restored", s.sessionId(), s.fingerprint());
                        continue;
                    }
                    Session session = new Session(s.sessionId(), tp, s.updatedAtMillis());
                    session.stateBytes = s.state();
                    session.turnCount = s.turnCount();
                    session.lastRequestId = s.lastRequestId();
                    session.appliedOffset = s.appliedOffset();
                    session.recentRequestIds.addAll(s.recentRequestIds());
                    session.deleted = s.deleted();
                    sessions.put(s.sessionId(), session);
                    kept++;
                }
                metrics.restored(kept);
                LOG.infof("assigned %s: restored %d sessions in %d ms", tp, kept,
                        TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0));
            }
            metrics.assignedPartitions.set(consumer.assignment().size());
        }

        @Override
        public void onPartitionsRevoked(Collection<TopicPartition> partitions) {
            if (partitions.isEmpty()) {
                return;
            }
            out.flush(); // what is finished gets committed, so the next owner repeats as little as possible
            drainDone();
            try {
                commitIfDue(true);
            } catch (RuntimeException e) {
                LOG.warnf("commit on revocation failed: %s", e.getMessage());
            }
            drop(partitions, "revoked");
        }

        @Override
        public void onPartitionsLost(Collection<TopicPartition> partitions) {
            drop(partitions, "lost");
        }

        private void drop(Collection<TopicPartition> partitions, String why) {
            Set<TopicPartition> gone = new HashSet<>(partitions);
            int abandoned = 0;
            for (Iterator<Turn> it = turns.iterator(); it.hasNext(); ) {
                Turn t = it.next();
                if (gone.contains(t.session.partition)) {
                    t.span.end();
                    it.remove();
                    abandoned++;
                }
            }
            sessions.values().removeIf(s -> gone.contains(s.partition));
            busy.removeIf(s -> gone.contains(s.partition));
            gone.forEach(offsets::forget);
            LOG.infof("%s %s: %d running turns left to the next owner", why, partitions, abandoned);
            metrics.assignedPartitions.set(Math.max(0, consumer.assignment().size() - partitions.size()));
        }
    }
}
