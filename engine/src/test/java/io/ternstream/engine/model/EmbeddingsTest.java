package io.ternstream.engine.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.ternstream.engine.safetensors.DType;
import io.ternstream.engine.safetensors.SafetensorsException;
import io.ternstream.engine.safetensors.SafetensorsFile;
import io.ternstream.engine.safetensors.SafetensorsWriter;
import io.ternstream.engine.safetensors.Tensor;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class EmbeddingsTest {

    private static final int VOCAB = 8192;
    private static final int DIM = 512; // 1 KB rows: 8 MB of BF16

    @TempDir
    Path dir;

    @Test
    void lookupsOfATableInAFileReturnTheRowAndLeaveNothingResident() throws IOException {
        Path file = dir.resolve("table.safetensors");
        var bytes = java.nio.ByteBuffer.allocate(VOCAB * DIM * 2).order(java.nio.ByteOrder.LITTLE_ENDIAN);
        for (int row = 0; row < VOCAB; row++) {
            for (int i = 0; i < DIM; i++) bytes.putShort(bf16(row + i / 1024f));
        }
        new SafetensorsWriter().addRaw("embeddings", DType.BF16, new long[] {VOCAB, DIM}, bytes.array()).write(file);
        try (SafetensorsFile weights = SafetensorsFile.open(file)) {
            Tensor table = weights.tensors().get("embeddings");
            Embeddings embeddings = new Embeddings(table, weights);
            float[] row = new float[DIM];
            float[] kept = new float[DIM];
            java.nio.ByteBuffer buffer = embeddings.rowBuffer(); // one buffer for every lookup, as Forward keeps it
            SplittableRandom random = new SplittableRandom(7);
            for (int k = 0; k < 2000; k++) {
                int token = k == 0 ? VOCAB - 1 : random.nextInt(VOCAB); // the last row ends at the file's end
                embeddings.lookup(token, row);
                embeddings.lookup(token, kept, buffer);
                float[] expected = new float[DIM];
                for (int i = 0; i < DIM; i++) expected[i] = Float.intBitsToFloat((bf16(token + i / 1024f) & 0xFFFF) << 16);
                assertArrayEquals(expected, row, "row " + token);
                assertArrayEquals(expected, kept, "row " + token + " through a reused buffer");
            }
            // through the mapping, 2,000 random rows of 8,192 would leave most of the 8 MB resident (64 KB of
            // fault-around each); positional reads leave none of it
            long resident = residentKilobytes(table.data());
            assertTrue(resident < 1024, "mapped table resident after lookups: " + resident + " KB");
        }
    }

    /** An interrupt closes a FileChannel for every thread: the interrupted lookup fails, the next ones work. */
    @Test
    void aLookupAfterAnInterruptedOneStillReadsTheRow() throws IOException {
        Path file = dir.resolve("interrupt.safetensors");
        var bytes = java.nio.ByteBuffer.allocate(16 * DIM * 2).order(java.nio.ByteOrder.LITTLE_ENDIAN);
        for (int row = 0; row < 16; row++) {
            for (int i = 0; i < DIM; i++) bytes.putShort(bf16(row));
        }
        new SafetensorsWriter().addRaw("embeddings", DType.BF16, new long[] {16, DIM}, bytes.array()).write(file);
        try (SafetensorsFile weights = SafetensorsFile.open(file)) {
            Embeddings embeddings = new Embeddings(weights.tensors().get("embeddings"), weights);
            float[] row = new float[DIM];
            Thread.currentThread().interrupt();
            try {
                assertThrows(java.io.UncheckedIOException.class, () -> embeddings.lookup(3, row));
            } finally {
                Thread.interrupted(); // clear the flag whatever happened
            }
            embeddings.lookup(5, row);
            assertEquals(5f, row[0]);
            assertEquals(5f, row[DIM - 1]);
        }
    }

    /** An in-memory table (generated models) is read from its segment. */
    @Test
    void lookupsOfAnInMemoryTableReturnTheRow() {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment data = arena.allocate((long) 4 * DIM * 4);
            for (int i = 0; i < 4 * DIM; i++) data.setAtIndex(java.lang.foreign.ValueLayout.JAVA_FLOAT_UNALIGNED, i, i * 0.5f);
            Embeddings embeddings = new Embeddings(new Tensor("embeddings", DType.F32, new long[] {4, DIM}, data, null));
            float[] row = new float[DIM];
            embeddings.lookup(2, row);
            for (int i = 0; i < DIM; i++) assertEquals((2 * DIM + i) * 0.5f, row[i]);
        }
    }

    /** A file cut short after it was opened: the lookup fails with the file's name, not with garbage. */
    @Test
    void aRowPastTheEndOfAShrunkenFileIsAClearError() throws IOException {
        Path file = dir.resolve("short.safetensors");
        new SafetensorsWriter().addRaw("embeddings", DType.BF16, new long[] {VOCAB, DIM}, new byte[VOCAB * DIM * 2]).write(file);
        try (SafetensorsFile weights = SafetensorsFile.open(file)) {
            Embeddings embeddings = new Embeddings(weights.tensors().get("embeddings"), weights);
            try (FileChannel out = FileChannel.open(file, StandardOpenOption.WRITE)) {
                out.truncate(Files.size(file) - DIM);
            }
            var e = assertThrows(SafetensorsException.class, () -> embeddings.lookup(VOCAB - 1, new float[DIM]));
            assertTrue(e.getMessage().contains(file.toString()), e.getMessage());
        }
    }

    private static short bf16(float value) {
        return (short) (Float.floatToRawIntBits(value) >>> 16);
    }

    /** Rss of the mapping that holds {@code data}, from /proc/self/smaps (Linux, where CI runs). */
    private static long residentKilobytes(MemorySegment data) throws IOException {
        long address = data.address();
        boolean inside = false;
        for (String line : Files.readAllLines(Path.of("/proc/self/smaps"))) {
            if (line.matches("^[0-9a-f]+-[0-9a-f]+ .*")) {
                String[] range = line.substring(0, line.indexOf(' ')).split("-");
                inside = Long.parseUnsignedLong(range[0], 16) <= address && address < Long.parseUnsignedLong(range[1], 16);
            } else if (inside && line.startsWith("Rss:")) {
                return Long.parseLong(line.replaceAll("[^0-9]", ""));
            }
        }
        throw new AssertionError("no mapping holds the table in /proc/self/smaps");
    }
}
