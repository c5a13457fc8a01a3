package io.ternstream.engine.parallel;

import jdk.incubator.vector.LongVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;

/**
 * Memory read bandwidth as the decode loop sees it: threads sum disjoint parts of a 1 GiB off-heap
 * array (far larger than any cache) with vector loads; the best of several passes. The bound of a
 * memory-bound decode step is then bytes of weights read per token ÷ this rate.
 */
public final class MemoryBandwidth {

    private static final VectorSpecies<Long> L = LongVector.SPECIES_PREFERRED;
    private static final long BYTES = 1L << 30;
    private static final int PASSES = 5;

    private MemoryBandwidth() {}

    /** Bytes per second read by {@code threads} threads from a 1 GiB array; frees it before returning. */
    public static double measure(int threads) {
        return measure(threads, BYTES);
    }

    /** The same over {@code bytes} (a multiple of 4096); smaller arrays measure caches, not memory. */
    public static double measure(int threads, long bytes) {
        if (threads < 1 || bytes < 4096 || bytes % 4096 != 0) throw new IllegalArgumentException("need threads >= 1 and whole pages, got " + threads + ", " + bytes);
        try (Arena arena = Arena.ofShared(); WorkerPool pool = new WorkerPool(threads)) {
            MemorySegment data = arena.allocate(bytes, 4096);
            data.fill((byte) 1); // touch every page
            long[] sinks = new long[threads];  // one part per thread
            MemorySegment shared = data;
            WorkerPool.Task sum = (part, parts) -> {
                long chunk = bytes / parts / 8 * 8;
                sinks[part] += sumRange(shared, part * chunk, chunk);
            };
            double best = 0;
            for (int pass = 0; pass < PASSES; pass++) {
                long start = System.nanoTime();
                pool.run(sum, threads);
                best = Math.max(best, bytes * 1e9 / (System.nanoTime() - start));
            }
            if (sinks[0] == 42) System.out.print(""); // keeps the sums alive
            return best;
        }
    }

    private static long sumRange(MemorySegment data, long from, long length) {
        int step = L.vectorByteSize();
        LongVector a = LongVector.zero(L), b = a, c = a, d = a;
        long end = from + length - 4L * step;
        long i = from;
        for (; i <= end; i += 4L * step) {
            a = a.add(LongVector.fromMemorySegment(L, data, i, ByteOrder.LITTLE_ENDIAN));
            b = b.add(LongVector.fromMemorySegment(L, data, i + step, ByteOrder.LITTLE_ENDIAN));
            c = c.add(LongVector.fromMemorySegment(L, data, i + 2L * step, ByteOrder.LITTLE_ENDIAN));
            d = d.add(LongVector.fromMemorySegment(L, data, i + 3L * step, ByteOrder.LITTLE_ENDIAN));
        }
        long s = a.add(b).add(c).add(d).reduceLanes(VectorOperators.ADD);
        for (; i < from + length; i += 8) s += data.get(ValueLayout.JAVA_LONG_UNALIGNED, i);
        return s;
    }
}
