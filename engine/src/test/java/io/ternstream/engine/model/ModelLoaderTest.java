package io.ternstream.engine.model;

import io.ternstream.engine.Engine;
import io.ternstream.engine.EngineOptions;
import io.ternstream.engine.golden.Golden;
import io.ternstream.engine.safetensors.DType;
import io.ternstream.engine.safetensors.SafetensorsException;
import io.ternstream.engine.safetensors.SafetensorsFile;
import io.ternstream.engine.safetensors.SafetensorsWriter;
import io.ternstream.engine.safetensors.Tensor;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.UnaryOperator;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

/** Loading checkpoints: dtypes, shards, and every kind of broken folder failing with a clear message. */
class ModelLoaderTest {

    @TempDir
    Path tmp;

    @Test
    void shardedCheckpointGivesTheSameLogitsAsTheSingleFile() throws Exception {
        Map<String, Tensor> tensors = goldenTensors();
        Path dir = modelDir("sharded");
        List<String> names = new ArrayList<>(tensors.keySet());
        SafetensorsWriter first = new SafetensorsWriter(), second = new SafetensorsWriter();
        StringBuilder map = new StringBuilder();
        for (int i = 0; i < names.size(); i++) {
            String shard = i % 2 == 0 ? "model-00001-of-00002.safetensors" : "model-00002-of-00002.safetensors";
            Tensor t = tensors.get(names.get(i));
            (i % 2 == 0 ? first : second).addRaw(t.name(), t.dtype(), t.shape(), t.data().toArray(java.lang.foreign.ValueLayout.JAVA_BYTE));
            map.append(map.isEmpty() ? "" : ",").append('"').append(t.name()).append("\":\"").append(shard).append('"');
        }
        first.write(dir.resolve("model-00001-of-00002.safetensors"));
        second.write(dir.resolve("model-00002-of-00002.safetensors"));
        Files.writeString(dir.resolve("model.safetensors.index.json"), "{\"metadata\":{},\"weight_map\":{" + map + "}}");
        assertArrayEquals(logits(Golden.dir()), logits(dir));
    }

    @Test
    void bf16AndF16CheckpointsMatchF32WithTheSameValues() throws Exception {
        for (DType dtype : new DType[] {DType.BF16, DType.F16}) {
            Map<String, Tensor> tensors = goldenTensors();
            Path half = modelDir("half-" + dtype), exact = modelDir("f32-" + dtype);
            SafetensorsWriter halfWriter = new SafetensorsWriter(), f32Writer = new SafetensorsWriter();
            for (Tensor t : tensors.values()) {
                float[] values = t.toFloatArray();
                ByteBuffer raw = ByteBuffer.allocate(values.length * 2).order(ByteOrder.LITTLE_ENDIAN);
                for (int i = 0; i < values.length; i++) {
                    short bits = dtype == DType.BF16 ? (short) (Float.floatToIntBits(values[i]) >>> 16) : Float.floatToFloat16(values[i]);
                    raw.putShort(bits);
                    values[i] = dtype == DType.BF16 ? Float.intBitsToFloat((bits & 0xffff) << 16) : Float.float16ToFloat(bits);
                }
                halfWriter.addRaw(t.name(), dtype, t.shape(), raw.array());
                f32Writer.addF32(t.name(), t.shape(), values);
            }
            halfWriter.write(half.resolve("model.safetensors"));
            f32Writer.write(exact.resolve("model.safetensors"));
            assertArrayEquals(logits(exact), logits(half), dtype + " checkpoint");
        }
    }

    @Test
    void unknownModelTypeIsRefused() throws Exception {
        Path dir = copyWithConfig("unknown", c -> c.replace("\"hgrn_bit\"", "\"llama\""));
        assertThat(assertThrows(ModelFormatException.class, () -> ModelLoader.load(dir)).getMessage())
                .contains("model_type 'llama' is not supported");
    }

    @Test
    void shortConvolutionCheckpointsAreRefusedClearly() throws Exception {
        Path dir = copyWithConfig("conv", c -> c.replace("\"use_short_conv\": false", "\"use_short_conv\": true"));
        assertThat(assertThrows(ModelFormatException.class, () -> ModelLoader.load(dir)).getMessage())
                .contains("use_short_conv=true is not supported");
    }

    @Test
    void invalidConfigJsonNamesTheFile() throws Exception {
        Path dir = copyWithConfig("badjson", c -> c.substring(0, c.length() / 2));
        assertThat(assertThrows(ModelFormatException.class, () -> ModelLoader.load(dir)).getMessage())
                .contains("config.json").contains("invalid config.json");
        Path negative = copyWithConfig("negative", c -> c.replace("\"hidden_size\": 128", "\"hidden_size\": -5"));
        assertThat(assertThrows(ModelFormatException.class, () -> ModelLoader.load(negative)).getMessage())
                .contains("hidden_size must be positive");
    }

    @Test
    void missingTensorNamesTheTensor() throws Exception {
        Path dir = rewrite("missing", (name, t) -> name.equals("model.layers.1.attn.f_proj.weight") ? null : t);
        assertThat(assertThrows(ModelFormatException.class, () -> ModelLoader.load(dir)).getMessage())
                .contains("missing tensor 'model.layers.1.attn.f_proj.weight'");
    }

    @Test
    void wrongShapeNamesTheTensorAndBothShapes() throws Exception {
        Path dir = rewrite("shape", (name, t) -> name.equals("model.layers.0.mlp.down_proj.weight")
                ? new float[][] {{1, 2}, {3, 4}} : t);
        String message = assertThrows(ModelFormatException.class, () -> ModelLoader.load(dir)).getMessage();
        assertThat(message).contains("model.layers.0.mlp.down_proj.weight").contains("[2, 2]").contains("expected [128, 512]");
    }

    @Test
    void nanWeightsAreReportedAsCorrupt() throws Exception {
        Path dir = rewrite("nan", (name, t) -> {
            if (!name.equals("model.layers.2.attn.o_proj.weight")) return t;
            t[3][7] = Float.NaN;
            return t;
        });
        assertThat(assertThrows(ModelFormatException.class, () -> ModelLoader.load(dir)).getMessage())
                .contains("model.layers.2.attn.o_proj.weight").contains("NaN");
    }

    @Test
    void truncatedFileIsRefusedWithItsName() throws Exception {
        Path dir = modelDir("truncated");
        byte[] full = Files.readAllBytes(Golden.dir().resolve("model.safetensors"));
        Files.write(dir.resolve("model.safetensors"), java.util.Arrays.copyOf(full, full.length - 1000));
        String message = assertThrows(SafetensorsException.class, () -> ModelLoader.load(dir)).getMessage();
        assertThat(message).contains("model.safetensors").contains("truncated");
    }

    @Test
    void corruptHeaderIsRefused() throws Exception {
        Path dir = modelDir("corrupt");
        byte[] full = Files.readAllBytes(Golden.dir().resolve("model.safetensors"));
        full[20] = '{';
        full[21] = '}';
        Files.write(dir.resolve("model.safetensors"), full);
        assertThat(assertThrows(SafetensorsException.class, () -> ModelLoader.load(dir)).getMessage())
                .contains("model.safetensors").contains("header");
        Files.write(dir.resolve("model.safetensors"), new byte[] {1, 2, 3});
        assertThat(assertThrows(SafetensorsException.class, () -> ModelLoader.load(dir)).getMessage()).contains("truncated");
        ByteBuffer hugeHeader = ByteBuffer.allocate(16).order(ByteOrder.LITTLE_ENDIAN).putLong(1L << 40);
        Files.write(dir.resolve("model.safetensors"), hugeHeader.array());
        assertThat(assertThrows(SafetensorsException.class, () -> ModelLoader.load(dir)).getMessage()).contains("header length");
    }

    @Test
    void missingFilesAreReported() throws Exception {
        Path empty = Files.createDirectories(tmp.resolve("empty"));
        assertThat(assertThrows(ModelFormatException.class, () -> ModelLoader.load(empty)).getMessage()).contains("missing config.json");
        Path noWeights = modelDir("noweights");
        assertThat(assertThrows(ModelFormatException.class, () -> ModelLoader.load(noWeights)).getMessage())
                .contains("no model.safetensors");
        assertThat(assertThrows(ModelFormatException.class, () -> ModelLoader.load(tmp.resolve("nowhere"))).getMessage())
                .contains("not a model folder");
        Path badIndex = modelDir("badindex");
        Files.writeString(badIndex.resolve("model.safetensors.index.json"), "{\"weight_map\":{\"a\":\"model-1.safetensors\"}}");
        assertThat(assertThrows(ModelFormatException.class, () -> ModelLoader.load(badIndex)).getMessage()).contains("is missing");
    }

    @Test
    void intermediateSizeFollowsTheReferenceRounding() {
        assertThat(HgrnBitConfig.of(512, 128, 3, null).intermediateSize()).isEqualTo(512);
        assertThat(HgrnBitConfig.of(32000, 1024, 24, null).intermediateSize()).isEqualTo(2816);
        assertThat(HgrnBitConfig.of(32000, 2048, 24, null).intermediateSize()).isEqualTo(5632);
        assertThat(HgrnBitConfig.of(32000, 2560, 32, null).intermediateSize()).isEqualTo(6912);
    }

    // --- helpers ---

    private static float[] logits(Path dir) throws IOException {
        try (Engine engine = Engine.open(dir, new EngineOptions(1, 8))) {
            return engine.prefill(engine.newState(), new int[] {263, 188, 163, 182, 103, 275, 77, 220});
        }
    }

    private Path modelDir(String name) throws IOException {
        Path dir = Files.createDirectories(tmp.resolve(name));
        Files.copy(Golden.dir().resolve("config.json"), dir.resolve("config.json"));
        return dir;
    }

    private Path copyWithConfig(String name, UnaryOperator<String> edit) throws IOException {
        Path dir = Files.createDirectories(tmp.resolve(name));
        Files.writeString(dir.resolve("config.json"), edit.apply(Files.readString(Golden.dir().resolve("config.json"))));
        Files.copy(Golden.dir().resolve("model.safetensors"), dir.resolve("model.safetensors"));
        return dir;
    }

    private static Map<String, Tensor> goldenTensors() throws IOException {
        SafetensorsFile file = SafetensorsFile.open(Golden.dir().resolve("model.safetensors"));
        return new LinkedHashMap<>(file.tensors()); // file stays mapped for the test's lifetime
    }

    /** Writes a copy of the golden checkpoint with tensors edited (2-D as rows) or dropped (null). */
    private Path rewrite(String name, java.util.function.BiFunction<String, float[][], float[][]> edit) throws IOException {
        Path dir = modelDir(name);
        SafetensorsWriter writer = new SafetensorsWriter();
        for (Tensor t : goldenTensors().values()) {
            int rows = t.shape().length == 2 ? t.dim(0) : 1;
            int cols = (int) (t.elementCount() / rows);
            float[][] values = new float[rows][cols];
            for (int r = 0; r < rows; r++) t.readFloats((long) r * cols, values[r], 0, cols);
            float[][] edited = edit.apply(t.name(), values);
            if (edited == null) continue;
            float[] flat = new float[edited.length * edited[0].length];
            for (int r = 0; r < edited.length; r++) System.arraycopy(edited[r], 0, flat, r * edited[0].length, edited[0].length);
            long[] shape = edited == values ? t.shape() : new long[] {edited.length, edited[0].length};
            writer.addF32(t.name(), shape, flat);
        }
        writer.write(dir.resolve("model.safetensors"));
        return dir;
    }
}
