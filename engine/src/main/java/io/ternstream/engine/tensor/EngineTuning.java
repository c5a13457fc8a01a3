package io.ternstream.engine.tensor;

/**
 * Every tuning knob of the kernels, read once from system properties (the launcher and the service
 * pass them as {@code -D} options), with its default and its check in one place. None changes a
 * result; each trades memory or speed on a given CPU (docs/ENGINE.md, docs/PERFORMANCE.md).
 *
 * @param kernel            {@code ternstream.kernel}: the ternary kernel by name, or null for the CPU's
 *                          default (lut where 512-bit vectors exist, interleaved otherwise)
 * @param columnLutCopy     {@code ternstream.columnLut.copy}: true, false or auto (the column LUT reads a
 *                          copy of the weights with its table offsets; auto: models up to 64 MB packed)
 * @param columnLutMinBatch {@code ternstream.columnLutMinBatch}: from how many columns the interleaved
 *                          kernel switches from 16-bit multiply-adds to the column LUT (default 7)
 */
public record EngineTuning(String kernel, String columnLutCopy, int columnLutMinBatch) {
    /** The values of this JVM's system properties, read when the class loads. */
    public static final EngineTuning CURRENT = new EngineTuning(System.getProperty("ternstream.kernel"),
            System.getProperty("ternstream.columnLut.copy", "auto"), Integer.getInteger("ternstream.columnLutMinBatch", 7));

    public EngineTuning {
        if (!columnLutCopy.equals("true") && !columnLutCopy.equals("false") && !columnLutCopy.equals("auto")) {
            throw new IllegalArgumentException("ternstream.columnLut.copy must be true, false or auto; got " + columnLutCopy);
        }
        if (columnLutMinBatch < 1) {
            throw new IllegalArgumentException("ternstream.columnLutMinBatch must be at least 1; got " + columnLutMinBatch);
        }
    }
}
