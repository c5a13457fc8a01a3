package io.ternstream.engine.model;

/**
 * One HGRN-Bit block: MLGRU token mixer (i, f, g, o projections, g_norm output gate) and GLU channel
 * mixer (gate_proj producing gate|up, down_proj), each behind its own RMSNorm.
 *
 * @param attnNorm   [hidden]
 * @param lowerBound [mixerDim] γ_l of the forget gate, or null when the layer has none (layer 0 or
 *                   use_lower_bound = false)
 * @param gNorm      [mixerDim] weight of the RMSNorm applied to the g projection
 * @param mlpNorm    [hidden]
 */
public record HgrnBitLayer(float[] attnNorm, BitLinear iProj, BitLinear fProj, BitLinear gProj, BitLinear oProj,
                           float[] lowerBound, float[] gNorm, float[] mlpNorm, BitLinear gateProj, BitLinear downProj) {
}
