package io.ternstream.it;

import io.ternstream.engine.Engine;
import io.ternstream.engine.EngineOptions;
import io.ternstream.engine.sampling.Sampler;
import io.ternstream.engine.sampling.SamplingParams;
import io.ternstream.engine.state.SessionState;
import io.ternstream.schemas.FinishReason;
import io.ternstream.schemas.GenerationParams;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * A session's turns run again in this JVM with the engine library alone: no Kafka, no service, no
 * faults. Each turn as the service defines it: the prompt prefilled, tokens sampled with the turn's
 * own seeded sampler (repetition penalty over the turn's tokens) until EOS or maxTokens, and the last
 * sampled token fed to the state, so the context is every prompt token plus every emitted token.
 */
final class FaultFreeReplay implements AutoCloseable {
    /** What one turn generated. */
    record Generated(List<Integer> tokens, FinishReason finish) {}

    /** A session after all its turns. */
    record Session(List<Generated> turns, byte[] finalState) {}

    private final Engine engine;
    private final Integer eos;

    FaultFreeReplay(Path model) throws IOException {
        engine = Engine.open(model, new EngineOptions(1));
        eos = engine.config().eosTokenId();
    }

    int vocabSize() {
        return engine.config().vocabSize();
    }

    Session replay(List<SoakTurn> turns) {
        SessionState state = engine.newState();
        List<Generated> generated = new ArrayList<>();
        for (SoakTurn turn : turns) {
            generated.add(turn(state, turn));
        }
        return new Session(generated, state.toBytes());
    }

    private Generated turn(SessionState state, SoakTurn turn) {
        GenerationParams p = turn.params();
        Sampler sampler = new Sampler(new SamplingParams(p.temperature(), 0, p.topP(), 0f, p.repetitionPenalty(), p.seed()));
        int[] history = new int[p.maxTokens()];
        int count = 0;
        float[] logits = engine.prefill(state, turn.prompt().stream().mapToInt(Integer::intValue).toArray());
        while (true) {
            int token = sampler.sample(logits, history, count);
            history[count++] = token;
            boolean stop = eos != null && token == eos;
            if (stop || count >= p.maxTokens()) {
                engine.step(state, token); // the last token joins the context too
                return new Generated(Arrays.stream(history, 0, count).boxed().toList(),
                        stop ? FinishReason.STOP : FinishReason.LENGTH);
            }
            logits = engine.step(state, token);
        }
    }

    @Override
    public void close() {
        engine.close();
    }
}
