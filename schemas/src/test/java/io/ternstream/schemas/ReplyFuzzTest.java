package io.ternstream.schemas;

import com.code_intelligence.jazzer.junit.DictionaryFile;
import com.code_intelligence.jazzer.junit.FuzzTest;

/** Any record value on a replies topic (token, complete, error, ack). */
class ReplyFuzzTest {
    private static final MessageCodec CODEC = new MessageCodec();

    @FuzzTest
    @DictionaryFile(resourcePath = "contracts.dict")
    void decodeReply(byte[] json) {
        DecodeOracle.decodesOrViolates(CODEC, json, CODEC::decodeReply);
    }
}
