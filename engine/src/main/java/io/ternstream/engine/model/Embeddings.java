package io.ternstream.engine.model;

import io.ternstream.engine.safetensors.Tensor;

/**
 * The token embedding table [vocab, hidden], left in the checkpoint's dtype and memory (mapped file or
 * an off-heap segment for generated models); a lookup converts one row to float.
 */
public record Embeddings(Tensor table) {

    public int vocab() {
        return table.dim(0);
    }

    public int dim() {
        return table.dim(1);
    }

    public void lookup(int token, float[] dst) {
        table.readFloats((long) token * dim(), dst, 0, dim());
    }

    public long bytes() {
        return table.data().byteSize();
    }
}
