package io.ternstream.schemas;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * What the fuzz tests demand of a decoder of outside bytes: it ends in a message or a
 * ContractViolation (never another exception), and a message it accepts is one it accepts again,
 * unchanged, after encoding, so nothing accepted is lost or altered on its way to the next topic.
 */
final class DecodeOracle {
    interface Decoder<T> {
        T decode(byte[] json) throws ContractViolation;
    }

    private DecodeOracle() {}

    static <T> void decodesOrViolates(MessageCodec codec, byte[] json, Decoder<T> decoder) {
        T decoded;
        try {
            decoded = decoder.decode(json);
        } catch (ContractViolation e) {
            assertNotNull(e.code());
            assertNotNull(e.getMessage());
            return;
        }
        assertNotNull(decoded);
        String encoded = codec.encodeToString(decoded);
        try {
            assertEquals(encoded, codec.encodeToString(decoder.decode(codec.encode(decoded))),
                    "an accepted message changed on re-encoding");
        } catch (ContractViolation e) {
            fail("an accepted message is rejected once re-encoded as " + encoded + ": " + e.getMessage());
        }
    }
}
