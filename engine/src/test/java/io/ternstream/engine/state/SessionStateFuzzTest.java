package io.ternstream.engine.state;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import com.code_intelligence.jazzer.junit.FuzzTest;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.zip.CRC32C;

/**
 * Any bytes offered as a session state (from the session-state topic or a fork). Each input is
 * decoded twice: as given, and with its checksum made to match, so mutations reach the checks that
 * come after the checksum too.
 */
class SessionStateFuzzTest {
    static final String MODEL = "00112233445566778899aabbccddeeff";
    static final int LAYERS = 3;
    static final int DIM = 5;

    @FuzzTest
    void fromBytes(byte[] bytes) {
        decodesOrRefuses(bytes);
        if (bytes.length >= 4) {
            decodesOrRefuses(withMatchingChecksum(bytes));
        }
    }

    private static void decodesOrRefuses(byte[] bytes) {
        SessionState state;
        try {
            state = SessionState.fromBytes(bytes, MODEL, LAYERS, DIM);
        } catch (StateFormatException e) {
            return;
        }
        assertEquals(MODEL, state.modelFingerprint());
        assertEquals(LAYERS, state.layerCount());
        assertEquals(DIM, state.dim());
        assertArrayEquals(bytes, state.toBytes(), "an accepted state changed on re-encoding");
    }

    private static byte[] withMatchingChecksum(byte[] bytes) {
        byte[] fixed = bytes.clone();
        CRC32C crc = new CRC32C();
        crc.update(fixed, 0, fixed.length - 4);
        ByteBuffer.wrap(fixed, fixed.length - 4, 4).order(ByteOrder.LITTLE_ENDIAN).putInt((int) crc.getValue());
        return fixed;
    }
}
