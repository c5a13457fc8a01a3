package io.ternstream.engine.model;

import io.ternstream.engine.parallel.WorkerPool;
import io.ternstream.engine.state.SessionState;
import io.ternstream.engine.tensor.ActivationBatch;
import io.ternstream.engine.tensor.TernaryKernel;
import io.ternstream.engine.tensor.TernaryMatrix;
import java.nio.ByteBuffer;

/**
 * The HGRN-Bit forward pass over up to {@code maxColumns} token columns at once. Each column has a
 * session state; columns that share one state (a prompt being prefilled) are applied to it in column
 * order, which is exactly the recurrence over positions; columns with different states are independent
 * sessions stepping together. The ternary products of all columns run as one parallel pass per
 * projection group, so weights are read once per step whatever the batch.
 *
 * <p>Owns all scratch buffers (allocated once); not thread-safe. Shapes: C = maxColumns, H = hidden,
 * D = mixer dim, I = intermediate, V = vocab; {@code *Pad} is rounded up to whole 64-column words.
 */
public final class Forward {

    private final HgrnBitModel model;
    private final HgrnBitConfig config;
    private final WorkerPool pool;
    private final TernaryKernel kernel;
    private final int maxColumns;
    private final int h, d, inter, vocab;

    private final float[][] x;        // [C][H] residual stream
    private final float[][] normed;   // [C][max(H, D)] RMSNorm output feeding the BitLinears
    private final float[] scratch;    // [max(H, D, I)] pre-quantization values of one column
    private final ActivationBatch[] acts; // [3] quantized inputs of up to three projections, [C][widest]
    private final float[][] iOut, fOut, gOut; // [C][D]
    private final float[][] hOut;     // [C][max(H, 2I)] o_proj, gate_proj and down_proj outputs
    private final float[][] downIn;   // [C][I]
    private final ActivationBatch headActs; // [C][H] for the columns that need logits
    private final float[][] headOut;   // [C] rows of the caller's logits buffers
    private final float[] gRms;       // [C] RMS factor of each column's g projection
    private final ByteBuffer embeddingRow; // one embedding row in the checkpoint's dtype
    private final MatmulTask matmul = new MatmulTask();
    private final PointwiseTask pointwise = new PointwiseTask();

    public Forward(HgrnBitModel model, WorkerPool pool, TernaryKernel kernel, int maxColumns) {
        this.model = model;
        this.config = model.config();
        this.pool = pool;
        this.kernel = kernel;
        this.maxColumns = maxColumns;
        this.h = config.hiddenSize();
        this.d = config.mixerDim();
        this.inter = config.intermediateSize();
        this.vocab = config.vocabSize();
        int widest = Math.max(Math.max(h, d), inter);
        x = new float[maxColumns][h];
        normed = new float[maxColumns][Math.max(h, d)];
        scratch = new float[widest];
        acts = new ActivationBatch[3];
        acts[0] = new ActivationBatch(kernel, maxColumns, Math.max(h, d));     // i, o, gate
        acts[1] = new ActivationBatch(kernel, maxColumns, Math.max(h, inter)); // f, down
        acts[2] = new ActivationBatch(kernel, maxColumns, h);                  // g
        iOut = new float[maxColumns][d];
        fOut = new float[maxColumns][d];
        gOut = new float[maxColumns][d];
        hOut = new float[maxColumns][Math.max(h, 2 * inter)];
        downIn = new float[maxColumns][inter];
        headActs = new ActivationBatch(kernel, maxColumns, h);
        gRms = new float[maxColumns];
        embeddingRow = model.embeddings().rowBuffer();
        headOut = new float[maxColumns][];
    }

    public int maxColumns() {
        return maxColumns;
    }

    /**
     * Runs {@code n} columns. Column c consumes {@code tokens[c]} on {@code states[c]}; if
     * {@code logits[c]} is non-null it receives that column's next-token logits [V].
     */
    public void run(int n, int[] tokens, SessionState[] states, float[][] logits, LayerObserver observer) {
        if (n < 1 || n > maxColumns) throw new IllegalArgumentException("columns must be in [1, " + maxColumns + "], got " + n);
        for (int c = 0; c < n; c++) {
            int t = tokens[c];
            if (t < 0 || t >= vocab) throw new IllegalArgumentException("token id " + t + " is outside the vocabulary [0, " + vocab + ")");
            model.embeddings().lookup(t, x[c], embeddingRow);
            if (observer != null) observer.hidden(0, c, x[c], h);
        }
        var layers = model.layers();
        for (int l = 0; l < layers.size(); l++) {
            HgrnBitLayer layer = layers.get(l);
            tokenMixer(l, layer, n, states);
            channelMixer(layer, n);
            if (observer != null) for (int c = 0; c < n; c++) observer.hidden(l + 1, c, x[c], h);
        }
        head(n, logits, observer);
        for (int c = 0; c < n; c++) states[c].advance(1);
    }

    /** MLGRU: i, f, g projections; h_t = f ⊙ h_{t-1} + silu(i) ⊙ (1 - f); o = RMSNorm(g) ⊙ silu(h); x += o_proj(o). */
    private void tokenMixer(int l, HgrnBitLayer layer, int n, SessionState[] states) {
        acts[0].begin(h);
        acts[1].begin(h);
        acts[2].begin(h);
        for (int c = 0; c < n; c++) {
            Activations.rmsNorm(x[c], layer.attnNorm(), h, config.rmsNormEps(), normed[c]);
            float r = Activations.rmsFactor(normed[c], h, Activations.NORM_EPS); // the same for i, f and g
            acts[0].commit(c, Activations.quantizeNormed(normed[c], r, layer.iProj().norm(), h, acts[0].codes(c), scratch));
            acts[1].commit(c, Activations.quantizeNormed(normed[c], r, layer.fProj().norm(), h, acts[1].codes(c), scratch));
            acts[2].commit(c, Activations.quantizeNormed(normed[c], r, layer.gProj().norm(), h, acts[2].codes(c), scratch));
        }
        matmul.set(n, layer.iProj().weight(), acts[0], iOut,
                layer.fProj().weight(), acts[1], fOut,
                layer.gProj().weight(), acts[2], gOut);
        runMatmul();

        for (int c = 0; c < n; c++) gRms[c] = Activations.rmsFactor(gOut[c], d, config.rmsNormEps());
        pointwise.recurrence(l, layer, n, states);
        pool.run(pointwise);
        acts[0].begin(d);
        for (int c = 0; c < n; c++) {
            acts[0].commit(c, Activations.quantizeNormed(normed[c], layer.oProj().norm(), d, acts[0].codes(c), scratch));
        }
        matmul.set(n, layer.oProj().weight(), acts[0], hOut);
        runMatmul();
        for (int c = 0; c < n; c++) for (int k = 0; k < h; k++) x[c][k] += hOut[c][k];
    }

    /** Runs the product set on {@code matmul} in as many parts as the kernel wants for its batch. */
    private void runMatmul() {
        pool.run(matmul, kernel.parts(matmul.batch, pool.size()));
    }

    /** GLU: u = gate_proj(RMSNorm(x)); x += down_proj(silu(u[:I]) ⊙ u[I:]). */
    private void channelMixer(HgrnBitLayer layer, int n) {
        acts[0].begin(h);
        for (int c = 0; c < n; c++) {
            Activations.rmsNorm(x[c], layer.mlpNorm(), h, config.rmsNormEps(), normed[c]);
            acts[0].commit(c, Activations.quantizeNormed(normed[c], layer.gateProj().norm(), h, acts[0].codes(c), scratch));
        }
        matmul.set(n, layer.gateProj().weight(), acts[0], hOut);
        runMatmul();
        pointwise.glu(n);
        pool.run(pointwise);
        acts[1].begin(inter);
        for (int c = 0; c < n; c++) {
            float[] in = downIn[c];
            acts[1].commit(c, Activations.quantizeNormed(in, layer.downProj().norm(), inter, acts[1].codes(c), scratch));
        }
        matmul.set(n, layer.downProj().weight(), acts[1], hOut);
        runMatmul();
        for (int c = 0; c < n; c++) for (int k = 0; k < h; k++) x[c][k] += hOut[c][k];
    }

    /** logits = lm_head(RMSNorm(x; model.norm)) for the columns that asked for logits. */
    private void head(int n, float[][] logits, LayerObserver observer) {
        int m = 0;
        BitLinear lmHead = model.lmHead();
        headActs.begin(h);
        for (int c = 0; c < n; c++) {
            if (logits[c] == null && observer == null) continue;
            Activations.rmsNorm(x[c], model.finalNorm(), h, config.rmsNormEps(), normed[c]);
            if (observer != null) observer.hidden(model.layers().size() + 1, c, normed[c], h);
            if (logits[c] == null) continue;
            if (logits[c].length < vocab) throw new IllegalArgumentException("logits buffer shorter than the vocabulary");
            headActs.commit(m, Activations.quantizeNormed(normed[c], lmHead.norm(), h, headActs.codes(m), scratch));
            headOut[m++] = logits[c];
        }
        if (m == 0) return;
        matmul.set(m, lmHead.weight(), headActs, headOut);
        runMatmul();
    }

    /**
     * The element-wise steps between products, split across the pool by channel ranges (channels are
     * independent; each thread keeps the column order, which is the time order for a prefill), so the
     * exponentials do not run on one core while the others wait. Same float operations as a serial loop.
     */
    private final class PointwiseTask implements WorkerPool.Task {
        private boolean recurrence;
        private int n, l;
        private HgrnBitLayer layer;
        private SessionState[] states;

        /** h_t = f ⊙ h_{t-1} + silu(i) ⊙ (1 - f) into the state; o = RMSNorm(g) ⊙ silu(h) into normed. */
        void recurrence(int l, HgrnBitLayer layer, int n, SessionState[] states) {
            this.recurrence = true;
            this.l = l;
            this.layer = layer;
            this.n = n;
            this.states = states;
        }

        /** silu(u[:I]) ⊙ u[I:] from hOut into downIn. */
        void glu(int n) {
            this.recurrence = false;
            this.n = n;
            this.states = null;
        }

        @Override
        public void run(int part, int parts) {
            int width = recurrence ? d : inter;
            int from = alignedSplit(width, part, parts), to = alignedSplit(width, part + 1, parts);
            if (!recurrence) {
                for (int c = 0; c < n; c++) Activations.swigluInto(hOut[c], 0, hOut[c], inter, downIn[c], from, to);
                return;
            }
            float[] gamma = layer.lowerBound(), w = layer.gNorm();
            for (int c = 0; c < n; c++) { // column order = time order for columns sharing a state
                Activations.recurrence(iOut[c], fOut[c], gOut[c], gRms[c], w, gamma, states[c].layer(l), normed[c], from, to);
            }
        }

        /** Split points on 16-float (cache line) boundaries, so threads never write one line together. */
        private static int alignedSplit(int width, int part, int parts) {
            return part == parts ? width : WorkerPool.split(width, part, parts) & ~15;
        }
    }

    /**
     * Up to three ternary products over one batch, split across the pool by blocks of
     * {@link TernaryMatrix#ROW_BLOCK} output rows of the concatenated matrices (i, f and g share one
     * parallel section). Reconfigured before each parallel section, never reallocated.
     */
    private final class MatmulTask implements WorkerPool.Task {
        private static final int BLOCK = TernaryMatrix.ROW_BLOCK;
        private int batch, count;
        private final TernaryMatrix[] mats = new TernaryMatrix[3];
        private final ActivationBatch[] in = new ActivationBatch[3];
        private final float[][][] out = new float[3][][];

        void set(int batch, TernaryMatrix m0, ActivationBatch a0, float[][] o0) {
            this.batch = batch;
            count = 1;
            mats[0] = m0; in[0] = a0; out[0] = o0;
        }

        void set(int batch, TernaryMatrix m0, ActivationBatch a0, float[][] o0,
                 TernaryMatrix m1, ActivationBatch a1, float[][] o1,
                 TernaryMatrix m2, ActivationBatch a2, float[][] o2) {
            set(batch, m0, a0, o0);
            count = 3;
            mats[1] = m1; in[1] = a1; out[1] = o1;
            mats[2] = m2; in[2] = a2; out[2] = o2;
        }

        @Override
        public void run(int part, int parts) {
            int total = 0;
            for (int k = 0; k < count; k++) total += TernaryMatrix.rowBlocksFor(mats[k].rows());
            int from = WorkerPool.split(total, part, parts), to = WorkerPool.split(total, part + 1, parts);
            int base = 0;
            for (int k = 0; k < count; k++) {
                int rows = mats[k].rows(), blocks = TernaryMatrix.rowBlocksFor(rows);
                int lo = Math.max(from - base, 0), hi = Math.min(to - base, blocks);
                if (lo < hi) kernel.multiply(mats[k], in[k], batch, out[k], 0, lo * BLOCK, Math.min(hi * BLOCK, rows));
                base += blocks;
            }
        }
    }
}
