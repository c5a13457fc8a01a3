package io.ternstream.service.session;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import com.code_intelligence.jazzer.junit.FuzzTest;
import io.ternstream.schemas.MessageCodec;

/**
 * Any value of the session store (a changelog record the engine restores): a record, or
 * {@link SessionRecordFormatException}; never another exception, a hang, or an allocation sized by a
 * claimed length. A record that decodes encodes back to the same bytes, and its timestamp reads the same
 * by the sweep's short path.
 */
class SessionRecordFuzzTest {
    private static final SessionRecordCodec CODEC = new SessionRecordCodec(new MessageCodec());

    @FuzzTest
    void decode(byte[] bytes) throws SessionRecordFormatException {
        SessionRecord record;
        try {
            record = CODEC.decode(bytes);
        } catch (SessionRecordFormatException e) {
            return;
        }
        assertEquals(record.lastActiveMillis(), CODEC.lastActiveMillis(bytes));
        SessionRecord again = CODEC.decode(CODEC.encode(record));
        assertEquals(record.answered(), again.answered());
        assertArrayEquals(record.state(), again.state());
    }
}
