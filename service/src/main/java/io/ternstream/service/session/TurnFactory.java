package io.ternstream.service.session;

import io.ternstream.engine.Engine;
import io.ternstream.engine.sampling.Sampler;
import io.ternstream.engine.sampling.SamplingParams;
import io.ternstream.engine.sampling.StopMatcher;
import io.ternstream.engine.tokenizer.TextTokenizer;
import io.ternstream.schemas.GenerationParams;
import io.ternstream.schemas.PromptRequest;
import io.ternstream.service.config.ServiceConfig;
import io.ternstream.service.ops.Tracing;

/** Builds a turn from a prompt: the service's defaults for what the request leaves open, BOS, stops. */
final class TurnFactory {
    private final ServiceConfig.Generation defaults;
    private final Engine engine;
    private final Integer bosTokenId;
    private final Tracing tracing;

    TurnFactory(ServiceConfig.Generation defaults, Engine engine, Tracing tracing) {
        this.defaults = defaults;
        this.engine = engine;
        this.bosTokenId = engine.config().bosTokenId();
        this.tracing = tracing;
    }

    /** The session's live state must be set; the turn starts from it. */
    Turn create(LiveSession session, Work work) {
        PromptRequest r = (PromptRequest) work.message();
        int[] prompt = work.promptTokens();
        if (r.text() != null && bosTokenId != null && session.record.turnCount() == 0 && session.state.tokenCount() == 0) {
            prompt = prepend(bosTokenId, prompt);
        }
        GenerationParams params = r.paramsOrDefaults();
        var sampling = new SamplingParams(
                params.temperature() != null ? params.temperature() : defaults.defaultTemperature(),
                params.topK() != null ? params.topK() : 0,
                params.topP() != null ? params.topP() : defaults.defaultTopP(),
                params.minP() != null ? params.minP() : 0f,
                params.repetitionPenalty() != null ? params.repetitionPenalty() : 1f,
                params.seed() != null ? params.seed() : Seeds.derive(r.sessionId(), r.requestId()));
        int maxTokens = params.maxTokens() != null ? params.maxTokens() : defaults.defaultMaxTokens();
        StopMatcher stops = params.stop() == null || params.stop().isEmpty() ? null : new StopMatcher(params.stop());
        return new Turn(session, work, prompt, maxTokens, new Sampler(sampling), stops,
                engine.tokenizer().map(TextTokenizer::streaming).orElse(null),
                tracing.startTurn(work.trace(), r.sessionId(), r.requestId()));
    }

    private static int[] prepend(int token, int[] tokens) {
        int[] result = new int[tokens.length + 1];
        result[0] = token;
        System.arraycopy(tokens, 0, result, 1, tokens.length);
        return result;
    }
}
