package io.ternstream.engine.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.ternstream.engine.safetensors.DType;
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
    void lookupsOfAMappedTableReturnTheRowAndDoNotLeaveItResident() throws IOException {
        Path file = dir.resolve("table.bf16");
        try (FileChannel out = FileChannel.open(file, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
            var buffer = java.nio.ByteBuffer.allocate(DIM * 2).order(java.nio.ByteOrder.LITTLE_ENDIAN);
            for (int row = 0; row < VOCAB; row++) {
                buffer.clear();
                for (int i = 0; i < DIM; i++) buffer.putShort(bf16(row + i / 1024f));
                out.write(buffer.flip());
            }
        }
        try (Arena arena = Arena.ofConfined(); FileChannel in = FileChannel.open(file, StandardOpenOption.READ)) {
            MemorySegment data = in.map(FileChannel.MapMode.READ_ONLY, 0, (long) VOCAB * DIM * 2, arena);
            Embeddings embeddings = new Embeddings(new Tensor("embeddings", DType.BF16, new long[] {VOCAB, DIM}, data, file));
            float[] row = new float[DIM];
            SplittableRandom random = new SplittableRandom(7);
            for (int k = 0; k < 2000; k++) {
                int token = random.nextInt(VOCAB);
                embeddings.lookup(token, row);
                float[] expected = new float[DIM];
                for (int i = 0; i < DIM; i++) expected[i] = Float.intBitsToFloat((bf16(token + i / 1024f) & 0xFFFF) << 16);
                assertArrayEquals(expected, row, "row " + token);
            }
            // 2,000 random rows of 8,192 would leave most of the 8 MB mapped (64 KB of fault-around each)
            long resident = residentKilobytes(data);
            assertTrue(resident < 1024, "mapped table still resident after lookups: " + resident + " KB");
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
