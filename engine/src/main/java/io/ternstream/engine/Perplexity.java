package io.ternstream.engine;

import io.ternstream.engine.state.SessionState;

import java.util.Arrays;

/**
 * Mean negative log-likelihood and perplexity of a token sequence: every token after the first is
 * scored given all before it, in chunks that carry the recurrent state (the CLI's {@code perplexity}
 * and the bundled model's quality test share this).
 */
public record Perplexity(int tokens, double nll, double ppl) {

    private static final int CHUNK = 256;

    /** Scores ids[1..] given the preceding tokens; ids[0] is usually BOS. */
    public static Perplexity of(Engine engine, int[] ids) {
        if (ids.length < 2) throw new IllegalArgumentException("need at least two tokens to score");
        SessionState state = engine.newState();
        double total = 0;
        for (int start = 0; start < ids.length - 1; start += CHUNK) {
            int end = Math.min(ids.length - 1, start + CHUNK);
            float[][] logits = engine.forwardAll(state, Arrays.copyOfRange(ids, start, end), null);
            for (int t = start; t < end; t++) total -= logSoftmax(logits[t - start], ids[t + 1]);
        }
        int scored = ids.length - 1;
        double nll = total / scored;
        return new Perplexity(scored, nll, Math.exp(nll));
    }

    /** log p(target) under softmax(logits), in double with the maximum subtracted. */
    static double logSoftmax(float[] logits, int target) {
        double max = Double.NEGATIVE_INFINITY;
        for (float l : logits) max = Math.max(max, l);
        double sum = 0;
        for (float l : logits) sum += Math.exp(l - max);
        return logits[target] - max - Math.log(sum);
    }
}
