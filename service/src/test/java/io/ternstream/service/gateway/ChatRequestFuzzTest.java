package io.ternstream.service.gateway;

import com.code_intelligence.jazzer.junit.DictionaryFile;
import com.code_intelligence.jazzer.junit.FuzzTest;

/** Any body of POST /v1/chat/completions. */
class ChatRequestFuzzTest {

    @FuzzTest
    @DictionaryFile(resourcePath = "openai.dict")
    void chat(byte[] body) {
        OpenAiRequestOracle.readsOrRefuses(body, OpenAiRequest::chat);
    }
}
