package io.ternstream.engine.model;

import io.ternstream.engine.safetensors.SafetensorsFile;
import io.ternstream.engine.safetensors.Tensor;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * The token embedding table [vocab, hidden], left in the checkpoint's dtype; a lookup converts one row
 * to float.
 *
 * <p>A table in a checkpoint file is read a row at a time with a positional read ({@code file}), not
 * through its mapping. Through the mapping, a page fault maps the cached pages around the row too
 * (Linux's fault-around, 64 KB), so a few thousand distinct tokens left most of a 65 MB table resident
 * unless each lookup released its window again; the fault and the release cost about 9 µs per token,
 * the read about 2 µs (docs/PERFORMANCE.md). The file's pages stay in the page cache, outside the
 * process. Tables generated in memory ({@code file} null) are read from their segment.
 */
public record Embeddings(Tensor table, SafetensorsFile file) {

    /** An in-memory table (generated models, tests). */
    public Embeddings(Tensor table) {
        this(table, null);
    }

    public int vocab() {
        return table.dim(0);
    }

    public int dim() {
        return table.dim(1);
    }

    public void lookup(int token, float[] dst) {
        lookup(token, dst, file == null ? null : rowBuffer());
    }

    /** A buffer {@link #lookup(int, float[], ByteBuffer)} can read any row into, for a caller to keep. */
    public ByteBuffer rowBuffer() {
        return ByteBuffer.allocate(dim() * table.dtype().bytes()).order(ByteOrder.LITTLE_ENDIAN);
    }

    /**
     * {@link #lookup(int, float[])} reading through the caller's buffer from {@link #rowBuffer()} (one per
     * thread), so that a token costs no allocation.
     */
    public void lookup(int token, float[] dst, ByteBuffer row) {
        if (file == null) {
            table.readFloats((long) token * dim(), dst, 0, dim());
            return;
        }
        int rowBytes = dim() * table.dtype().bytes();
        row.clear().limit(rowBytes);
        try {
            file.read(table, (long) token * rowBytes, row);
        } catch (IOException e) {
            throw new UncheckedIOException(table.describe() + ": reading the row of token " + token + " failed", e);
        }
        Tensor.readFloats(table.dtype(), MemorySegment.ofArray(row.array()), 0, dst, 0, dim());
    }

    public long bytes() {
        return table.data().byteSize();
    }
}
