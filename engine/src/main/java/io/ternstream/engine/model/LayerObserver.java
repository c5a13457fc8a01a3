package io.ternstream.engine.model;

/**
 * Receives intermediate activations of a forward pass (tests, debugging). Index 0 is the embedding
 * output, index l+1 the output of block l, and index layers+1 the final RMSNorm output — the layout of
 * the reference's {@code output_hidden_states} plus the last block's raw output.
 */
@FunctionalInterface
public interface LayerObserver {
    void hidden(int index, int column, float[] values, int length);
}
