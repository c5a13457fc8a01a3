package io.ternstream.service.scheduler;

import io.opentelemetry.api.trace.Span;
import io.ternstream.engine.sampling.Sampler;
import io.ternstream.engine.sampling.StopMatcher;
import io.ternstream.engine.state.SessionState;
import io.ternstream.engine.tokenizer.StreamingDetokenizer;
import io.ternstream.schemas.FinishReason;
import io.ternstream.schemas.PromptRequest;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;

/**
 * One running generation: prefill of the prompt in chunks, then one token per batched step.
 * When generation ends, the last sampled token is still fed to the state in one more step
 * (ABSORB), so the session's context is exactly every prompt token plus every emitted token.
 */
final class Turn {
    enum Phase { PREFILL, DECODE, ABSORB }

    final Session session;
    final Pending pending;
    final PromptRequest request;
    final String replyTopic;
    final int[] prompt;
    final int maxTokens;
    final Sampler sampler;
    final StopMatcher stopMatcher;
    final StreamingDetokenizer detokenizer;
    /** The state before this turn: restored when the turn is cancelled during prefill or fails. */
    final SessionState checkpoint;
    final Span span;
    final long startNanos;

    Phase phase = Phase.PREFILL;
    int prefilled;
    int[] history;
    int historyLength;
    int seq;
    int generated;
    int lastToken = -1;
    boolean cancelRequested;
    FinishReason finish;
    long firstTokenNanos;
    long lastTokenNanos;
    /** Text pushed into the stop matcher minus text it released: released at the end unless stopped. */
    final StringBuilder heldText = new StringBuilder();
    final List<CompletableFuture<?>> sends = new ArrayList<>();

    Turn(Session session, Pending pending, PromptRequest request, String replyTopic, int[] prompt, int maxTokens,
         Sampler sampler, StopMatcher stopMatcher, StreamingDetokenizer detokenizer, SessionState checkpoint,
         Span span, long startNanos) {
        this.session = session;
        this.pending = pending;
        this.request = request;
        this.replyTopic = replyTopic;
        this.prompt = prompt;
        this.maxTokens = maxTokens;
        this.sampler = sampler;
        this.stopMatcher = stopMatcher;
        this.detokenizer = detokenizer;
        this.checkpoint = checkpoint;
        this.span = span;
        this.startNanos = startNanos;
        this.history = new int[Math.max(16, maxTokens + 1)];
    }

    void recordToken(int token) {
        if (historyLength == history.length) {
            history = java.util.Arrays.copyOf(history, history.length * 2);
        }
        history[historyLength++] = token;
        lastToken = token;
        generated++;
    }
}
