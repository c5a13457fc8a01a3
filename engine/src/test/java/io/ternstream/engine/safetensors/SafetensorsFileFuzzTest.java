package io.ternstream.engine.safetensors;

import com.code_intelligence.jazzer.junit.DictionaryFile;
import com.code_intelligence.jazzer.junit.FuzzTest;

/** Any bytes given as a safetensors file: length prefix, header and data together. */
class SafetensorsFileFuzzTest {

    @FuzzTest
    @DictionaryFile(resourcePath = "safetensors.dict")
    void read(byte[] file) {
        TensorTableOracle.readsOrRefuses(file);
    }
}
