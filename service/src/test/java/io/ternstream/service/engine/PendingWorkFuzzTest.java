package io.ternstream.service.engine;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import com.code_intelligence.jazzer.junit.FuzzTest;

/**
 * Any value of the pending store (a changelog record the engine restores and redoes): a pending-work
 * record, or IllegalArgumentException; never another exception, a hang, or an allocation sized by a
 * claimed length. A record that decodes survives encoding and decoding again (header names are text, so
 * bytes that are not UTF-8 in a name come back as replacement characters, not as the same bytes).
 */
class PendingWorkFuzzTest {
    @FuzzTest
    void decode(byte[] bytes) {
        PendingWork work;
        try {
            work = PendingWork.decode(bytes);
        } catch (IllegalArgumentException e) {
            return;
        }
        PendingWork again = PendingWork.decode(work.encode());
        assertEquals(work.key(), again.key());
        assertArrayEquals(work.value(), again.value());
        assertEquals(work.nextSeq(), again.nextSeq());
        assertArrayEquals(work.headers().toArray(), again.headers().toArray());
    }
}
