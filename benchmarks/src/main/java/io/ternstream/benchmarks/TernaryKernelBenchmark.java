package io.ternstream.benchmarks;

import io.ternstream.engine.tensor.ActivationBatch;
import io.ternstream.engine.tensor.TernaryKernel;
import io.ternstream.engine.tensor.TernaryMatrix;
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
 * One ternary product, single thread, in the 370M shapes: 1024×1024 (i, f, g, o), 5632×1024 (gate and up),
 * 1024×2816 (down) and 32000×1024 (lm_head, 7 MB of packed weights: beyond L2). Time per product;
 * weights per second = rows·cols·batch / time.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {"--add-modules=jdk.incubator.vector"})
public class TernaryKernelBenchmark {

    @Param({"lut", "interleaved", "muladd", "column-lut", "vector", "scalar"})
    public String kernel;

    @Param({"1024x1024", "5632x1024", "1024x2816", "32000x1024"})
    public String shape;

    @Param({"1", "16"})
    public int batch;

    private TernaryKernel k;
    private TernaryMatrix m;
    private ActivationBatch in;
    private float[][] out;

    @Setup
    public void setUp() {
        String[] dims = shape.split("x");
        int rows = Integer.parseInt(dims[0]), cols = Integer.parseInt(dims[1]);
        k = TernaryKernel.byName(kernel);
        SplittableRandom random = new SplittableRandom(1);
        TernaryMatrix.Builder builder = new TernaryMatrix.Builder(rows, cols, k.layout());
        byte[] row = new byte[cols];
        for (int r = 0; r < rows; r++) {
            for (int c = 0; c < cols; c++) row[c] = (byte) (random.nextInt(3) - 1);
            builder.setRow(r, row);
        }
        m = builder.build(0.01f);
        in = new ActivationBatch(k, batch, cols);
        in.begin(cols);
        for (int b = 0; b < batch; b++) {
            for (int c = 0; c < cols; c++) in.codes(b)[c] = (short) (random.nextInt(255) - 127);
            in.commit(b, 1f / 127);
        }
        out = new float[batch][rows];
    }

    @Benchmark
    public float[][] multiply() {
        k.multiply(m, in, batch, out, 0, 0, m.rows());
        return out;
    }
}
