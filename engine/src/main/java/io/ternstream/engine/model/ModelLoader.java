package io.ternstream.engine.model;

import io.ternstream.engine.safetensors.SafetensorsException;
import io.ternstream.engine.safetensors.SafetensorsFile;
import io.ternstream.engine.safetensors.Tensor;
import io.ternstream.engine.tensor.TernaryMatrix;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.zip.CRC32C;

/**
 * Loads a Hugging Face HGRN-Bit folder: {@code config.json} plus {@code model.safetensors} or shards listed
 * in {@code model.safetensors.index.json}. Files are memory-mapped; BitLinear weights are ternarized once
 * and their mapped pages released, so only packed codes stay resident. The embedding table stays mapped.
 */
public final class ModelLoader {

    public static final String WEIGHTS = "model.safetensors";
    public static final String INDEX = "model.safetensors.index.json";

    private ModelLoader() {}

    public static HgrnBitModel load(Path dir) throws IOException {
        if (!Files.isDirectory(dir)) throw new ModelFormatException(dir + ": not a model folder");
        HgrnBitConfig config = HgrnBitConfig.read(dir.resolve("config.json"));
        if (config.useShortConv()) {
            throw new ModelFormatException(dir.resolve("config.json") + ": use_short_conv=true is not supported by this engine "
                    + "(the short convolution is not implemented); the published MMfreeLM checkpoints use use_short_conv=false");
        }
        List<SafetensorsFile> files = openWeightFiles(dir);
        try {
            Tensors tensors = new Tensors(files);
            return build(config, dir, tensors, () -> files.forEach(SafetensorsFile::close));
        } catch (RuntimeException e) {
            files.forEach(SafetensorsFile::close);
            throw e;
        }
    }

    private static List<SafetensorsFile> openWeightFiles(Path dir) throws IOException {
        Path single = dir.resolve(WEIGHTS);
        Path index = dir.resolve(INDEX);
        List<SafetensorsFile> files = new ArrayList<>();
        try {
            if (Files.exists(single)) {
                files.add(SafetensorsFile.open(single));
            } else if (Files.exists(index)) {
                for (Path p : ShardIndex.shards(dir, index, Files.readString(index))) {
                    if (!Files.exists(p)) throw new ModelFormatException(index + ": shard file " + p + " is missing");
                    files.add(SafetensorsFile.open(p));
                }
            } else {
                throw new ModelFormatException(dir + ": no " + WEIGHTS + " and no " + INDEX);
            }
        } catch (IOException | RuntimeException e) {
            files.forEach(SafetensorsFile::close);
            throw e;
        }
        return files;
    }

    /** Name → tensor over all shards, with shape checks that name the file and tensor. */
    private static final class Tensors {
        private final Map<String, Tensor> byName = new LinkedHashMap<>();
        private final List<SafetensorsFile> files;
        private final String where;

        Tensors(List<SafetensorsFile> files) {
            this.files = files;
            for (SafetensorsFile f : files) {
                for (Tensor t : f.tensors().values()) {
                    Tensor previous = byName.put(t.name(), t);
                    if (previous != null) throw new ModelFormatException("tensor '" + t.name() + "' appears in both " + previous.file() + " and " + t.file());
                }
            }
            where = files.size() == 1 ? files.getFirst().path().toString() : files.getFirst().path().getParent() + " (sharded)";
        }

        Tensor get(String name, long... shape) {
            Tensor t = byName.get(name);
            if (t == null) throw new ModelFormatException(where + ": missing tensor '" + name + "'");
            if (!Arrays.equals(t.shape(), shape)) {
                throw new ModelFormatException(t.file() + ": tensor '" + name + "' has shape " + Arrays.toString(t.shape())
                        + ", expected " + Arrays.toString(shape));
            }
            if (!t.dtype().isFloat()) throw new ModelFormatException(t.file() + ": tensor '" + name + "' has dtype " + t.dtype() + ", expected F32, F16 or BF16");
            return t;
        }

        /** The file that holds a tensor returned by {@link #get}. */
        SafetensorsFile fileOf(Tensor t) {
            return files.stream().filter(f -> f.tensors().get(t.name()) == t).findFirst().orElseThrow();
        }

        boolean has(String name) {
            return byName.containsKey(name);
        }

        Iterable<Tensor> all() {
            return byName.values();
        }
    }

    private static HgrnBitModel build(HgrnBitConfig c, Path dir, Tensors t, AutoCloseable resources) {
        int h = c.hiddenSize(), d = c.mixerDim(), inter = c.intermediateSize(), v = c.vocabSize(), layers = c.numHiddenLayers();
        Tensor embedding = t.get("model.embeddings.weight", v, h);
        checkFinite(embedding);
        float[][] gamma = c.useLowerBound() ? lowerBoundGamma(t.get("model.lower_bounds", layers, d)) : null;
        List<HgrnBitLayer> blocks = new ArrayList<>(layers);
        for (int l = 0; l < layers; l++) {
            String p = "model.layers." + l + ".";
            blocks.add(new HgrnBitLayer(
                    norm(t.get(p + "attn_norm.weight", h)),
                    bitLinear(t, p + "attn.i_proj", d, h),
                    bitLinear(t, p + "attn.f_proj", d, h),
                    bitLinear(t, p + "attn.g_proj", d, h),
                    bitLinear(t, p + "attn.o_proj", h, d),
                    gamma != null && l > 0 ? gamma[l] : null,
                    norm(t.get(p + "attn.g_norm.weight", d)),
                    norm(t.get(p + "mlp_norm.weight", h)),
                    bitLinear(t, p + "mlp.gate_proj", 2L * inter, h),
                    bitLinear(t, p + "mlp.down_proj", h, inter)));
        }
        float[] finalNorm = norm(t.get("model.norm.weight", h));
        BitLinear lmHead;
        if (t.has("lm_head.weight") || !c.tieWordEmbeddings()) {
            lmHead = bitLinear(t, "lm_head", v, h);
        } else {
            lmHead = new BitLinear(norm(t.get("lm_head.norm.weight", h)), ternary(embedding, v, h));
        }
        String fingerprint = fingerprint(c, t.all());
        return new HgrnBitModel(c, dir.toAbsolutePath().normalize().getFileName().toString(), fingerprint,
                new Embeddings(embedding, t.fileOf(embedding)), List.copyOf(blocks), finalNorm, lmHead, resources);
    }

    private static BitLinear bitLinear(Tensors t, String prefix, long out, long in) {
        float[] norm = norm(t.get(prefix + ".norm.weight", in));
        Tensor w = t.get(prefix + ".weight", out, in);
        return new BitLinear(norm, ternary(w, (int) out, (int) in));
    }

    private static TernaryMatrix ternary(Tensor w, int rows, int cols) {
        TernaryMatrix m = TernaryMatrix.quantize(rows, cols, (row, dst) -> {
            w.readFloats((long) row * cols, dst, 0, cols);
            for (float x : dst) {
                if (!Float.isFinite(x)) throw new ModelFormatException(w.describe() + ": contains NaN or infinity (corrupt file?)");
            }
        });
        release(w);
        return m;
    }

    private static float[] norm(Tensor t) {
        float[] values = t.toFloatArray();
        for (float x : values) {
            if (!Float.isFinite(x)) throw new ModelFormatException(t.describe() + ": contains NaN or infinity (corrupt file?)");
        }
        return values;
    }

    private static void checkFinite(Tensor t) {
        int cols = t.dim(1);
        float[] row = new float[cols];
        for (int r = 0; r < t.dim(0); r++) {
            t.readFloats((long) r * cols, row, 0, cols);
            for (float x : row) {
                if (!Float.isFinite(x)) throw new ModelFormatException(t.describe() + ": row " + r + " contains NaN or infinity (corrupt file?)");
            }
        }
        release(t);
    }

    /** Drops the mapped pages of a tensor that has been consumed, so they do not count as resident. */
    private static void release(Tensor t) {
        try {
            if (t.data().isMapped()) t.data().unload();
        } catch (UnsupportedOperationException | IllegalStateException ignored) {
            // not a mapped segment (generated model): nothing to release
        }
    }

    /**
     * γ from {@code model.lower_bounds} [layers, dim]: P = softmax over the layer axis per channel,
     * γ = cumsum(P) - P[0], so γ_0 = 0 and γ_l = P_1 + ... + P_l.
     */
    static float[][] lowerBoundGamma(Tensor lowerBounds) {
        int layers = lowerBounds.dim(0), dim = lowerBounds.dim(1);
        float[] raw = norm(lowerBounds);
        float[][] gamma = new float[layers][dim];
        for (int ch = 0; ch < dim; ch++) {
            float max = Float.NEGATIVE_INFINITY;
            for (int l = 0; l < layers; l++) max = Math.max(max, raw[l * dim + ch]);
            float[] p = new float[layers];
            float sum = 0;
            for (int l = 0; l < layers; l++) {
                p[l] = (float) Math.exp(raw[l * dim + ch] - max);
                sum += p[l];
            }
            float cumulative = 0;
            for (int l = 0; l < layers; l++) {
                p[l] /= sum;
                cumulative += p[l];
                gamma[l][ch] = cumulative - p[0];
            }
        }
        return gamma;
    }

    /** SHA-256 over the config and every tensor's name, dtype, shape and CRC32C of its bytes. */
    private static String fingerprint(HgrnBitConfig config, Iterable<Tensor> tensors) {
        try {
            MessageDigest sha = MessageDigest.getInstance("SHA-256");
            sha.update(config.toJson().getBytes(StandardCharsets.UTF_8));
            for (Tensor t : tensors) {
                CRC32C crc = new CRC32C();
                long size = t.data().byteSize();
                for (long off = 0; off < size; off += 1L << 30) {
                    crc.update(t.data().asSlice(off, Math.min(1L << 30, size - off)).asByteBuffer());
                }
                sha.update((t.name() + "|" + t.dtype() + "|" + Arrays.toString(t.shape()) + "|" + crc.getValue() + "\n")
                        .getBytes(StandardCharsets.UTF_8));
                release(t);
            }
            return HexFormat.of().formatHex(sha.digest(), 0, 16);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        } catch (SafetensorsException e) {
            throw new ModelFormatException(e.getMessage(), e);
        }
    }
}
