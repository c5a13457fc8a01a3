package io.ternstream.engine.safetensors;

/** Element types of safetensors tensors that the engine reads or writes. */
public enum DType {
    F32(4), F16(2), BF16(2), I64(8), I32(4), I8(1), U8(1), BOOL(1), F64(8), I16(2);

    private final int bytes;

    DType(int bytes) {
        this.bytes = bytes;
    }

    public int bytes() {
        return bytes;
    }

    public boolean isFloat() {
        return this == F32 || this == F16 || this == BF16 || this == F64;
    }

    static DType parse(String name, String where) {
        try {
            return valueOf(name);
        } catch (IllegalArgumentException e) {
            throw new SafetensorsException(where + ": unsupported dtype '" + name + "'");
        }
    }
}
