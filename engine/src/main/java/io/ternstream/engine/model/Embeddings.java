package io.ternstream.engine.model;

import io.ternstream.engine.safetensors.Tensor;
import java.lang.foreign.MemorySegment;

/**
 * The token embedding table [vocab, hidden], left in the checkpoint's dtype and memory (mapped file or
 * an off-heap segment for generated models); a lookup converts one row to float.
 *
 * <p>A mapped table is released again after each lookup: a page fault on a file mapping maps the
 * cached pages around it too (Linux's fault-around, 64 KB), so a few thousand distinct tokens left
 * most of a 65 MB table resident (docs/PERFORMANCE.md). The file's pages stay in the page cache, so
 * the next lookup of a nearby row is a minor fault, not a read.
 */
public record Embeddings(Tensor table) {

    /** The window one fault maps around a row (the kernel's default fault-around size). */
    private static final long FAULT_AROUND_BYTES = 64 * 1024;

    public int vocab() {
        return table.dim(0);
    }

    public int dim() {
        return table.dim(1);
    }

    public void lookup(int token, float[] dst) {
        table.readFloats((long) token * dim(), dst, 0, dim());
        MemorySegment data = table.data();
        if (data.isMapped()) {
            long rowBytes = (long) dim() * table.dtype().bytes();
            long base = data.address(); // the window is aligned in the address space, not in the file
            long from = Math.max(0, Math.floorDiv(base + token * rowBytes, FAULT_AROUND_BYTES) * FAULT_AROUND_BYTES - base);
            long to = Math.min(data.byteSize(), Math.ceilDiv(base + (token + 1) * rowBytes, FAULT_AROUND_BYTES) * FAULT_AROUND_BYTES - base);
            data.asSlice(from, to - from).unload();
        }
    }

    public long bytes() {
        return table.data().byteSize();
    }
}
