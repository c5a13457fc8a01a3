package io.ternstream.engine.safetensors;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.util.Arrays;

/**
 * A named, typed view of one tensor inside a memory-mapped safetensors file. Nothing is copied:
 * element reads go straight to the mapped pages.
 */
public record Tensor(String name, DType dtype, long[] shape, MemorySegment data, Path file) {

    private static final ValueLayout.OfFloat F32_LE = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfShort I16_LE = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfLong I64_LE = ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    public long elementCount() {
        long n = 1;
        for (long d : shape) n *= d;
        return n;
    }

    /** Element {@code i} (flat, row-major) as a float, whatever the float dtype. */
    public float getFloat(long i) {
        if (!dtype.isFloat()) throw new SafetensorsException(describe() + ": expected a float tensor");
        return floatAt(dtype, data, i);
    }

    /** Element {@code i} of little-endian {@code dtype} values in {@code src}; {@code dtype} is a float type. */
    private static float floatAt(DType dtype, MemorySegment src, long i) {
        return switch (dtype) {
            case F32 -> src.get(F32_LE, i * 4);
            case BF16 -> Float.intBitsToFloat((src.get(I16_LE, i * 2) & 0xffff) << 16);
            case F16 -> Float.float16ToFloat(src.get(I16_LE, i * 2));
            case F64 -> (float) Double.longBitsToDouble(src.get(I64_LE, i * 8));
            default -> throw new IllegalArgumentException(dtype + " is not a float type");
        };
    }

    public long getLong(long i) {
        return switch (dtype) {
            case I64 -> data.get(I64_LE, i * 8);
            case I32 -> data.get(ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN), i * 4);
            case I8 -> data.get(ValueLayout.JAVA_BYTE, i);
            default -> throw new SafetensorsException(describe() + ": expected an integer tensor");
        };
    }

    /** Copies {@code count} elements starting at flat index {@code from} into {@code dst} as floats. */
    public void readFloats(long from, float[] dst, int dstOffset, int count) {
        if (!dtype.isFloat()) throw new SafetensorsException(describe() + ": expected a float tensor");
        readFloats(dtype, data, from, dst, dstOffset, count);
    }

    /**
     * The same for values of this format held elsewhere ({@code src}, little-endian {@code dtype}, a float
     * type): rows read from the file rather than through the mapping.
     */
    public static void readFloats(DType dtype, MemorySegment src, long from, float[] dst, int dstOffset, int count) {
        if (dtype == DType.F32) {
            MemorySegment.copy(src, F32_LE, from * 4, dst, dstOffset, count);
            return;
        }
        for (int k = 0; k < count; k++) dst[dstOffset + k] = floatAt(dtype, src, from + k);
    }

    /** All elements as floats; only for small tensors (norm weights, test data). */
    public float[] toFloatArray() {
        long n = elementCount();
        if (n > Integer.MAX_VALUE) throw new SafetensorsException(describe() + ": too large to copy");
        float[] out = new float[(int) n];
        readFloats(0, out, 0, out.length);
        return out;
    }

    public long[] toLongArray() {
        long[] out = new long[Math.toIntExact(elementCount())];
        for (int i = 0; i < out.length; i++) out[i] = getLong(i);
        return out;
    }

    public int dim(int axis) {
        return Math.toIntExact(shape[axis]);
    }

    public String describe() {
        return "tensor '" + name + "' " + dtype + Arrays.toString(shape) + " in " + file;
    }
}
