package io.ternstream.engine.model;

import java.util.List;

/**
 * The immutable weights of an HGRN-Bit model, shared by every session and thread. Created by
 * {@link ModelLoader} (checkpoints) or {@link RandomModels} (benchmarks).
 *
 * @param fingerprint hex digest of config and weights; session states carry it so that a state is never
 *                    applied to another model
 */
public record HgrnBitModel(HgrnBitConfig config, String name, String fingerprint, Embeddings embeddings,
                           List<HgrnBitLayer> layers, float[] finalNorm, BitLinear lmHead, AutoCloseable resources)
        implements AutoCloseable {

    /** Bytes of packed ternary weights read by one decode step (every BitLinear once). */
    public long packedWeightBytes() {
        long total = lmHead.weight().packedBytes();
        for (HgrnBitLayer l : layers) {
            total += l.iProj().weight().packedBytes() + l.fProj().weight().packedBytes() + l.gProj().weight().packedBytes()
                    + l.oProj().weight().packedBytes() + l.gateProj().weight().packedBytes() + l.downProj().weight().packedBytes();
        }
        return total;
    }

    @Override
    public void close() throws Exception {
        if (resources != null) resources.close();
    }
}
