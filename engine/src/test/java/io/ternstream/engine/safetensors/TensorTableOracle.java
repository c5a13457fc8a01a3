package io.ternstream.engine.safetensors;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Path;

/**
 * What the fuzz tests demand of the safetensors reader ({@link SafetensorsFile#open} minus the
 * mapping): a table it accepts describes every tensor exactly (shape × dtype = bytes, first and last
 * element readable), and anything else is refused with a {@link SafetensorsException} naming the file.
 */
final class TensorTableOracle {
    private static final Path NAME = Path.of("fuzzed.safetensors");

    private TensorTableOracle() {}

    static void readsOrRefuses(byte[] file) {
        SafetensorsFile.Header header;
        try {
            header = SafetensorsFile.read(NAME, MemorySegment.ofArray(file));
        } catch (SafetensorsException e) {
            assertTrue(e.getMessage().startsWith(NAME.toString()), "the refusal names the file: " + e.getMessage());
            return;
        }
        for (Tensor t : header.tensors().values()) {
            long count = 1;
            for (long d : t.shape()) {
                assertTrue(d >= 0, t.describe());
                count = Math.multiplyExact(count, d);
            }
            assertEquals(Math.multiplyExact(count, t.dtype().bytes()), t.data().byteSize(), t.describe());
            if (count > 0) {
                readElement(t, 0);
                readElement(t, count - 1);
            }
        }
    }

    private static void readElement(Tensor t, long i) {
        switch (t.dtype()) {
            case F32, F16, BF16, F64 -> t.getFloat(i);
            case I64, I32, I8 -> t.getLong(i);
            default -> t.data().get(ValueLayout.JAVA_BYTE, i * t.dtype().bytes());
        }
    }
}
