package io.ternstream.engine.safetensors;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.ClosedByInterruptException;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * One safetensors file mapped read-only into memory (and open for positional reads). The header is validated completely on open
 * (JSON syntax, dtypes, shapes against byte ranges, ranges inside the file, no overlaps), so a
 * truncated or corrupt file fails here with its name, never later with garbage numbers.
 */
public final class SafetensorsFile implements AutoCloseable {

    /** Headers larger than this are refused: a corrupt length field must not trigger a huge read. */
    private static final long MAX_HEADER_BYTES = 100L << 20;
    private static final ObjectMapper JSON = new ObjectMapper();

    private final Path path;
    private final Arena arena;
    private volatile FileChannel channel;  // kept open for positional reads; reopened after an interrupt
    private volatile boolean closed;
    private final MemorySegment whole;  // the mapping: a tensor's file position is its address minus this one's
    private final Map<String, Tensor> tensors;
    private final Map<String, String> metadata;

    private SafetensorsFile(Path path, Arena arena, FileChannel channel, MemorySegment whole, Map<String, Tensor> tensors,
                            Map<String, String> metadata) {
        this.path = path;
        this.arena = arena;
        this.channel = channel;
        this.whole = whole;
        this.tensors = tensors;
        this.metadata = metadata;
    }

    public static SafetensorsFile open(Path path) throws IOException {
        Arena arena = Arena.ofShared();
        FileChannel channel = null;
        try {
            channel = FileChannel.open(path, StandardOpenOption.READ);
            long size = channel.size();
            if (size < 8) throw new SafetensorsException(path + ": truncated safetensors file (" + size + " bytes, no header length)");
            MemorySegment whole = channel.map(FileChannel.MapMode.READ_ONLY, 0, size, arena);
            Header parsed = read(path, whole);
            return new SafetensorsFile(path, arena, channel, whole, parsed.tensors, parsed.metadata);
        } catch (IOException | RuntimeException e) {
            arena.close();
            if (channel != null) channel.close();
            throw e;
        }
    }

    /** The tensor table of a file's bytes, each tensor a slice of {@code whole}. */
    record Header(Map<String, Tensor> tensors, Map<String, String> metadata) {}

    /**
     * Validates the length prefix, header and tensor table of the safetensors bytes {@code whole} (the
     * mapped file, or bytes in memory), naming {@code path} in every refusal.
     */
    static Header read(Path path, MemorySegment whole) {
        long size = whole.byteSize();
        if (size < 8) throw new SafetensorsException(path + ": truncated safetensors file (" + size + " bytes, no header length)");
        long headerLength = whole.get(ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN), 0);
        if (headerLength <= 0 || headerLength > MAX_HEADER_BYTES || 8 + headerLength > size) {
            throw new SafetensorsException(path + ": corrupt or truncated safetensors header (header length "
                    + headerLength + ", file size " + size + ")");
        }
        byte[] headerBytes = whole.asSlice(8, headerLength).toArray(ValueLayout.JAVA_BYTE);
        return parseHeader(path, new String(headerBytes, StandardCharsets.UTF_8), whole.asSlice(8 + headerLength));
    }

    private static Header parseHeader(Path path, String json, MemorySegment body) {
        JsonNode root;
        try {
            root = JSON.readTree(json);
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new SafetensorsException(path + ": safetensors header is not valid JSON: " + e.getOriginalMessage(), e);
        }
        if (root == null || !root.isObject()) throw new SafetensorsException(path + ": safetensors header is not a JSON object");
        Map<String, Tensor> tensors = new LinkedHashMap<>();
        Map<String, String> metadata = new LinkedHashMap<>();
        List<long[]> ranges = new ArrayList<>();
        for (var it = root.properties().iterator(); it.hasNext(); ) {
            var entry = it.next();
            String name = entry.getKey();
            JsonNode node = entry.getValue();
            if (name.equals("__metadata__")) {
                node.properties().forEach(m -> metadata.put(m.getKey(), m.getValue().asText()));
                continue;
            }
            String where = path + ": tensor '" + name + "'";
            if (!node.isObject() || !node.path("dtype").isTextual() || !node.path("shape").isArray()
                    || !node.path("data_offsets").isArray() || node.path("data_offsets").size() != 2) {
                throw new SafetensorsException(where + ": header entry needs dtype, shape and data_offsets [begin, end]");
            }
            DType dtype = DType.parse(node.get("dtype").asText(), where);
            long[] shape = new long[node.get("shape").size()];
            long count = 1;
            for (int i = 0; i < shape.length; i++) {
                JsonNode d = node.get("shape").get(i);
                if (!d.isIntegralNumber() || !d.canConvertToLong() || d.asLong() < 0) {
                    throw new SafetensorsException(where + ": invalid shape " + node.get("shape"));
                }
                shape[i] = d.asLong();
                count = multiply(count, shape[i], where, node);
            }
            long begin = offset(node.get("data_offsets").get(0));
            long end = offset(node.get("data_offsets").get(1));
            if (begin < 0 || end < begin) {
                throw new SafetensorsException(where + ": invalid data_offsets " + node.get("data_offsets"));
            }
            if (end > body.byteSize()) {
                throw new SafetensorsException(where + ": data ends at byte " + end + " but the file holds only "
                        + body.byteSize() + " data bytes (truncated file?)");
            }
            // exact: a claimed shape whose byte size wraps around must not match a small range
            if (end - begin != multiply(count, dtype.bytes(), where, node)) {
                throw new SafetensorsException(where + ": " + (end - begin) + " bytes do not match dtype " + dtype
                        + " and shape " + node.get("shape"));
            }
            ranges.add(new long[] {begin, end});
            tensors.put(name, new Tensor(name, dtype, shape, body.asSlice(begin, end - begin), path));
        }
        ranges.sort((a, b) -> Long.compare(a[0], b[0]));
        for (int i = 1; i < ranges.size(); i++) {
            if (ranges.get(i)[0] < ranges.get(i - 1)[1]) throw new SafetensorsException(path + ": tensor byte ranges overlap (corrupt header)");
        }
        return new Header(Collections.unmodifiableMap(tensors), Collections.unmodifiableMap(metadata));
    }

    private static long multiply(long a, long b, String where, JsonNode node) {
        try {
            return Math.multiplyExact(a, b);
        } catch (ArithmeticException e) {
            throw new SafetensorsException(where + ": shape " + node.get("shape") + " is too large for any file");
        }
    }

    /** A data offset: a non-negative integer, or -1 for anything else (a fraction, a string, a huge number). */
    private static long offset(JsonNode n) {
        return n.isIntegralNumber() && n.canConvertToLong() ? n.asLong() : -1;
    }

    public Path path() {
        return path;
    }

    public Map<String, Tensor> tensors() {
        return tensors;
    }

    public Map<String, String> metadata() {
        return metadata;
    }

    /**
     * Reads bytes [from, from + dst.remaining()) of tensor {@code t}'s data into {@code dst} with positional
     * reads, not through the mapping: no page of the mapping becomes resident, and no page fault or
     * release is paid (the embedding rows, read one per token).
     */
    public void read(Tensor t, long from, ByteBuffer dst) throws IOException {
        long offset = t.data().address() - whole.address();
        if (offset < 0 || offset + t.data().byteSize() > whole.byteSize()) {
            throw new IllegalArgumentException(t.describe() + " is not a tensor of " + path);
        }
        if (from < 0 || from + dst.remaining() > t.data().byteSize()) {
            throw new IndexOutOfBoundsException("bytes [" + from + ", " + (from + dst.remaining()) + ") of " + t.describe());
        }
        int start = dst.position();
        try {
            readFully(channel, dst, offset + from);
        } catch (ClosedByInterruptException e) {
            reopen(); // this thread was interrupted: its read fails, later ones must not
            throw e;
        } catch (ClosedChannelException e) {
            if (closed) throw e;
            reopen(); // another thread's interrupt closed the channel for every thread
            dst.position(start);
            readFully(channel, dst, offset + from);
        }
    }

    private void readFully(FileChannel in, ByteBuffer dst, long position) throws IOException {
        while (dst.hasRemaining()) {
            int n = in.read(dst, position);
            if (n < 0) throw new SafetensorsException(path + ": file ended at byte " + position + " (changed since it was opened?)");
            position += n;
        }
    }

    /**
     * A FileChannel is closed for every thread when a thread blocked in it is interrupted. Reopening keeps
     * the model usable. Callers do not need to interrupt engine threads, but a caller may.
     */
    private synchronized void reopen() throws IOException {
        if (!closed && !channel.isOpen()) channel = FileChannel.open(path, StandardOpenOption.READ);
    }

    @Override
    public synchronized void close() {
        closed = true;
        arena.close();
        try {
            channel.close();
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }
}
