package io.ternstream.engine.safetensors;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

/** Writes tensors to a safetensors file (the {@code logits} command, test checkpoints). */
public final class SafetensorsWriter {

    private record Entry(DType dtype, long[] shape, byte[] bytes) {}

    private final Map<String, Entry> entries = new LinkedHashMap<>();

    public SafetensorsWriter addF32(String name, long[] shape, float[] data) {
        long count = 1;
        for (long d : shape) count *= d;
        if (count != data.length) throw new IllegalArgumentException(name + ": shape does not match " + data.length + " values");
        ByteBuffer buf = ByteBuffer.allocate(data.length * 4).order(ByteOrder.LITTLE_ENDIAN);
        buf.asFloatBuffer().put(data);
        entries.put(name, new Entry(DType.F32, shape.clone(), buf.array()));
        return this;
    }

    /** Adds a tensor given as raw little-endian bytes of {@code dtype}. */
    public SafetensorsWriter addRaw(String name, DType dtype, long[] shape, byte[] bytes) {
        long count = 1;
        for (long d : shape) count *= d;
        if (count * dtype.bytes() != bytes.length) throw new IllegalArgumentException(name + ": shape does not match " + bytes.length + " bytes");
        entries.put(name, new Entry(dtype, shape.clone(), bytes));
        return this;
    }

    public void write(Path path) throws IOException {
        ObjectMapper json = new ObjectMapper();
        ObjectNode header = json.createObjectNode();
        header.putObject("__metadata__").put("format", "pt");
        long offset = 0;
        for (var e : entries.entrySet()) {
            ObjectNode t = header.putObject(e.getKey());
            t.put("dtype", e.getValue().dtype.name());
            var shape = t.putArray("shape");
            for (long d : e.getValue().shape) shape.add(d);
            long bytes = e.getValue().bytes.length;
            t.putArray("data_offsets").add(offset).add(offset + bytes);
            offset += bytes;
        }
        byte[] headerBytes = json.writeValueAsString(header).getBytes(StandardCharsets.UTF_8);
        int padded = (headerBytes.length + 7) & ~7; // 8-byte alignment of the data, padded with spaces
        try (OutputStream out = Files.newOutputStream(path)) {
            ByteBuffer len = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(padded);
            out.write(len.array());
            out.write(headerBytes);
            for (int i = headerBytes.length; i < padded; i++) out.write(' ');
            for (Entry e : entries.values()) out.write(e.bytes);
        }
    }
}
