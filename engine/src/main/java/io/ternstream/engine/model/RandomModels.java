package io.ternstream.engine.model;

import io.ternstream.engine.safetensors.DType;
import io.ternstream.engine.safetensors.Tensor;
import io.ternstream.engine.tensor.TernaryKernel;
import io.ternstream.engine.tensor.TernaryMatrix;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.StandardOpenOption;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.SplittableRandom;

/**
 * Random HGRN-Bit models in the published shapes, for benchmarks: ternary weights drawn uniformly from
 * {-1, 0, +1} and packed directly (no float latents ever exist), a BF16 embedding table in one mapped
 * off-heap segment, random norm weights near 1 and random lower bounds. Same seed, same model.
 */
public final class RandomModels {

    private static final ValueLayout.OfShort BF16 = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    private RandomModels() {}

    /**
     * The config named by {@code spec}: {@code 370m}, {@code 1.3b} or {@code 2.7b} (MMfreeLM shapes: hidden
     * 1024/2048/2560, layers 24/24/32, vocab 32000, intermediate by the reference's rule), or the path of a
     * {@code config.json}.
     */
    public static HgrnBitConfig config(String spec) throws IOException {
        return switch (spec.toLowerCase(java.util.Locale.ROOT)) {
            case "370m" -> HgrnBitConfig.of(32000, 1024, 24, null);
            case "1.3b" -> HgrnBitConfig.of(32000, 2048, 24, null);
            case "2.7b" -> HgrnBitConfig.of(32000, 2560, 32, null);
            default -> HgrnBitConfig.read(Path.of(spec));
        };
    }

    /** A model packed for the kernel selected in this process. */
    public static HgrnBitModel create(HgrnBitConfig config, String name, long seed) {
        return create(config, name, seed, TernaryKernel.selected().layout());
    }

    public static HgrnBitModel create(HgrnBitConfig c, String name, long seed, TernaryMatrix.Layout layout) {
        SplittableRandom random = new SplittableRandom(seed);
        int h = c.hiddenSize(), d = c.mixerDim(), inter = c.intermediateSize(), v = c.vocabSize(), layers = c.numHiddenLayers();
        Arena arena = Arena.ofShared();
        try {
            Embeddings embeddings = new Embeddings(embeddingTable(arena, v, h, random.split()));
            float[][] gamma = c.useLowerBound() ? lowerBounds(layers, d, random.split()) : null;
            List<HgrnBitLayer> blocks = new ArrayList<>(layers);
            for (int l = 0; l < layers; l++) {
                blocks.add(new HgrnBitLayer(norm(h, random), linear(d, h, layout, random), linear(d, h, layout, random),
                        linear(d, h, layout, random), linear(h, d, layout, random), gamma != null && l > 0 ? gamma[l] : null,
                        norm(d, random), norm(h, random), linear(2 * inter, h, layout, random), linear(h, inter, layout, random)));
            }
            BitLinear head = linear(v, h, layout, random);
            String fingerprint = HexFormat.of().formatHex(java.nio.ByteBuffer.allocate(16)
                    .putLong(seed).putInt(c.toJson().hashCode()).putInt(layout.ordinal()).array());
            return new HgrnBitModel(c, name, fingerprint, embeddings, List.copyOf(blocks), norm(h, random), head, arena::close);
        } catch (RuntimeException e) {
            arena.close();
            throw e;
        }
    }

    /**
     * [vocab, hidden] BF16 values in about ±0.05, the scale of trained embeddings, in a memory-mapped
     * scratch file (deleted at once, so it lives as long as the mapping) whose pages are then released:
     * like a checkpoint's mapped table, only the rows that lookups touch become resident.
     */
    private static Tensor embeddingTable(Arena arena, int vocab, int hidden, SplittableRandom random) {
        long count = (long) vocab * hidden;
        MemorySegment data;
        try {
            Path file = Files.createTempFile("ternstream-embeddings", ".bf16");
            try (FileChannel channel = FileChannel.open(file, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
                data = channel.map(FileChannel.MapMode.READ_WRITE, 0, count * 2, arena);
            } finally {
                Files.delete(file);
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot create the scratch file of a random embedding table", e);
        }
        for (long i = 0; i < count; i++) {
            float value = (float) (random.nextDouble() - 0.5) * 0.1f;
            data.set(BF16, i * 2, (short) (Float.floatToRawIntBits(value) >>> 16));
        }
        data.force();
        data.unload();
        return new Tensor("model.embeddings.weight", DType.BF16, new long[] {vocab, hidden}, data, Path.of("random"));
    }

    private static float[][] lowerBounds(int layers, int dim, SplittableRandom random) {
        float[] raw = new float[layers * dim];
        for (int i = 0; i < raw.length; i++) raw[i] = (float) random.nextGaussian();
        Tensor t = new Tensor("model.lower_bounds", DType.F32, new long[] {layers, dim},
                MemorySegment.ofArray(raw), Path.of("random"));
        return ModelLoader.lowerBoundGamma(t);
    }

    private static float[] norm(int n, SplittableRandom random) {
        float[] w = new float[n];
        for (int i = 0; i < n; i++) w[i] = 1f + (float) (random.nextDouble() - 0.5) * 0.2f;
        return w;
    }

    /** Uniform ternary codes, 20 trits from each random long, packed row by row. */
    private static BitLinear linear(int out, int in, TernaryMatrix.Layout layout, SplittableRandom random) {
        TernaryMatrix.Builder builder = new TernaryMatrix.Builder(out, in, layout);
        byte[] row = new byte[in];
        for (int r = 0; r < out; r++) {
            for (int c = 0; c < in; ) {
                long bits = random.nextLong();
                for (int k = 0; k < 20 && c < in; k++, c++) {
                    row[c] = (byte) (Math.unsignedMultiplyHigh(bits, 3) - 1); // top base-3 digit of bits / 2^64
                    bits *= 3;
                }
            }
            builder.setRow(r, row);
        }
        // a trained model's scale 1/mean|W| gives outputs of unit size for unit inputs: about 1/sqrt(in · 2/3)
        return new BitLinear(norm(in, random), builder.build((float) (1 / Math.sqrt(in * 2.0 / 3.0))));
    }
}
