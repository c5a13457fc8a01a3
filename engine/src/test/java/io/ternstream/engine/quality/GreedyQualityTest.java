package io.ternstream.engine.quality;

import io.ternstream.engine.Engine;
import io.ternstream.engine.EngineOptions;
import io.ternstream.engine.sampling.Sampler;
import io.ternstream.engine.sampling.SamplingParams;
import io.ternstream.engine.state.SessionState;
import io.ternstream.engine.tokenizer.TextTokenizer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.util.Arrays;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Greedy decoding of the fixed prompts gives PyTorch's recorded tokens.
 *
 * <p>Why a margin: an fp32 engine and PyTorch sum in other orders, so now and then an 8-bit activation
 * code lands on the other side of a rounding boundary and a row of logits moves by up to ~0.1 (the
 * exact math against itself in fp64 moves as much). Where PyTorch's top-1/top-2 gap is below
 * {@link #NEAR_TIE} either token is a correct greedy choice, so there the engine must only rank the
 * recorded token within {@link #NEAR_TIE} of its best; everywhere else its argmax must be the recorded one.
 */
class GreedyQualityTest {

    static final double NEAR_TIE = 0.25;
    /** Bound on |engine top-1 logit - PyTorch top-1 logit|, from the same flip analysis. */
    static final double LOGIT_TOLERANCE = 0.35;

    static Engine engine;
    static BundledModel.Reference reference;

    @BeforeAll
    static void open() throws Exception {
        engine = Engine.open(BundledModel.dir(), new EngineOptions(2));
        reference = BundledModel.reference();
    }

    @AfterAll
    static void close() {
        if (engine != null) engine.close();
    }

    @Test
    void promptsEncodeAsAtExport() {
        TextTokenizer tokenizer = engine.tokenizer().orElseThrow();
        for (BundledModel.Greedy g : reference.greedy()) {
            int[] ids = tokenizer.encode(g.prompt());
            int[] withBos = new int[ids.length + 1];
            withBos[0] = engine.config().bosTokenId();
            System.arraycopy(ids, 0, withBos, 1, ids.length);
            assertArrayEquals(g.promptIds(), withBos, g.prompt());
            assertEquals(g.text(), tokenizer.decode(g.tokens()), "decoded continuation of " + g.prompt());
        }
    }

    @Test
    void teacherForcedGreedyPicksTheRecordedTokenAtEveryStep() {
        for (BundledModel.Greedy g : reference.greedy()) {
            SessionState state = engine.newState();
            float[] logits = engine.prefill(state, g.promptIds());
            for (int k = 0; k < g.tokens().length; k++) {
                int best = argmax(logits);
                int recorded = g.tokens()[k];
                String where = "'" + g.prompt() + "' step " + k + " (PyTorch gap " + g.gaps()[k] + ")";
                if (g.gaps()[k] >= NEAR_TIE) {
                    assertEquals(recorded, best, where);
                } else {
                    assertTrue(logits[best] - logits[recorded] <= NEAR_TIE, where + ": recorded token far from the top");
                }
                assertEquals(g.top1Logits()[k], logits[best], LOGIT_TOLERANCE, where + ": top-1 logit");
                logits = engine.step(state, recorded);
            }
        }
    }

    @Test
    void freeRunningGreedyDecodingReproducesTheRecordedContinuation() {
        for (BundledModel.Greedy g : reference.greedy()) {
            Sampler sampler = new Sampler(SamplingParams.greedy());
            SessionState state = engine.newState();
            int[] history = Arrays.copyOf(g.promptIds(), g.promptIds().length + g.tokens().length);
            int len = g.promptIds().length;
            float[] logits = engine.prefill(state, g.promptIds());
            for (int k = 0; k < g.tokens().length; k++) {
                int token = sampler.sample(logits, history, len);
                if (token != g.tokens()[k]) {
                    // a different choice is right only at a near tie; past it the continuations differ anyway
                    assertTrue(g.gaps()[k] < NEAR_TIE, "'" + g.prompt() + "' diverges at step " + k + " where PyTorch's gap is "
                            + g.gaps()[k] + ": engine " + token + ", PyTorch " + g.tokens()[k]);
                    break;
                }
                history[len++] = token;
                logits = engine.step(state, token);
            }
        }
    }

    static int argmax(float[] v) {
        int best = 0;
        for (int i = 1; i < v.length; i++) if (v[i] > v[best]) best = i;
        return best;
    }
}
