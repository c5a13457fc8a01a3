package io.ternstream.engine.state;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.HexFormat;
import java.util.zip.CRC32C;

/**
 * Everything a session remembers: one recurrent vector per layer (the MLGRU hidden state h, [mixerDim])
 * and the number of tokens consumed. Its size does not depend on the context length.
 *
 * <p>Binary form (little-endian): magic "TSST", u16 version, u16 flags (0), 16-byte model fingerprint,
 * i64 token count, u32 layers, u32 dim, layers·dim f32, then a CRC32C of all preceding bytes.
 */
public final class SessionState {

    public static final int VERSION = 1;
    private static final byte[] MAGIC = "TSST".getBytes(StandardCharsets.US_ASCII);
    private static final int FINGERPRINT_BYTES = 16;
    private static final int HEADER_BYTES = 4 + 2 + 2 + FINGERPRINT_BYTES + 8 + 4 + 4;

    private final String fingerprint;
    private final float[][] layers;   // [layers][dim]
    private long tokenCount;

    public SessionState(String modelFingerprint, int layerCount, int dim) {
        this(modelFingerprint, new float[layerCount][dim], 0);
    }

    private SessionState(String fingerprint, float[][] layers, long tokenCount) {
        this.fingerprint = fingerprint;
        this.layers = layers;
        this.tokenCount = tokenCount;
    }

    /** The recurrent vector of one layer; the engine updates it in place. */
    public float[] layer(int index) {
        return layers[index];
    }

    public int layerCount() {
        return layers.length;
    }

    public int dim() {
        return layers.length == 0 ? 0 : layers[0].length;
    }

    public long tokenCount() {
        return tokenCount;
    }

    public void advance(int tokens) {
        tokenCount += tokens;
    }

    public String modelFingerprint() {
        return fingerprint;
    }

    /** Forks the session: an independent copy (a few KB, unlike a transformer's KV cache). */
    public SessionState copy() {
        float[][] copy = new float[layers.length][];
        for (int i = 0; i < layers.length; i++) copy[i] = layers[i].clone();
        return new SessionState(fingerprint, copy, tokenCount);
    }

    /** Back to the empty context. */
    public void reset() {
        for (float[] l : layers) java.util.Arrays.fill(l, 0f);
        tokenCount = 0;
    }

    public int serializedSize() {
        return HEADER_BYTES + layers.length * dim() * 4 + 4;
    }

    public byte[] toBytes() {
        ByteBuffer buf = ByteBuffer.allocate(serializedSize()).order(ByteOrder.LITTLE_ENDIAN);
        buf.put(MAGIC).putShort((short) VERSION).putShort((short) 0);
        buf.put(fingerprintBytes(fingerprint));
        buf.putLong(tokenCount).putInt(layers.length).putInt(dim());
        for (float[] l : layers) for (float v : l) buf.putFloat(v);
        CRC32C crc = new CRC32C();
        crc.update(buf.array(), 0, buf.position());
        buf.putInt((int) crc.getValue());
        return buf.array();
    }

    /**
     * Decodes bytes written by {@link #toBytes()} for the model with {@code expectedFingerprint} and shape;
     * anything else fails with a {@link StateFormatException} saying what is wrong.
     */
    public static SessionState fromBytes(byte[] bytes, String expectedFingerprint, int expectedLayers, int expectedDim) {
        if (bytes == null || bytes.length < HEADER_BYTES + 4) {
            throw new StateFormatException("session state truncated: " + (bytes == null ? 0 : bytes.length) + " bytes");
        }
        ByteBuffer buf = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN);
        byte[] magic = new byte[4];
        buf.get(magic);
        if (!java.util.Arrays.equals(magic, MAGIC)) throw new StateFormatException("not a Ternstream session state (bad magic)");
        int version = buf.getShort() & 0xffff;
        if (version != VERSION) throw new StateFormatException("session state version " + version + " is not supported (this engine reads version " + VERSION + ")");
        int flags = buf.getShort() & 0xffff;
        // version 1 defines no flag: one that is set means a writer this engine does not know
        if (flags != 0) throw new StateFormatException("session state has unknown flags 0x" + Integer.toHexString(flags));
        byte[] fp = new byte[FINGERPRINT_BYTES];
        buf.get(fp);
        long tokens = buf.getLong();
        int layerCount = buf.getInt();
        int dim = buf.getInt();
        long expectedSize = HEADER_BYTES + (long) layerCount * dim * 4 + 4;
        if (layerCount < 0 || dim < 0 || expectedSize != bytes.length) {
            throw new StateFormatException("session state is " + bytes.length + " bytes but its header describes " + layerCount
                    + "×" + dim + " values (truncated or corrupt)");
        }
        CRC32C crc = new CRC32C();
        crc.update(bytes, 0, bytes.length - 4);
        int stored = ByteBuffer.wrap(bytes, bytes.length - 4, 4).order(ByteOrder.LITTLE_ENDIAN).getInt();
        if (stored != (int) crc.getValue()) throw new StateFormatException("session state checksum mismatch (corrupt bytes)");
        String fingerprint = HexFormat.of().formatHex(fp);
        if (!fingerprint.equals(expectedFingerprint)) {
            throw new StateFormatException("session state belongs to model " + fingerprint + ", not to the loaded model " + expectedFingerprint);
        }
        if (layerCount != expectedLayers || dim != expectedDim) {
            throw new StateFormatException("session state has " + layerCount + "×" + dim + " values, the model needs " + expectedLayers + "×" + expectedDim);
        }
        if (tokens < 0) throw new StateFormatException("session state has a negative token count");
        float[][] layers = new float[layerCount][dim];
        for (float[] l : layers) for (int i = 0; i < dim; i++) l[i] = buf.getFloat();
        return new SessionState(fingerprint, layers, tokens);
    }

    private static byte[] fingerprintBytes(String hex) {
        byte[] out = new byte[FINGERPRINT_BYTES];
        byte[] raw = HexFormat.of().parseHex(hex);
        System.arraycopy(raw, 0, out, 0, Math.min(raw.length, FINGERPRINT_BYTES));
        return out;
    }
}
