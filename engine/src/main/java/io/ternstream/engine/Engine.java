package io.ternstream.engine;

import io.ternstream.engine.model.Forward;
import io.ternstream.engine.model.HgrnBitConfig;
import io.ternstream.engine.model.HgrnBitModel;
import io.ternstream.engine.model.LayerObserver;
import io.ternstream.engine.model.ModelLoader;
import io.ternstream.engine.parallel.WorkerPool;
import io.ternstream.engine.state.SessionState;
import io.ternstream.engine.tensor.TernaryKernel;
import io.ternstream.engine.tokenizer.TextTokenizer;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Optional;

/**
 * The engine's entry point: one model, its worker pool and scratch buffers. Sessions are plain
 * {@link SessionState} objects owned by the caller; {@link #prefill} and {@link #step} advance them.
 * Calls are serialized (one forward pass at a time uses all worker threads).
 */
public final class Engine implements AutoCloseable {

    private final HgrnBitModel model;
    private final TextTokenizer tokenizer;
    private final WorkerPool pool;
    private final Forward forward;
    private final SessionState[] columnStates;
    private final int[] columnTokens;
    private final float[][] columnLogits;

    public Engine(HgrnBitModel model, TextTokenizer tokenizer, EngineOptions options) {
        this.model = model;
        this.tokenizer = tokenizer;
        this.pool = new WorkerPool(options.threads());
        this.forward = new Forward(model, pool, TernaryKernel.selected(model.packedWeightBytes()), options.maxColumns());
        this.columnStates = new SessionState[options.maxColumns()];
        this.columnTokens = new int[options.maxColumns()];
        this.columnLogits = new float[options.maxColumns()][];
    }

    /** Opens a Hugging Face model folder; {@code tokenizer.json} is optional. */
    public static Engine open(Path modelDir, EngineOptions options) throws IOException {
        HgrnBitModel model = ModelLoader.load(modelDir);
        Path tokenizerJson = modelDir.resolve("tokenizer.json");
        try {
            TextTokenizer tokenizer = Files.exists(tokenizerJson) ? TextTokenizer.load(tokenizerJson) : null;
            return new Engine(model, tokenizer, options);
        } catch (IOException | RuntimeException e) {
            try {
                model.close();
            } catch (Exception suppressed) {
                e.addSuppressed(suppressed);
            }
            throw e;
        }
    }

    public HgrnBitConfig config() {
        return model.config();
    }

    public HgrnBitModel model() {
        return model;
    }

    public String modelName() {
        return model.name();
    }

    public String fingerprint() {
        return model.fingerprint();
    }

    public Optional<TextTokenizer> tokenizer() {
        return Optional.ofNullable(tokenizer);
    }

    public int threads() {
        return pool.size();
    }

    public int maxColumns() {
        return forward.maxColumns();
    }

    public SessionState newState() {
        return new SessionState(model.fingerprint(), model.config().numHiddenLayers(), model.config().mixerDim());
    }

    /** Decodes a state written by {@link SessionState#toBytes()} for this model. */
    public SessionState decodeState(byte[] bytes) {
        return SessionState.fromBytes(bytes, model.fingerprint(), model.config().numHiddenLayers(), model.config().mixerDim());
    }

    /**
     * Consumes a prompt: its positions go through the projections together, chunk by chunk, while the
     * recurrence runs in order. Returns the logits after the last token.
     */
    public synchronized float[] prefill(SessionState state, int[] tokens) {
        if (tokens.length == 0) throw new IllegalArgumentException("prefill needs at least one token");
        float[] last = new float[model.config().vocabSize()];
        runSequence(state, tokens, null, last, null);
        return last;
    }

    /** Consumes one token and returns the next-token logits. */
    public synchronized float[] step(SessionState state, int token) {
        return prefill(state, new int[] {token});
    }

    /** Logits after every position of {@code tokens}, [T][V] (perplexity, the logits command, tests). */
    public synchronized float[][] forwardAll(SessionState state, int[] tokens, LayerObserver observer) {
        float[][] all = new float[tokens.length][model.config().vocabSize()];
        runSequence(state, tokens, all, null, observer);
        return all;
    }

    private void runSequence(SessionState state, int[] tokens, float[][] all, float[] last, LayerObserver observer) {
        checkState(state);
        int chunk = forward.maxColumns();
        for (int start = 0; start < tokens.length; start += chunk) {
            int n = Math.min(chunk, tokens.length - start);
            for (int c = 0; c < n; c++) {
                columnStates[c] = state;
                columnTokens[c] = tokens[start + c];
                columnLogits[c] = all != null ? all[start + c] : (start + c == tokens.length - 1 ? last : null);
            }
            int offset = start;
            LayerObserver shifted = observer == null ? null : (i, col, v, len) -> observer.hidden(i, offset + col, v, len);
            forward.run(n, columnTokens, columnStates, columnLogits, shifted);
        }
        Arrays.fill(columnStates, null);
        Arrays.fill(columnLogits, null);
    }

    /** One batched step: session i consumes tokens[i]; returns logits per session. */
    public synchronized float[][] stepBatch(SessionState[] states, int[] tokens) {
        float[][] out = new float[states.length][model.config().vocabSize()];
        stepBatch(states, tokens, out);
        return out;
    }

    /** Allocation-free batched step: {@code logitsOut[i]} receives session i's next-token logits. */
    public synchronized void stepBatch(SessionState[] states, int[] tokens, float[][] logitsOut) {
        if (states.length != tokens.length || logitsOut.length < states.length) {
            throw new IllegalArgumentException("states, tokens and logits buffers differ in length");
        }
        int chunk = forward.maxColumns();
        for (int start = 0; start < states.length; start += chunk) {
            int n = Math.min(chunk, states.length - start);
            for (int c = 0; c < n; c++) {
                checkState(states[start + c]);
                columnStates[c] = states[start + c];
                columnTokens[c] = tokens[start + c];
                columnLogits[c] = logitsOut[start + c];
            }
            forward.run(n, columnTokens, columnStates, columnLogits, null);
        }
        Arrays.fill(columnStates, null);
        Arrays.fill(columnLogits, null);
    }

    private void checkState(SessionState state) {
        if (!state.modelFingerprint().equals(model.fingerprint())) {
            throw new IllegalArgumentException("session state belongs to another model (" + state.modelFingerprint() + ")");
        }
    }

    @Override
    public void close() {
        pool.close();
        try {
            model.close();
        } catch (Exception e) {
            throw new IllegalStateException("closing model resources failed", e);
        }
        if (tokenizer != null) tokenizer.close();
    }
}
