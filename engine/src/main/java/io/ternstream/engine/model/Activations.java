package io.ternstream.engine.model;

import jdk.incubator.vector.DoubleVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.ShortVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShape;
import jdk.incubator.vector.VectorSpecies;

/**
 * Element-wise math of the reference, in float32 with the reference's rounding rules. Shared by the
 * forward pass and the tests that check each op against captured reference tensors.
 *
 * <p>The loops are vectorized without changing a result: products and maxima are lane-wise the same
 * float operations, the rounding gives the same integers, and only the order of the
 * double-precision sum of squares differs (its float result is unaffected in practice).
 */
public final class Activations {

    private static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;
    /** Half as many lanes as F, same width: a float vector converts into two of these. */
    private static final VectorSpecies<Double> D = DoubleVector.SPECIES_PREFERRED;
    /** Half a float vector: as many floats as {@link #D} has doubles. */
    private static final VectorSpecies<Float> F_HALF = VectorSpecies.of(float.class, VectorShape.forBitSize(F.vectorBitSize() / 2));
    /** As many 16-bit lanes as F has floats. */
    private static final VectorSpecies<Short> S_HALF = VectorSpecies.of(short.class, VectorShape.forBitSize(F.vectorBitSize() / 2));
    /** As many 32-bit lanes as F, for bit-level work on floats. */
    private static final VectorSpecies<Integer> I = VectorSpecies.of(int.class, F.vectorShape());
    private static final float TWO_23 = 8388608f;
    private static final int TWO_23_BITS = Float.floatToRawIntBits(TWO_23);

    public static final float NORM_EPS = 1e-6f;
    /** The reference's absmax floor: s = 127 / max(max|y|, 1e-5). */
    private static final float ABSMAX_FLOOR = 1e-5f;

    private Activations() {}

    /** 1 / sqrt(mean(x²) + eps) over x[0, n). */
    public static float rmsFactor(float[] x, int n, float eps) {
        return (float) (1.0 / Math.sqrt(sumOfSquares(x, n) / n + eps));
    }

    /**
     * Σ x[0, n)² in double, in a fixed order: element i of the whole vectors into accumulator lane
     * i mod F.length(), the accumulators' lanes added left to right, then the tail in order. Not by
     * reduceLanes, whose order is unspecified: compiled by C2 it adds the lanes in another order than the
     * interpreter and C1 do, so a fresh process (a restarted service replaying a turn) could get other
     * bits than a warm one (docs/ENGINE.md, "Prefill, steps and batches are one code path").
     */
    static double sumOfSquares(float[] x, int n) {
        DoubleVector a = DoubleVector.zero(D), b = a;
        int i = 0;
        // each half loaded as its own half-width vector: a widening conversion of the low part is one
        // instruction, of the high part an extraction and a conversion that C2 compiles to a slow sequence
        for (int bound = F.loopBound(n); i < bound; i += F.length()) {
            DoubleVector lo = (DoubleVector) FloatVector.fromArray(F_HALF, x, i).convertShape(VectorOperators.F2D, D, 0);
            DoubleVector hi = (DoubleVector) FloatVector.fromArray(F_HALF, x, i + F_HALF.length()).convertShape(VectorOperators.F2D, D, 0);
            a = lo.fma(lo, a); // float·float is exact in double, so fma = multiply then add
            b = hi.fma(hi, b);
        }
        DoubleVector ab = a.add(b);
        double sum = ab.lane(0);
        for (int j = 1; j < D.length(); j++) sum += ab.lane(j);
        for (; i < n; i++) sum += (double) x[i] * x[i];
        return sum;
    }

    /** out = x · rms · w (out may be x). */
    public static void rmsNorm(float[] x, float[] w, int n, float eps, float[] out) {
        float r = rmsFactor(x, n, eps);
        int i = 0;
        for (int bound = F.loopBound(n); i < bound; i += F.length()) {
            FloatVector.fromArray(F, x, i).mul(r).mul(FloatVector.fromArray(F, w, i)).intoArray(out, i);
        }
        for (; i < n; i++) out[i] = (x[i] * r) * w[i];
    }

    /**
     * The BitLinear input path fused in one pass over x: y = RMSNorm(x; w, 1e-6), s = 127/max|y|,
     * q = clamp(round_half_away(y·s), -128, 127). Writes the codes (zero padding beyond n is the caller's)
     * and returns 1/s, the factor that turns an integer dot product back into y_q·W.
     */
    public static float quantizeNormed(float[] x, float[] w, int n, short[] codes, float[] scratch) {
        return quantizeNormed(x, rmsFactor(x, n, NORM_EPS), w, n, codes, scratch);
    }

    /**
     * {@link #quantizeNormed(float[], float[], int, short[], float[])} with the RMS factor of x (eps 1e-6)
     * already known: the i, f and g projections normalize the same input with their own weights.
     */
    public static float quantizeNormed(float[] x, float r, float[] w, int n, short[] codes, float[] scratch) {
        // |y| as int bits: for non-negative floats the integer order is the float order (a NaN is above
        // infinity, so it still wins), and an int max is one instruction where a float max with Java's
        // NaN and signed-zero rules is five
        IntVector maxBits = IntVector.zero(I);
        int i = 0;
        int bound = F.loopBound(n);
        for (; i < bound; i += F.length()) {
            FloatVector y = FloatVector.fromArray(F, x, i).mul(r).mul(FloatVector.fromArray(F, w, i));
            y.intoArray(scratch, i);
            maxBits = maxBits.max(y.abs().reinterpretAsInts());
        }
        float max = Float.intBitsToFloat(maxBits.reduceLanes(VectorOperators.MAX));
        for (; i < n; i++) {
            float y = (x[i] * r) * w[i];
            scratch[i] = y;
            max = Math.max(max, Math.abs(y));
        }
        float s = 127f / Math.max(max, ABSMAX_FLOOR);
        i = 0;
        for (; i < bound; i += F.length()) {
            // v rounded half away from zero exactly, as roundHalfAway does, without a float-to-int
            // conversion (Java's rules for NaN and overflow make it a dozen instructions): |v| + 2^23 holds
            // round-to-nearest-even(|v|) in its low mantissa bits, exact for |v| < 2^22 (here |v| ≤ 127 for
            // finite inputs); a tie that went down to even goes up; then the sign, and a clamp to
            // [-128, 127] that also keeps a NaN's code in range
            FloatVector v = FloatVector.fromArray(F, scratch, i).mul(s);
            FloatVector a = v.abs();
            FloatVector biased = a.add(TWO_23);
            IntVector q = biased.reinterpretAsInts().sub(TWO_23_BITS);
            VectorMask<Integer> tieDown = a.sub(biased.sub(TWO_23)).compare(VectorOperators.EQ, 0.5f).cast(I);
            q = q.sub((IntVector) tieDown.toVector());
            IntVector sign = v.reinterpretAsInts().lanewise(VectorOperators.ASHR, 31);
            q = q.lanewise(VectorOperators.XOR, sign).sub(sign).max(-128).min(127);
            q.convertShape(VectorOperators.I2S, S_HALF, 0).reinterpretAsShorts().intoArray(codes, i);
        }
        for (; i < n; i++) {
            codes[i] = (short) Math.clamp(roundHalfAway(scratch[i] * s), -128, 127);
        }
        return 1f / s;
    }

    /** Round half away from zero (Triton's libdevice round), evaluated in double so that 0.49999997f stays 0. */
    public static long roundHalfAway(float v) {
        double a = Math.floor(Math.abs((double) v) + 0.5);
        return (long) (v < 0 ? -a : a);
    }

    /*
     * The element-wise steps below evaluate exp on every element, tails included through masks, so a
     * value never depends on where a thread's range starts: prefill, single steps and batches stay
     * bit-identical to one another. They are per column and per channel, so unlike the weights they do
     * not amortize over a batch.
     *
     * Every exp goes through one array pass, expNeg, which holds the only copy of the e^x arithmetic. The
     * steps around it are loops over arrays too, and no method takes or returns a vector: C2 does not
     * reliably inline such a method (it compiled the recurrence's three calls of a vector exp helper as
     * real calls, boxing each vector into a new object, and the recurrence ran 3–8× slower than its
     * arithmetic; docs/ENGINE.md).
     */

    private static final float LOG2E = 1.44269504f;
    private static final float LN2_HI = 0.693359375f;      // few significant bits: n·LN2_HI is exact
    private static final float LN2_LO = -2.12194440e-4f;   // ln 2 − LN2_HI
    private static final float ROUNDER = 12582912f;        // 1.5·2^23: adding it rounds to an integer
    private static final int ROUNDER_BITS = Float.floatToRawIntBits(ROUNDER);
    /**
     * e^r ≈ 1 + r + c2·r² + … + c6·r⁶ on |r| ≤ 1.02·ln2/2: least-squares weighted towards the largest
     * relative error (near minimax), 5.7e-9 relative with these float coefficients, against 1.2e-7 for
     * the Taylor coefficients; rounding then dominates, and a result is within 1 ulp.
     */
    private static final float EXP_C2 = 0.49999994f, EXP_C3 = 0.16666509f, EXP_C4 = 0.041668527f,
            EXP_C5 = 0.008370135f, EXP_C6 = 0.0013811662f;

    /**
     * out[outOff + k] = e^(−x[xOff + k]) for k in [from, to), within 1 ulp, from fused multiply-adds,
     * adds and bit operations only (out may be x). Not the Vector API's EXP: that one is a native routine
     * once the JIT has compiled the caller but Math.exp in the interpreter, and the two differ in the last
     * bit, so the same step could give different bits in a fresh process (a restarted service replaying a
     * turn) than in a warm one. Every operation here is exactly rounded IEEE arithmetic in both modes (a
     * fused multiply-add is rounded once, in the interpreter too). Exponents are clamped to [-87, 88]
     * (results stay normal floats: e^-87 ≈ 1.6e-38, e^88 ≈ 1.7e38), which changes no sigmoid or silu value
     * by more than 1e-37.
     */
    public static void expNeg(float[] x, int xOff, float[] out, int outOff, int from, int to) {
        FloatVector lo = FloatVector.broadcast(F, -87f), hi = FloatVector.broadcast(F, 88f);
        FloatVector log2e = FloatVector.broadcast(F, LOG2E), rounder = FloatVector.broadcast(F, ROUNDER);
        FloatVector negLn2Hi = FloatVector.broadcast(F, -LN2_HI), negLn2Lo = FloatVector.broadcast(F, -LN2_LO);
        FloatVector one = FloatVector.broadcast(F, 1f), c2 = FloatVector.broadcast(F, EXP_C2), c3 = FloatVector.broadcast(F, EXP_C3);
        FloatVector c4 = FloatVector.broadcast(F, EXP_C4), c5 = FloatVector.broadcast(F, EXP_C5), c6 = FloatVector.broadcast(F, EXP_C6);
        for (int k = from; k < to; k += F.length()) {
            VectorMask<Float> m = F.indexInRange(k, to);
            FloatVector v = FloatVector.fromArray(F, x, xOff + k, m).neg();
            // the clamp as compare and blend: a float max or min with Java's NaN and signed-zero rules is
            // five instructions; the result is the same here (a NaN stays NaN, the bounds are not zero)
            v = v.blend(lo, v.lt(lo));
            v = v.blend(hi, v.compare(VectorOperators.GT, hi));
            FloatVector t = v.fma(log2e, rounder);                      // n = round(v / ln 2) in the low bits
            FloatVector n = t.sub(ROUNDER);
            FloatVector r = n.fma(negLn2Lo, n.fma(negLn2Hi, v));        // v − n·ln 2, |r| ≤ ln2/2 (a little more)
            FloatVector p = r.fma(c6, c5).fma(r, c4).fma(r, c3).fma(r, c2).fma(r, one).fma(r, one);
            FloatVector scale = t.reinterpretAsInts().sub(ROUNDER_BITS - 127).lanewise(VectorOperators.LSHL, 23).reinterpretAsFloats();
            p.mul(scale).intoArray(out, outOff + k, m);
        }
    }

    /** out[k] = silu(x[xOff + k])·y[yOff + k] for k in [from, to), as the reference: x·y / (1 + e^−x). */
    public static void swigluInto(float[] x, int xOff, float[] y, int yOff, float[] out, int from, int to) {
        expNeg(x, xOff, out, 0, from, to);
        FloatVector one = FloatVector.broadcast(F, 1f);
        for (int k = from; k < to; k += F.length()) {
            VectorMask<Float> m = F.indexInRange(k, to);
            FloatVector xv = FloatVector.fromArray(F, x, xOff + k, m);
            FloatVector yv = FloatVector.fromArray(F, y, yOff + k, m);
            xv.mul(yv).div(one.add(FloatVector.fromArray(F, out, k, m))).intoArray(out, k, m);
        }
    }

    /**
     * The MLGRU recurrence and output gate over channels [from, to) of one column:
     * f = σ(f) (or γ + (1-γ)σ(f) with a lower bound); h = f·h + silu(i)·(1-f); o = RMSNorm(g)·w·silu(h),
     * where {@code gRms} is RMSNorm's factor of g. Updates {@code state} and writes {@code out}; {@code f}
     * is overwritten (the caller's scratch), and {@code out} holds e^−i until the last pass.
     */
    public static void recurrence(float[] i, float[] f, float[] g, float gRms, float[] w, float[] gamma,
                                  float[] state, float[] out, int from, int to) {
        expNeg(f, 0, f, 0, from, to);
        expNeg(i, 0, out, 0, from, to);
        updateState(i, f, out, gamma, state, from, to);
        expNeg(state, 0, f, 0, from, to);
        outputGate(g, gRms, w, state, f, out, from, to);
    }

    /** h = f·h + i·(1 − f) / (1 + e^−i) with f = 1 / (1 + e^−f), lower-bounded by γ; e^−f and e^−i given. */
    private static void updateState(float[] i, float[] expNegF, float[] expNegI, float[] gamma, float[] state, int from, int to) {
        FloatVector one = FloatVector.broadcast(F, 1f);
        for (int k = from; k < to; k += F.length()) {
            VectorMask<Float> m = F.indexInRange(k, to);
            FloatVector forget = one.div(one.add(FloatVector.fromArray(F, expNegF, k, m)));
            if (gamma != null) {
                FloatVector gv = FloatVector.fromArray(F, gamma, k, m);
                forget = gv.add(one.sub(gv).mul(forget));
            }
            FloatVector iv = FloatVector.fromArray(F, i, k, m);
            FloatVector input = iv.mul(one.sub(forget)).div(one.add(FloatVector.fromArray(F, expNegI, k, m)));
            forget.mul(FloatVector.fromArray(F, state, k, m)).add(input).intoArray(state, k, m);
        }
    }

    /** o = (g · gRms · w) · h / (1 + e^−h), e^−h given. */
    private static void outputGate(float[] g, float gRms, float[] w, float[] h, float[] expNegH, float[] out, int from, int to) {
        FloatVector one = FloatVector.broadcast(F, 1f);
        for (int k = from; k < to; k += F.length()) {
            VectorMask<Float> m = F.indexInRange(k, to);
            FloatVector normedG = FloatVector.fromArray(F, g, k, m).mul(gRms).mul(FloatVector.fromArray(F, w, k, m));
            FloatVector hv = FloatVector.fromArray(F, h, k, m);
            normedG.mul(hv.div(one.add(FloatVector.fromArray(F, expNegH, k, m)))).intoArray(out, k, m);
        }
    }
}
