package io.ternstream.benchmarks;

import io.ternstream.engine.model.Activations;
import io.ternstream.engine.tensor.ActivationBatch;
import io.ternstream.engine.tensor.TernaryKernel;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;

/**
 * The per-column work around the products: fused RMSNorm + absmax quantization, the LUT tables, and the
 * element-wise recurrence and SwiGLU (n channels).
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {"--add-modules=jdk.incubator.vector"})
public class ActivationsBenchmark {

    @Param({"1024", "2816"})
    public int n;

    private float[] x, w, scratch;
    private float[] i, f, g, gamma, state, out, up;
    private short[] codes;
    private ActivationBatch lut;

    @Setup
    public void setUp() {
        SplittableRandom random = new SplittableRandom(1);
        x = new float[n];
        w = new float[n];
        scratch = new float[n];
        for (int i = 0; i < n; i++) {
            x[i] = (float) random.nextGaussian();
            w[i] = 0.5f + random.nextFloat();
        }
        codes = new short[n + 64];
        i = new float[n];
        f = new float[n];
        g = new float[n];
        gamma = new float[n];
        state = new float[n];
        out = new float[n];
        up = new float[2 * n];
        for (int k = 0; k < n; k++) {
            i[k] = (float) random.nextGaussian();
            g[k] = (float) random.nextGaussian();
            gamma[k] = 0.1f * random.nextFloat();
        }
        for (int k = 0; k < 2 * n; k++) up[k] = (float) random.nextGaussian();
        lut = new ActivationBatch(TernaryKernel.byName("lut"), 1, n);
    }

    @Benchmark
    public float quantizeNormed() {
        return Activations.quantizeNormed(x, w, n, codes, scratch);
    }

    @Benchmark
    public ActivationBatch quantizeAndBuildTables() {
        lut.begin(n);
        lut.commit(0, Activations.quantizeNormed(x, w, n, lut.codes(0), scratch));
        return lut;
    }

    @Benchmark
    public float[] recurrence() {
        System.arraycopy(x, 0, f, 0, n); // f is the recurrence's scratch: refill it
        Activations.recurrence(i, f, g, 1.1f, w, gamma, state, out, 0, n);
        return out;
    }

    @Benchmark
    public float[] swiglu() {
        Activations.swigluInto(up, 0, up, n, out, 0, n);
        return out;
    }
}
