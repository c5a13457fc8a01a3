package io.ternstream.service.engine;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import org.apache.kafka.common.header.internals.RecordHeaders;
import org.junit.jupiter.api.Test;

/** The pending store's record: round trips with headers, and broken values end in IllegalArgumentException. */
class PendingWorkTest {
    private static final PendingWork WORK = new PendingWork("session-1", "{\"type\":\"prompt\"}".getBytes(StandardCharsets.UTF_8),
            new RecordHeaders().add("traceparent", "00-abc-def-01".getBytes(StandardCharsets.UTF_8)).add("empty", null), 3);

    @Test
    void roundTripsKeyValueHeadersAndProgress() {
        PendingWork back = PendingWork.decode(WORK.encode());
        assertEquals("session-1", back.key());
        assertArrayEquals(WORK.value(), back.value());
        assertArrayEquals(WORK.headers().lastHeader("traceparent").value(), back.headers().lastHeader("traceparent").value());
        assertNull(back.headers().lastHeader("empty").value());
        assertEquals(3, back.nextSeq());
        assertEquals(7, back.withNextSeq(7).nextSeq());
        assertEquals(3, back.withNextSeq(1).nextSeq(), "progress never goes back");
    }

    @Test
    void everyTruncationAndAnyClaimedLengthBeyondTheBytesAreRejected() {
        byte[] bytes = WORK.encode();
        for (int n = 0; n < bytes.length; n++) {
            byte[] cut = Arrays.copyOf(bytes, n);
            assertThrows(IllegalArgumentException.class, () -> PendingWork.decode(cut), "truncated to " + n);
        }
        byte[] huge = bytes.clone();
        ByteBuffer.wrap(huge).putInt(8, Integer.MAX_VALUE); // the key's length
        assertThrows(IllegalArgumentException.class, () -> PendingWork.decode(huge));
        byte[] headers = bytes.clone();
        ByteBuffer.wrap(headers).putInt(8 + 4 + 9, Integer.MAX_VALUE); // the header count
        assertThrows(IllegalArgumentException.class, () -> PendingWork.decode(headers));
        byte[] magic = bytes.clone();
        magic[3] = '9';
        assertThrows(IllegalArgumentException.class, () -> PendingWork.decode(magic));
    }
}
