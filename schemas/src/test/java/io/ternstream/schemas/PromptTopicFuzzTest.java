package io.ternstream.schemas;

import com.code_intelligence.jazzer.junit.DictionaryFile;
import com.code_intelligence.jazzer.junit.FuzzTest;

/** Any record value on the prompts topic (prompt, cancel, reset, fork, delete, import). */
class PromptTopicFuzzTest {
    private static final MessageCodec CODEC = new MessageCodec();

    @FuzzTest
    @DictionaryFile(resourcePath = "contracts.dict")
    void decodePromptTopic(byte[] json) {
        DecodeOracle.decodesOrViolates(CODEC, json, CODEC::decodePromptTopic);
    }
}
