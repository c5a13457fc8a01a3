package io.ternstream.schemas;

import com.code_intelligence.jazzer.junit.DictionaryFile;
import com.code_intelligence.jazzer.junit.FuzzTest;

/** Any record value on the session-state topic. */
class SnapshotFuzzTest {
    private static final MessageCodec CODEC = new MessageCodec();

    @FuzzTest
    @DictionaryFile(resourcePath = "contracts.dict")
    void decodeSnapshot(byte[] json) {
        DecodeOracle.decodesOrViolates(CODEC, json, CODEC::decodeSnapshot);
    }
}
