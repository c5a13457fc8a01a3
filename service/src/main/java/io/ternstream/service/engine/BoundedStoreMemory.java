package io.ternstream.service.engine;

import java.util.Map;
import org.rocksdb.BlockBasedTableConfig;
import org.rocksdb.Cache;
import org.rocksdb.LRUCache;
import org.rocksdb.Options;
import org.rocksdb.RocksDB;
import org.rocksdb.WriteBufferManager;
import org.apache.kafka.streams.state.RocksDBConfigSetter;

/**
 * Caps the memory of every session store of the process together: one block cache and one write
 * buffer budget shared by all RocksDB instances (one per store and partition), instead of RocksDB's
 * per-instance defaults, which add up with every partition an instance is given. Index and filter
 * blocks count against the cache too. The budget is set once at start ({@link #configure(long)}).
 */
public final class BoundedStoreMemory implements RocksDBConfigSetter {
    private static volatile Cache cache;
    private static volatile WriteBufferManager writeBuffers;
    private static volatile long writeBufferBytes;

    static synchronized void configure(long totalBytes) {
        if (cache == null) {
            RocksDB.loadLibrary(); // the stores load it too, but only when they open, after this
            cache = new LRUCache(totalBytes, -1, false, 0.1);
            writeBufferBytes = totalBytes / 4;
            writeBuffers = new WriteBufferManager(writeBufferBytes, cache); // memtables are charged to the cache
        }
    }

    @Override
    public void setConfig(String storeName, Options options, Map<String, Object> configs) {
        BlockBasedTableConfig table = (BlockBasedTableConfig) options.tableFormatConfig();
        table.setBlockCache(cache);
        table.setCacheIndexAndFilterBlocks(true);
        table.setPinTopLevelIndexAndFilter(true);
        options.setWriteBufferManager(writeBuffers);
        options.setMaxWriteBufferNumber(2);
        options.setWriteBufferSize(Math.max(1 << 20, writeBufferBytes / 8));
        options.setTableFormatConfig(table);
    }

    @Override
    public void close(String storeName, Options options) {
        // the cache and buffer manager are shared by every store and live as long as the process
    }
}
