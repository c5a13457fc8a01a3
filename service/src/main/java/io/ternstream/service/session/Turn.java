package io.ternstream.service.session;

import io.opentelemetry.api.trace.Span;
import io.ternstream.engine.sampling.Sampler;
import io.ternstream.engine.sampling.StopMatcher;
import io.ternstream.engine.state.SessionState;
import io.ternstream.engine.tokenizer.StreamingDetokenizer;
import io.ternstream.schemas.FinishReason;
import io.ternstream.schemas.PromptRequest;
import java.util.Arrays;

/**
 * One running generation: prefill of the prompt in chunks, then one token per batched step.
 * When generation ends, the last sampled token is still fed to the state in one more step
 * (ABSORB), so the session's context is exactly every prompt token plus every emitted token.
 */
final class Turn {
    enum Phase { PREFILL, DECODE, ABSORB }

    final LiveSession session;
    final Work work;
    final PromptRequest request;
    final int[] prompt;
    final int maxTokens;
    final Sampler sampler;
    final StopMatcher stopMatcher;
    final StreamingDetokenizer detokenizer;
    /** The state before this turn: restored when the turn is cancelled during prefill or fails. */
    final SessionState checkpoint;
    final Span span;

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

    Turn(LiveSession session, Work work, int[] prompt, int maxTokens, Sampler sampler, StopMatcher stopMatcher,
         StreamingDetokenizer detokenizer, Span span) {
        this.session = session;
        this.work = work;
        this.request = (PromptRequest) work.message();
        this.prompt = prompt;
        this.maxTokens = maxTokens;
        this.sampler = sampler;
        this.stopMatcher = stopMatcher;
        this.detokenizer = detokenizer;
        this.checkpoint = session.state.copy();
        this.span = span;
        this.history = new int[Math.max(16, maxTokens + 1)];
    }

    void recordToken(int token) {
        if (historyLength == history.length) {
            history = Arrays.copyOf(history, history.length * 2);
        }
        history[historyLength++] = token;
        lastToken = token;
        generated++;
    }
}
