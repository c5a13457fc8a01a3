package io.ternstream.service.engine;

import java.nio.BufferUnderflowException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.header.Headers;
import org.apache.kafka.common.header.internals.RecordHeader;
import org.apache.kafka.common.header.internals.RecordHeaders;

/**
 * A prompts-topic record accepted by a partition and not yet finished, as the pending store holds it
 * (keyed by offset): the original key, value and headers, and how many of its reply events were
 * delivered. After a crash the partition's next owner redoes every pending record in offset order,
 * skipping the events already delivered. Format (big-endian): "TSP1", i32 nextSeq, str key,
 * i32 header count, per header str name + bytes value (length -1: null), bytes value
 * (str and bytes = i32 length + bytes).
 */
record PendingWork(String key, byte[] value, Headers headers, int nextSeq) {
    private static final byte[] MAGIC = {'T', 'S', 'P', '1'};

    PendingWork withNextSeq(int seq) {
        return new PendingWork(key, value, headers, Math.max(seq, nextSeq));
    }

    byte[] encode() {
        byte[] k = key.getBytes(StandardCharsets.UTF_8);
        List<byte[]> names = new ArrayList<>();
        int size = 4 + 4 + 4 + k.length + 4 + 4 + (value == null ? 0 : value.length);
        for (Header h : headers) {
            byte[] name = h.key().getBytes(StandardCharsets.UTF_8);
            names.add(name);
            size += 8 + name.length + (h.value() == null ? 0 : h.value().length);
        }
        ByteBuffer out = ByteBuffer.allocate(size).put(MAGIC).putInt(nextSeq);
        out.putInt(k.length).put(k).putInt(names.size());
        int i = 0;
        for (Header h : headers) {
            out.putInt(names.get(i).length).put(names.get(i++));
            putNullable(out, h.value());
        }
        putNullable(out, value);
        return out.array();
    }

    static PendingWork decode(byte[] bytes) {
        if (bytes == null) {
            throw new IllegalArgumentException("no pending-work record");
        }
        try {
            ByteBuffer in = ByteBuffer.wrap(bytes);
            for (byte b : MAGIC) {
                if (in.get() != b) {
                    throw new IllegalArgumentException("not a pending-work record (bad magic)");
                }
            }
            int nextSeq = in.getInt();
            byte[] k = read(in);
            if (k == null) {
                throw new IllegalArgumentException("pending-work record without a key");
            }
            String key = new String(k, StandardCharsets.UTF_8);
            int count = in.getInt();
            if (count < 0 || count > in.remaining() / 8) {
                throw new IllegalArgumentException("header count " + count + " does not fit the record");
            }
            Headers headers = new RecordHeaders();
            for (int i = 0; i < count; i++) {
                byte[] name = read(in);
                if (name == null) {
                    throw new IllegalArgumentException("header " + i + " without a name");
                }
                headers.add(new RecordHeader(new String(name, StandardCharsets.UTF_8), read(in)));
            }
            byte[] value = read(in);
            if (in.hasRemaining()) {
                throw new IllegalArgumentException(in.remaining() + " trailing bytes");
            }
            return new PendingWork(key, value, headers, nextSeq);
        } catch (BufferUnderflowException e) {
            throw new IllegalArgumentException("pending-work record truncated");
        }
    }

    private static void putNullable(ByteBuffer out, byte[] b) {
        if (b == null) {
            out.putInt(-1);
        } else {
            out.putInt(b.length).put(b);
        }
    }

    private static byte[] read(ByteBuffer in) {
        int length = in.getInt();
        if (length == -1) {
            return null;
        }
        if (length < 0 || length > in.remaining()) {
            throw new IllegalArgumentException("length " + length + " but " + in.remaining() + " bytes left");
        }
        byte[] b = new byte[length];
        in.get(b);
        return b;
    }
}
