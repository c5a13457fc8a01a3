package io.ternstream.engine.golden;

import io.ternstream.engine.model.Activations;
import io.ternstream.engine.safetensors.SafetensorsFile;
import io.ternstream.engine.safetensors.Tensor;
import io.ternstream.engine.tensor.TernaryMatrix;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Single ops against tensors captured inside the reference: the quantizers bit for bit. */
class GoldenOpsTest {

    @Test
    void weightTernarizationMatchesTheReferenceCodesAndScale() throws Exception {
        try (Golden golden = Golden.open(); SafetensorsFile model = SafetensorsFile.open(Golden.dir().resolve("model.safetensors"))) {
            Tensor w = model.tensors().get("model.layers.0.attn.i_proj.weight");
            int rows = w.dim(0), cols = w.dim(1);
            TernaryMatrix m = TernaryMatrix.quantize(rows, cols, (r, dst) -> w.readFloats((long) r * cols, dst, 0, cols));
            Tensor codes = golden.tensor("internals.layer0.attn.i_proj.w_ternary");
            for (int r = 0; r < rows; r++) {
                for (int c = 0; c < cols; c++) assertEquals(codes.getLong((long) r * cols + c), m.code(r, c), "code at " + r + "," + c);
            }
            float absmean = golden.flat("internals.layer0.attn.i_proj.w_absmean")[0];
            assertEquals(absmean, 1f / (1f / m.dequant()), absmean * 1e-6f);
            float[] deq = golden.flat("internals.layer0.attn.i_proj.w_deq");
            for (int i = 0; i < deq.length; i++) assertEquals(deq[i], m.code(i / cols, i % cols) * m.dequant(), 1e-6f);
        }
    }

    @Test
    void activationQuantizationMatchesTheReferenceCodes() throws Exception {
        try (Golden golden = Golden.open(); SafetensorsFile model = SafetensorsFile.open(Golden.dir().resolve("model.safetensors"))) {
            float[][] input = golden.rows("internals.len8.layer0.attn.i_proj.in");
            float[][] expectedCodes = golden.rows("internals.len8.layer0.attn.i_proj.act_codes");
            float[][] expectedQuant = golden.rows("internals.len8.layer0.attn.i_proj.act_quant");
            float[] norm = model.tensors().get("model.layers.0.attn.i_proj.norm.weight").toFloatArray();
            int n = norm.length, mismatches = 0;
            short[] codes = new short[n];
            float[] scratch = new float[n];
            for (int t = 0; t < input.length; t++) {
                float inv = Activations.quantizeNormed(input[t], norm, n, codes, scratch);
                for (int j = 0; j < n; j++) {
                    if (codes[j] != (short) expectedCodes[t][j]) mismatches++;
                    assertEquals(expectedQuant[t][j], codes[j] * inv, 2e-2f); // one code step at most
                }
            }
            // codes may differ only where the fp32 value sits within an ulp of a .5 boundary
            assertTrue(mismatches <= 1, mismatches + " activation codes differ");
        }
    }

    @Test
    void roundingRulesAreTheReferences() {
        assertEquals(3, Activations.roundHalfAway(2.5f));
        assertEquals(-3, Activations.roundHalfAway(-2.5f));
        assertEquals(1, Activations.roundHalfAway(0.5f));
        assertEquals(0, Activations.roundHalfAway(0.49999997f));
        assertEquals(127, Activations.roundHalfAway(126.5f));
        assertEquals(2.0, Math.rint(2.5)); // weights: half to even
        assertEquals(-2.0, Math.rint(-2.5));
    }
}
