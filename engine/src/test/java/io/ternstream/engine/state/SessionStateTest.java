package io.ternstream.engine.state;

import org.junit.jupiter.api.Test;

import java.util.Arrays;
import java.util.Random;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

class SessionStateTest {

    static final String MODEL = "00112233445566778899aabbccddeeff";
    static final String OTHER = "ffeeddccbbaa99887766554433221100";

    private static SessionState sample() {
        SessionState s = new SessionState(MODEL, 3, 5);
        Random r = new Random(7);
        for (int l = 0; l < 3; l++) for (int i = 0; i < 5; i++) s.layer(l)[i] = (float) r.nextGaussian();
        s.advance(42);
        return s;
    }

    @Test
    void roundTripKeepsEveryValueAndTheTokenCount() {
        SessionState s = sample();
        byte[] bytes = s.toBytes();
        assertEquals(s.serializedSize(), bytes.length);
        SessionState back = SessionState.fromBytes(bytes, MODEL, 3, 5);
        assertEquals(42, back.tokenCount());
        for (int l = 0; l < 3; l++) assertArrayEquals(s.layer(l), back.layer(l));
        assertArrayEquals(bytes, back.toBytes());
    }

    @Test
    void copyIsIndependent() {
        SessionState s = sample();
        SessionState fork = s.copy();
        fork.layer(0)[0] = 99f;
        fork.advance(1);
        assertThat(s.layer(0)[0]).isNotEqualTo(99f);
        assertEquals(42, s.tokenCount());
        s.reset();
        assertEquals(0, s.tokenCount());
        assertThat(s.layer(1)).containsOnly(0f);
    }

    @Test
    void everySingleBitFlipIsDetected() {
        byte[] bytes = sample().toBytes();
        for (int i = 0; i < bytes.length; i++) {
            for (int bit = 0; bit < 8; bit++) {
                byte[] corrupt = bytes.clone();
                corrupt[i] ^= (byte) (1 << bit);
                assertThrows(StateFormatException.class, () -> SessionState.fromBytes(corrupt, MODEL, 3, 5), "byte " + i + " bit " + bit);
            }
        }
    }

    @Test
    void brokenInputFailsWithAReason() {
        byte[] bytes = sample().toBytes();
        assertThat(assertThrows(StateFormatException.class, () -> SessionState.fromBytes(new byte[3], MODEL, 3, 5)).getMessage())
                .contains("truncated");
        assertThat(assertThrows(StateFormatException.class, () -> SessionState.fromBytes(null, MODEL, 3, 5)).getMessage())
                .contains("truncated");
        assertThat(assertThrows(StateFormatException.class,
                () -> SessionState.fromBytes(Arrays.copyOf(bytes, bytes.length - 9), MODEL, 3, 5)).getMessage()).contains("truncated or corrupt");
        byte[] magic = bytes.clone();
        magic[0] = 'X';
        assertThat(assertThrows(StateFormatException.class, () -> SessionState.fromBytes(magic, MODEL, 3, 5)).getMessage())
                .contains("bad magic");
        byte[] version = bytes.clone();
        version[4] = 9;
        assertThat(assertThrows(StateFormatException.class, () -> SessionState.fromBytes(version, MODEL, 3, 5)).getMessage())
                .contains("version 9 is not supported");
        byte[] crc = bytes.clone();
        crc[bytes.length - 10] ^= 1;
        assertThat(assertThrows(StateFormatException.class, () -> SessionState.fromBytes(crc, MODEL, 3, 5)).getMessage())
                .contains("checksum");
    }

    @Test
    void aStateOfAnotherModelOrShapeIsRefused() {
        byte[] bytes = sample().toBytes();
        assertThat(assertThrows(StateFormatException.class, () -> SessionState.fromBytes(bytes, OTHER, 3, 5)).getMessage())
                .contains("belongs to model " + MODEL);
        assertThat(assertThrows(StateFormatException.class, () -> SessionState.fromBytes(bytes, MODEL, 4, 5)).getMessage())
                .contains("the model needs 4×5");
    }
}
