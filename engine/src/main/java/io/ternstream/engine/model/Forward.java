package io.ternstream.engine.model;

import io.ternstream.engine.parallel.WorkerPool;
import io.ternstream.engine.state.SessionState;
import io.ternstream.engine.tensor.TernaryKernel;
import io.ternstream.engine.tensor.TernaryMatrix;

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
    private final short[][][] codes;  // [3][C][maxPad] activation codes of up to three projections
    private final float[][] inv;      // [3][C] 1/s of each column's quantization
    private final float[][] iOut, fOut, gOut; // [C][D]
    private final float[][] hOut;     // [C][max(H, 2I)] o_proj, gate_proj and down_proj outputs
    private final float[][] downIn;   // [C][I]
    private final short[][] headCodes; // [C][Hpad] for the columns that need logits
    private final float[] headInv;     // [C]
    private final float[][] headOut;   // [C] rows of the caller's logits buffers
    private final MatmulTask matmul = new MatmulTask();

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
        int pad = TernaryMatrix.wordsFor(widest) * TernaryMatrix.WORD_BITS;
        x = new float[maxColumns][h];
        normed = new float[maxColumns][Math.max(h, d)];
        scratch = new float[widest];
        codes = new short[3][maxColumns][pad];
        inv = new float[3][maxColumns];
        iOut = new float[maxColumns][d];
        fOut = new float[maxColumns][d];
        gOut = new float[maxColumns][d];
        hOut = new float[maxColumns][Math.max(h, 2 * inter)];
        downIn = new float[maxColumns][inter];
        headCodes = new short[maxColumns][pad];
        headInv = new float[maxColumns];
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
            model.embeddings().lookup(t, x[c]);
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
        for (int c = 0; c < n; c++) {
            Activations.rmsNorm(x[c], layer.attnNorm(), h, config.rmsNormEps(), normed[c]);
            inv[0][c] = Activations.quantizeNormed(normed[c], layer.iProj().norm(), h, codes[0][c], scratch);
            inv[1][c] = Activations.quantizeNormed(normed[c], layer.fProj().norm(), h, codes[1][c], scratch);
            inv[2][c] = Activations.quantizeNormed(normed[c], layer.gProj().norm(), h, codes[2][c], scratch);
        }
        matmul.set(n, layer.iProj().weight(), codes[0], inv[0], iOut,
                layer.fProj().weight(), codes[1], inv[1], fOut,
                layer.gProj().weight(), codes[2], inv[2], gOut);
        pool.run(matmul);

        float[] gamma = layer.lowerBound();
        for (int c = 0; c < n; c++) { // column order = time order for columns sharing a state
            float[] state = states[c].layer(l);
            float[] i = iOut[c], f = fOut[c], o = normed[c];
            for (int k = 0; k < d; k++) {
                float forget = Activations.sigmoid(f[k]);
                if (gamma != null) forget = gamma[k] + (1f - gamma[k]) * forget;
                state[k] = forget * state[k] + Activations.swiglu(i[k], 1f - forget);
                o[k] = state[k]; // silu(h) gates the normalized g below
            }
            float r = Activations.rmsFactor(gOut[c], d, config.rmsNormEps());
            float[] g = gOut[c], w = layer.gNorm();
            for (int k = 0; k < d; k++) o[k] = ((g[k] * r) * w[k]) * Activations.swiglu(o[k], 1f);
            inv[0][c] = Activations.quantizeNormed(o, layer.oProj().norm(), d, codes[0][c], scratch);
        }
        matmul.set(n, layer.oProj().weight(), codes[0], inv[0], hOut);
        pool.run(matmul);
        for (int c = 0; c < n; c++) for (int k = 0; k < h; k++) x[c][k] += hOut[c][k];
    }

    /** GLU: u = gate_proj(RMSNorm(x)); x += down_proj(silu(u[:I]) ⊙ u[I:]). */
    private void channelMixer(HgrnBitLayer layer, int n) {
        for (int c = 0; c < n; c++) {
            Activations.rmsNorm(x[c], layer.mlpNorm(), h, config.rmsNormEps(), normed[c]);
            inv[0][c] = Activations.quantizeNormed(normed[c], layer.gateProj().norm(), h, codes[0][c], scratch);
        }
        matmul.set(n, layer.gateProj().weight(), codes[0], inv[0], hOut);
        pool.run(matmul);
        for (int c = 0; c < n; c++) {
            float[] u = hOut[c], in = downIn[c];
            for (int k = 0; k < inter; k++) in[k] = Activations.swiglu(u[k], u[inter + k]);
            inv[1][c] = Activations.quantizeNormed(in, layer.downProj().norm(), inter, codes[1][c], scratch);
        }
        matmul.set(n, layer.downProj().weight(), codes[1], inv[1], hOut);
        pool.run(matmul);
        for (int c = 0; c < n; c++) for (int k = 0; k < h; k++) x[c][k] += hOut[c][k];
    }

    /** logits = lm_head(RMSNorm(x; model.norm)) for the columns that asked for logits. */
    private void head(int n, float[][] logits, LayerObserver observer) {
        int m = 0;
        BitLinear lmHead = model.lmHead();
        for (int c = 0; c < n; c++) {
            if (logits[c] == null && observer == null) continue;
            Activations.rmsNorm(x[c], model.finalNorm(), h, config.rmsNormEps(), normed[c]);
            if (observer != null) observer.hidden(model.layers().size() + 1, c, normed[c], h);
            if (logits[c] == null) continue;
            if (logits[c].length < vocab) throw new IllegalArgumentException("logits buffer shorter than the vocabulary");
            headInv[m] = Activations.quantizeNormed(normed[c], lmHead.norm(), h, headCodes[m], scratch);
            headOut[m++] = logits[c];
        }
        if (m == 0) return;
        matmul.set(m, lmHead.weight(), headCodes, headInv, headOut);
        pool.run(matmul);
    }

    /**
     * Up to three ternary products over one batch, split across the pool by output rows of the
     * concatenated matrices. Reconfigured before each parallel section, never reallocated.
     */
    private final class MatmulTask implements WorkerPool.Task {
        private int batch, count;
        private final TernaryMatrix[] mats = new TernaryMatrix[3];
        private final short[][][] in = new short[3][][];
        private final float[][] scales = new float[3][];
        private final float[][][] out = new float[3][][];

        void set(int batch, TernaryMatrix m0, short[][] c0, float[] s0, float[][] o0) {
            this.batch = batch;
            count = 1;
            mats[0] = m0; in[0] = c0; scales[0] = s0; out[0] = o0;
        }

        void set(int batch, TernaryMatrix m0, short[][] c0, float[] s0, float[][] o0,
                 TernaryMatrix m1, short[][] c1, float[] s1, float[][] o1,
                 TernaryMatrix m2, short[][] c2, float[] s2, float[][] o2) {
            set(batch, m0, c0, s0, o0);
            count = 3;
            mats[1] = m1; in[1] = c1; scales[1] = s1; out[1] = o1;
            mats[2] = m2; in[2] = c2; scales[2] = s2; out[2] = o2;
        }

        @Override
        public void run(int part, int parts) {
            int total = 0;
            for (int k = 0; k < count; k++) total += mats[k].rows();
            int from = WorkerPool.split(total, part, parts), to = WorkerPool.split(total, part + 1, parts);
            int base = 0;
            for (int k = 0; k < count; k++) {
                int rows = mats[k].rows();
                int lo = Math.max(from - base, 0), hi = Math.min(to - base, rows);
                if (lo < hi) kernel.multiply(mats[k], in[k], scales[k], batch, out[k], 0, lo, hi);
                base += rows;
            }
        }
    }
}
