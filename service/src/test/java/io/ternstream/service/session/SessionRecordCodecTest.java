package io.ternstream.service.session;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.ternstream.schemas.ControlAckEvent;
import io.ternstream.schemas.FinishReason;
import io.ternstream.schemas.MessageCodec;
import io.ternstream.schemas.TurnCompleteEvent;
import io.ternstream.schemas.Usage;
import java.nio.ByteBuffer;
import java.util.Arrays;
import java.util.List;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;

/** The session store's binary record: round trips, and every kind of broken value ends in the format exception. */
class SessionRecordCodecTest {
    private static final SessionRecordCodec CODEC = new SessionRecordCodec(new MessageCodec());
    private static final SessionRecord FULL = new SessionRecord("seance-1", "f41b388d", new byte[] {1, 2, 3, 4}, 7, 1_700_000_000_000L,
            false, 4_321, List.of(new SessionRecord.Answered("r1", new TurnCompleteEvent("seance-1", "r1", 5, "tail", FinishReason.LENGTH,
                    new Usage(3, 5, 1.5, 100))), new SessionRecord.Answered("x1", new ControlAckEvent("seance-1", "x1", 0,
                    "reset", true, "session state emptied"))));

    @Test
    void roundTripsEveryField() throws Exception {
        SessionRecord back = CODEC.decode(CODEC.encode(FULL));
        assertEquals(FULL.sessionId(), back.sessionId());
        assertEquals(FULL.fingerprint(), back.fingerprint());
        assertArrayEquals(FULL.state(), back.state());
        assertEquals(FULL.turnCount(), back.turnCount());
        assertEquals(FULL.lastActiveMillis(), back.lastActiveMillis());
        assertEquals(FULL.appliedOffset(), back.appliedOffset());
        assertEquals(FULL.answered(), back.answered());
        assertEquals(FULL.lastActiveMillis(), CODEC.lastActiveMillis(CODEC.encode(FULL)));
    }

    @Test
    void aRecordOfThePreviousVersionIsReadWithNoAppliedOffset() throws Exception {
        byte[] current = CODEC.encode(FULL);
        int offsetAt = 4 + 1 + 4 + "seance-1".length() + 4 + "f41b388d".length() + 8 + 8;
        // TSR1 is TSR2 without the applied offset
        byte[] v1 = new byte[current.length - 8];
        System.arraycopy(current, 0, v1, 0, offsetAt);
        System.arraycopy(current, offsetAt + 8, v1, offsetAt, current.length - offsetAt - 8);
        v1[3] = '1';
        SessionRecord back = CODEC.decode(v1);
        assertEquals(SessionRecord.NONE_APPLIED, back.appliedOffset());
        assertEquals(FULL.turnCount(), back.turnCount());
        assertArrayEquals(FULL.state(), back.state());
        assertEquals(FULL.answered(), back.answered());
        assertEquals(FULL.lastActiveMillis(), CODEC.lastActiveMillis(v1));
    }

    @Test
    void anEmptyStateAndTheDeletedFlagSurvive() throws Exception {
        var deleted = new SessionRecord("a", "f", null, 0, 5, true, -1, List.of());
        SessionRecord back = CODEC.decode(CODEC.encode(deleted));
        assertNull(back.state());
        assertTrue(back.deleted());
    }

    @Test
    void everyTruncationIsRejected() {
        byte[] bytes = CODEC.encode(FULL);
        for (int n = 0; n < bytes.length; n++) {
            byte[] cut = Arrays.copyOf(bytes, n);
            assertThrows(SessionRecordFormatException.class, () -> CODEC.decode(cut), "truncated to " + n);
        }
    }

    @Test
    void trailingBytesBadMagicAndUnknownFlagsAreRejected() {
        byte[] bytes = CODEC.encode(FULL);
        byte[] longer = Arrays.copyOf(bytes, bytes.length + 1);
        assertThrows(SessionRecordFormatException.class, () -> CODEC.decode(longer));
        byte[] magic = bytes.clone();
        magic[0] = 'X';
        assertThrows(SessionRecordFormatException.class, () -> CODEC.decode(magic));
        byte[] flags = bytes.clone();
        flags[4] = 2;
        assertThrows(SessionRecordFormatException.class, () -> CODEC.decode(flags));
        assertThrows(SessionRecordFormatException.class, () -> CODEC.decode(null));
    }

    @Test
    void aClaimedLengthBeyondTheBytesIsRejectedWithoutAllocatingIt() {
        byte[] bytes = CODEC.encode(FULL);
        ByteBuffer.wrap(bytes).putInt(5, Integer.MAX_VALUE); // the sessionId's length
        var e = assertThrows(SessionRecordFormatException.class, () -> CODEC.decode(bytes));
        assertTrue(e.getMessage().contains("sessionId length"), e.getMessage());
        assertThrows(SessionRecordFormatException.class, () -> CODEC.lastActiveMillis(bytes));
    }

    @Test
    void anAnsweredEventThatBreaksItsSchemaIsRejected() {
        var record = new SessionRecord("a", "f", null, 1, 5, false, 0, List.of(new SessionRecord.Answered("r1",
                new ControlAckEvent("a", "r1", 0, "reset", true, "ok"))));
        byte[] bytes = CODEC.encode(record);
        String text = new String(bytes, java.nio.charset.StandardCharsets.ISO_8859_1).replace("\"ack\"", "\"zzz\"");
        byte[] broken = text.getBytes(java.nio.charset.StandardCharsets.ISO_8859_1);
        assertThrows(SessionRecordFormatException.class, () -> CODEC.decode(broken));
    }

    @Test
    void aNegativeTurnCountAnOffsetBelowNoneOrTooManyAnswersAreRejected() {
        byte[] bytes = CODEC.encode(new SessionRecord("a", "f", null, 1, 5, false, 3, List.of()));
        int turnCountAt = 4 + 1 + 4 + 1 + 4 + 1;
        byte[] negative = bytes.clone();
        ByteBuffer.wrap(negative).putLong(turnCountAt, -1);
        assertThrows(SessionRecordFormatException.class, () -> CODEC.decode(negative));
        byte[] belowNone = bytes.clone();
        ByteBuffer.wrap(belowNone).putLong(turnCountAt + 16, -2);
        assertThrows(SessionRecordFormatException.class, () -> CODEC.decode(belowNone));
        byte[] many = bytes.clone();
        ByteBuffer.wrap(many).putInt(many.length - 4, SessionRecord.ANSWERED_KEPT + 1);
        assertThrows(SessionRecordFormatException.class, () -> CODEC.decode(many));
    }

    @Test
    void theAnsweredListKeepsTheLatestAndIsBounded() {
        List<SessionRecord.Answered> answered = List.of();
        for (int i : IntStream.range(0, SessionRecord.ANSWERED_KEPT + 5).toArray()) {
            answered = Outcomes.withAnswer(answered, new SessionRecord.Answered("r" + i, new ControlAckEvent("a", "r" + i, 0,
                    "reset", true, "ok")));
        }
        assertEquals(SessionRecord.ANSWERED_KEPT, answered.size());
        assertEquals("r" + (SessionRecord.ANSWERED_KEPT + 4), answered.getLast().requestId());
        answered = Outcomes.withAnswer(answered, new SessionRecord.Answered("r10", new ControlAckEvent("a", "r10", 0, "reset", true, "again")));
        assertEquals("r10", answered.getLast().requestId());
        assertEquals(1, answered.stream().filter(a -> a.requestId().equals("r10")).count());
    }
}
