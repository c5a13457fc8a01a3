package io.ternstream.service.session;

import io.ternstream.engine.Engine;
import io.ternstream.engine.sampling.StopMatcher;
import io.ternstream.engine.state.SessionState;
import io.ternstream.schemas.FinishReason;
import io.ternstream.schemas.TokenEvent;
import io.ternstream.service.ops.ServiceMetrics;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.jboss.logging.Logger;

/**
 * Advances the running turns: prompts are prefilled in chunks up to a token budget per tick, so a
 * long prompt delays other streams by one chunk, not by the whole prompt; every decoding turn then
 * advances in one batched engine step (continuous batching: turns join and leave between ticks).
 */
final class Generator {
    private static final Logger LOG = Logger.getLogger(Generator.class);

    /** Where tokens and finished turns go. */
    interface Listener {
        void token(Turn turn, TokenEvent event);

        void finished(Turn turn);
    }

    private final Engine engine;
    private final int prefillChunkTokens;
    private final Integer eosTokenId;
    private final ServiceMetrics metrics;
    private final Listener listener;
    private final List<Turn> turns = new ArrayList<>();
    private float[][] logitsBuffer = new float[0][];

    Generator(Engine engine, int prefillChunkTokens, ServiceMetrics metrics, Listener listener) {
        this.engine = engine;
        this.prefillChunkTokens = prefillChunkTokens;
        this.eosTokenId = engine.config().eosTokenId();
        this.metrics = metrics;
        this.listener = listener;
    }

    void add(Turn turn) {
        turns.add(turn);
    }

    int running() {
        return turns.size();
    }

    boolean idle() {
        return turns.isEmpty();
    }

    /** Forgets a turn without finishing it (its partition moved away; the new owner redoes it). */
    void abandon(Turn turn) {
        turns.remove(turn);
        turn.span.end();
    }

    /** One prefill chunk and one batched step. */
    void tick() {
        for (Turn turn : List.copyOf(turns)) {
            if (turn.cancelRequested && turn.finish == null) {
                turn.finish = FinishReason.CANCELLED;
                if (turn.phase == Turn.Phase.PREFILL) {
                    turn.session.state = turn.checkpoint; // a cancelled prompt leaves no trace in the context
                    finish(turn);
                } else {
                    turn.phase = Turn.Phase.ABSORB;
                }
            }
        }
        prefill();
        decode();
    }

    private void prefill() {
        int budget = prefillChunkTokens;
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
        List<Turn> batch = new ArrayList<>(turns.size());
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
        try {
            engine.stepBatch(states, next, logitsBuffer);
        } catch (RuntimeException e) {
            batch.forEach(t -> fail(t, e));
            return;
        }
        metrics.batch(states.length);
        for (int i = 0; i < states.length; i++) {
            Turn turn = batch.get(i);
            if (turn.phase == Turn.Phase.ABSORB) {
                finish(turn);
            } else {
                sampled(turn, logitsBuffer[i]);
            }
        }
    }

    /** Samples the next token from the logits after the last fed token, and hands it on. */
    private void sampled(Turn turn, float[] logits) {
        int token = turn.sampler.sample(logits, turn.history, turn.historyLength);
        long now = System.nanoTime();
        turn.recordToken(token);
        if (turn.generated == 1) {
            turn.firstTokenNanos = now;
            metrics.timeToFirstToken(now - turn.work.receivedNanos());
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
        listener.token(turn, new TokenEvent(turn.request.sessionId(), turn.request.requestId(), turn.seq++, text, List.of(token)));
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
        finish(turn);
    }

    private void finish(Turn turn) {
        turns.remove(turn);
        listener.finished(turn);
    }
}
