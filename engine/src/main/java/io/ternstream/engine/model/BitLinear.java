package io.ternstream.engine.model;

import io.ternstream.engine.tensor.TernaryMatrix;

/**
 * One FusedBitLinear of the reference: its own RMSNorm weight (applied to the input, eps 1e-6), then
 * absmax int8 activations against ternary weights. No bias.
 *
 * @param norm   [in] the RMSNorm weight
 * @param weight [out, in] packed ternary codes and the per-tensor scale
 */
public record BitLinear(float[] norm, TernaryMatrix weight) {
    public BitLinear {
        if (norm.length != weight.cols()) {
            throw new ModelFormatException("BitLinear norm has " + norm.length + " weights for " + weight.cols() + " inputs");
        }
    }

    public int in() {
        return weight.cols();
    }

    public int out() {
        return weight.rows();
    }
}
