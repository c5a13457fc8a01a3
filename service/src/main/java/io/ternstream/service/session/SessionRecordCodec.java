package io.ternstream.service.session;

import io.ternstream.schemas.ContractViolation;
import io.ternstream.schemas.MessageCodec;
import io.ternstream.schemas.ReplyEvent;
import java.nio.BufferUnderflowException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * The session store's value format (documented in schemas/session-store.md), big-endian:
 * <pre>
 * "TSR2"  magic and version
 * u8      flags (bit 0: deleted)
 * str     sessionId, str fingerprint      (str = i32 length + UTF-8 bytes)
 * i64     turnCount, i64 lastActiveMillis
 * i64     appliedOffset (-1: none)        (absent in "TSR1", read as -1)
 * i32     state length (-1: empty state) + the engine's state bytes
 * i32     answered count, then per request: str requestId, str last event (reply-event JSON)
 * </pre>
 * Decoding checks every length against the bytes actually there before allocating, so a corrupt
 * or foreign value ends in {@link SessionRecordFormatException}, never in a huge allocation.
 * Records of the previous version, TSR1, are still read.
 */
public final class SessionRecordCodec {
    private static final byte[] MAGIC = {'T', 'S', 'R', '2'};
    private static final byte[] MAGIC_V1 = {'T', 'S', 'R', '1'};
    private static final int FLAG_DELETED = 1;

    private final MessageCodec messages;

    public SessionRecordCodec(MessageCodec messages) {
        this.messages = messages;
    }

    public byte[] encode(SessionRecord r) {
        List<byte[]> events = new ArrayList<>(r.answered().size());
        int size = 4 + 1 + 8 + 8 + 8 + 4 + (r.state() == null ? 0 : r.state().length) + 4;
        byte[] id = utf8(r.sessionId());
        byte[] fingerprint = utf8(r.fingerprint());
        size += 4 + id.length + 4 + fingerprint.length;
        List<byte[]> requestIds = new ArrayList<>(r.answered().size());
        for (SessionRecord.Answered a : r.answered()) {
            byte[] rid = utf8(a.requestId());
            byte[] event = messages.encode(a.lastEvent());
            requestIds.add(rid);
            events.add(event);
            size += 8 + rid.length + event.length;
        }
        ByteBuffer out = ByteBuffer.allocate(size);
        out.put(MAGIC).put((byte) (r.deleted() ? FLAG_DELETED : 0));
        putBytes(out, id);
        putBytes(out, fingerprint);
        out.putLong(r.turnCount()).putLong(r.lastActiveMillis()).putLong(r.appliedOffset());
        if (r.state() == null) {
            out.putInt(-1);
        } else {
            putBytes(out, r.state());
        }
        out.putInt(events.size());
        for (int i = 0; i < events.size(); i++) {
            putBytes(out, requestIds.get(i));
            putBytes(out, events.get(i));
        }
        return out.array();
    }

    public SessionRecord decode(byte[] bytes) throws SessionRecordFormatException {
        if (bytes == null || bytes.length < MAGIC.length + 1) {
            throw new SessionRecordFormatException("session record truncated: " + (bytes == null ? 0 : bytes.length) + " bytes");
        }
        ByteBuffer in = ByteBuffer.wrap(bytes);
        try {
            boolean v1 = version(in);
            int flags = in.get();
            if ((flags & ~FLAG_DELETED) != 0) {
                throw new SessionRecordFormatException("unknown flags " + flags);
            }
            String sessionId = string(in, "sessionId");
            String fingerprint = string(in, "fingerprint");
            long turnCount = in.getLong();
            long lastActive = in.getLong();
            if (turnCount < 0) {
                throw new SessionRecordFormatException("negative turn count " + turnCount);
            }
            long appliedOffset = v1 ? SessionRecord.NONE_APPLIED : in.getLong();
            if (appliedOffset < SessionRecord.NONE_APPLIED) {
                throw new SessionRecordFormatException("applied offset " + appliedOffset + " below -1");
            }
            int stateLength = in.getInt();
            byte[] state = stateLength == -1 ? null : bytes(in, stateLength, "state");
            int count = in.getInt();
            if (count < 0 || count > SessionRecord.ANSWERED_KEPT) {
                throw new SessionRecordFormatException("answered count " + count + " outside 0.." + SessionRecord.ANSWERED_KEPT);
            }
            List<SessionRecord.Answered> answered = new ArrayList<>(count);
            for (int i = 0; i < count; i++) {
                String requestId = string(in, "requestId");
                answered.add(new SessionRecord.Answered(requestId, event(bytes(in, in.getInt(), "event"))));
            }
            if (in.hasRemaining()) {
                throw new SessionRecordFormatException(in.remaining() + " trailing bytes");
            }
            return new SessionRecord(sessionId, fingerprint, state, turnCount, lastActive, (flags & FLAG_DELETED) != 0,
                    appliedOffset, answered);
        } catch (BufferUnderflowException e) {
            throw new SessionRecordFormatException("session record truncated");
        }
    }

    /** When the session was last active, read without decoding the rest (the TTL sweep reads every record). */
    public long lastActiveMillis(byte[] bytes) throws SessionRecordFormatException {
        try {
            ByteBuffer in = ByteBuffer.wrap(bytes);
            version(in);
            in.get();
            skip(in, "sessionId");
            skip(in, "fingerprint");
            in.getLong();
            return in.getLong();
        } catch (BufferUnderflowException e) {
            throw new SessionRecordFormatException("session record truncated");
        }
    }

    /** Reads the magic: true for the previous version (no applied offset). */
    private static boolean version(ByteBuffer in) throws SessionRecordFormatException {
        byte[] magic = new byte[MAGIC.length];
        in.get(magic);
        if (Arrays.equals(magic, MAGIC)) {
            return false;
        }
        if (Arrays.equals(magic, MAGIC_V1)) {
            return true;
        }
        throw new SessionRecordFormatException("not a session record of this format (bad magic)");
    }

    private static void skip(ByteBuffer in, String what) throws SessionRecordFormatException {
        int length = in.getInt();
        if (length < 0 || length > in.remaining()) {
            throw new SessionRecordFormatException(what + " length " + length + " but " + in.remaining() + " bytes left");
        }
        in.position(in.position() + length);
    }

    private ReplyEvent event(byte[] json) throws SessionRecordFormatException {
        try {
            return messages.decodeReply(json);
        } catch (ContractViolation e) {
            throw new SessionRecordFormatException("answered event unreadable: " + e.getMessage());
        }
    }

    private static byte[] utf8(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    private static void putBytes(ByteBuffer out, byte[] b) {
        out.putInt(b.length).put(b);
    }

    private static String string(ByteBuffer in, String what) throws SessionRecordFormatException {
        return new String(bytes(in, in.getInt(), what), StandardCharsets.UTF_8);
    }

    private static byte[] bytes(ByteBuffer in, int length, String what) throws SessionRecordFormatException {
        if (length < 0 || length > in.remaining()) {
            throw new SessionRecordFormatException(what + " length " + length + " but " + in.remaining() + " bytes left");
        }
        byte[] b = new byte[length];
        in.get(b);
        return b;
    }
}
