package io.ternstream.engine.safetensors;

import com.code_intelligence.jazzer.junit.DictionaryFile;
import com.code_intelligence.jazzer.junit.FuzzTest;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * Any header JSON with a correct length prefix and {@value #DATA_BYTES} data bytes after it, so the
 * fuzzer spends its time on the tensor table (dtypes, shapes, offsets, overlaps), not on the prefix.
 */
class SafetensorsHeaderFuzzTest {
    static final int DATA_BYTES = 1024;

    @FuzzTest
    @DictionaryFile(resourcePath = "safetensors.dict")
    void header(byte[] json) {
        ByteBuffer file = ByteBuffer.allocate(8 + json.length + DATA_BYTES).order(ByteOrder.LITTLE_ENDIAN);
        file.putLong(json.length).put(json);
        TensorTableOracle.readsOrRefuses(file.array());
    }
}
