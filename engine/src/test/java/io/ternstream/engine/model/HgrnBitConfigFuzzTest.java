package io.ternstream.engine.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.code_intelligence.jazzer.junit.DictionaryFile;
import com.code_intelligence.jazzer.junit.FuzzTest;
import java.nio.charset.StandardCharsets;

/**
 * Any config.json: it reads into a config whose sizes a model can be built with, or is refused with a
 * ModelFormatException ("an instance is always usable").
 */
class HgrnBitConfigFuzzTest {

    @FuzzTest
    @DictionaryFile(resourcePath = "config.dict")
    void parse(byte[] json) {
        HgrnBitConfig c;
        try {
            c = HgrnBitConfig.parse(new String(json, StandardCharsets.UTF_8), "config.json");
        } catch (ModelFormatException e) {
            return;
        }
        assertTrue(c.vocabSize() > 0 && c.hiddenSize() > 0 && c.numHiddenLayers() > 0, c.toString());
        assertTrue(c.mixerDim() > 0 && c.mixerDim() % c.numHeads() == 0, "mixer width " + c.mixerDim());
        assertEquals((long) c.hiddenSize() * c.expandRatio(), c.mixerDim(), "mixer width overflowed");
        assertTrue(c.intermediateSize() > 0 && 2L * c.intermediateSize() <= Integer.MAX_VALUE,
                "GLU width " + c.intermediateSize());
        assertTrue(Float.isFinite(c.rmsNormEps()) && c.rmsNormEps() > 0, "rms_norm_eps " + c.rmsNormEps());
        assertEquals(c, HgrnBitConfig.parse(c.toJson(), "config.json"), "the config changed on re-reading");
    }
}
