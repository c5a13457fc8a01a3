package io.ternstream.service.engine;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import com.code_intelligence.jazzer.junit.FuzzTest;

/**
 * Any value of the pending store (a changelog record the engine restores and redoes): a pending-work
 * record, or IllegalArgumentException; never another exception, a hang, or an allocation sized by a
 * claimed length. A record that decodes encodes back to the same bytes.
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
        assertArrayEquals(bytes, work.encode());
        assertEquals(work.nextSeq(), PendingWork.decode(work.encode()).nextSeq());
    }
}
