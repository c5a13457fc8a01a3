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

/** Writes float32 tensors to a safetensors file (used by the {@code logits} command and tests). */
public final class SafetensorsWriter {

    private record Entry(long[] shape, float[] data) {}

    private final Map<String, Entry> entries = new LinkedHashMap<>();

    public SafetensorsWriter addF32(String name, long[] shape, float[] data) {
        long count = 1;
        for (long d : shape) count *= d;
        if (count != data.length) throw new IllegalArgumentException(name + ": shape does not match " + data.length + " values");
        entries.put(name, new Entry(shape.clone(), data));
        return this;
    }

    public void write(Path path) throws IOException {
        ObjectMapper json = new ObjectMapper();
        ObjectNode header = json.createObjectNode();
        header.putObject("__metadata__").put("format", "pt");
        long offset = 0;
        for (var e : entries.entrySet()) {
            ObjectNode t = header.putObject(e.getKey());
            t.put("dtype", "F32");
            var shape = t.putArray("shape");
            for (long d : e.getValue().shape) shape.add(d);
            long bytes = e.getValue().data.length * 4L;
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
            for (Entry e : entries.values()) {
                ByteBuffer buf = ByteBuffer.allocate(e.data.length * 4).order(ByteOrder.LITTLE_ENDIAN);
                buf.asFloatBuffer().put(e.data);
                out.write(buf.array());
            }
        }
    }
}
