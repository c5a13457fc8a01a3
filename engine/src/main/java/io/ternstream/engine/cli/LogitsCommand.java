package io.ternstream.engine.cli;

import io.ternstream.engine.Engine;
import io.ternstream.engine.safetensors.SafetensorsWriter;
import io.ternstream.engine.state.SessionState;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.nio.file.Path;
import java.util.concurrent.Callable;

/**
 * Writes {@code logits} [T, vocab] and {@code state.layer{N}} (the recurrent state after the last token)
 * as float32 safetensors, computed over the whole sequence at once ({@code full}) or token by token
 * ({@code step}).
 */
@Command(name = "logits", mixinStandardHelpOptions = true, description = "Write the logits and states of a token sequence to a safetensors file")
final class LogitsCommand implements Callable<Integer> {

    enum Mode { full, step }

    @Mixin
    ModelOptions model;

    @Option(names = "--tokens", required = true, paramLabel = "IDS", description = "token ids, e.g. 5,17,300")
    String tokens;

    @Option(names = "--mode", defaultValue = "full", description = "full or step (default ${DEFAULT-VALUE})")
    Mode mode;

    @Option(names = "--out", required = true, paramLabel = "FILE")
    Path out;

    @Override
    public Integer call() throws Exception {
        try (Engine engine = model.open()) {
            int vocab = engine.config().vocabSize();
            int[] ids = TokenList.parse(tokens, vocab);
            SessionState state = engine.newState();
            float[][] rows;
            if (mode == Mode.full) {
                rows = engine.forwardAll(state, ids, null);
            } else {
                rows = new float[ids.length][];
                for (int t = 0; t < ids.length; t++) rows[t] = engine.step(state, ids[t]);
            }
            float[] flat = new float[ids.length * vocab];
            for (int t = 0; t < ids.length; t++) System.arraycopy(rows[t], 0, flat, t * vocab, vocab);
            SafetensorsWriter writer = new SafetensorsWriter().addF32("logits", new long[] {ids.length, vocab}, flat);
            for (int l = 0; l < state.layerCount(); l++) {
                writer.addF32("state.layer" + l, new long[] {state.dim()}, state.layer(l).clone());
            }
            writer.write(out);
            System.err.printf("wrote %s: logits [%d, %d], %d layer states (%s mode)%n", out, ids.length, vocab, state.layerCount(), mode);
        }
        return 0;
    }
}
