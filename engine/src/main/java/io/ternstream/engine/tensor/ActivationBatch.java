package io.ternstream.engine.tensor;

/**
 * Up to {@code maxColumns} int8-quantized activation columns, the input of one ternary product, in the
 * form the kernel reads: the codes, each column's 1/s, and whatever the kernel derives from the codes
 * once per column (the LUT kernel's 27-entry sum tables). Allocated once; refilled for every product.
 *
 * <p>Fill protocol: {@link #begin(int)}; per column write its codes into {@link #codes(int)} (positions
 * [0, cols)) and {@link #commit(int, float)}; then {@link #seal(int)} once before the product.
 */
public final class ActivationBatch {

    private final TernaryKernel kernel;
    private final int maxCols;
    private final short[][] codes;       // [C][paddedColsFor(maxCols)] values in [-128, 127]
    private final float[] inverseScale;  // [C] 1/s of each column's absmax quantization
    private final short[][] tables;      // [C][kernel-defined] per-column derived form, or null
    private final short[][] tileTables;  // [C / tile][kernel-defined] derived form of column tiles, or null
    private final short[] transposed;    // [maxCols · tile] scratch for building tile tables
    private int cols;

    public ActivationBatch(TernaryKernel kernel, int maxColumns, int maxCols) {
        this.kernel = kernel;
        this.maxCols = maxCols;
        this.codes = new short[maxColumns][TernaryMatrix.paddedColsFor(maxCols)];
        this.inverseScale = new float[maxColumns];
        int tableLength = kernel.tableLength(maxCols);
        this.tables = tableLength > 0 ? new short[maxColumns][tableLength] : null;
        int tile = kernel.columnTile();
        int tileLength = tile > 0 && maxColumns >= tile ? kernel.tileTableLength(maxCols) : 0;
        this.tileTables = tileLength > 0 ? new short[maxColumns / tile][tileLength] : null;
        this.transposed = tileLength > 0 ? new short[TernaryMatrix.paddedColsFor(maxCols) * tile] : null;
    }

    /** Starts a product with {@code cols} inputs per column. */
    public void begin(int cols) {
        if (cols < 1 || cols > maxCols) throw new IllegalArgumentException("cols must be in [1, " + maxCols + "], got " + cols);
        this.cols = cols;
    }

    public int cols() {
        return cols;
    }

    public int maxColumns() {
        return codes.length;
    }

    /** The code buffer of column {@code c}: write [0, cols) before {@link #commit}. */
    public short[] codes(int c) {
        return codes[c];
    }

    public float inverseScale(int c) {
        return inverseScale[c];
    }

    /** Column {@code c} is written: records its 1/s. */
    public void commit(int c, float inverseScale) {
        // positions past cols may hold codes of a wider product that used this buffer before
        java.util.Arrays.fill(codes[c], cols, Math.min(codes[c].length, TernaryMatrix.paddedColsFor(cols)), (short) 0);
        this.inverseScale[c] = inverseScale;
    }

    /**
     * Columns [0, batch) are committed: the kernel derives its forms, whole tiles of columns together
     * where it has a tile form, the other columns one by one. Call on one thread, before the product.
     */
    public void seal(int batch) {
        int tiled = tiledColumns(batch);
        int tile = kernel.columnTile();
        for (int first = 0; first < tiled; first += tile) kernel.prepareTile(codes, first, cols, transposed, tileTables[first / tile]);
        if (tables != null) for (int c = tiled; c < batch; c++) kernel.prepare(codes[c], cols, tables[c]);
    }

    /** Columns handled as tiles for a batch of {@code batch}: a multiple of the kernel's tile, maybe 0. */
    int tiledColumns(int batch) {
        return tileTables != null ? batch / kernel.columnTile() * kernel.columnTile() : 0;
    }

    short[][] tileTables() {
        return tileTables;
    }

    short[][] codes() {
        return codes;
    }

    short[][] tables() {
        return tables;
    }

    float[] inverseScales() {
        return inverseScale;
    }
}
