package io.ternstream.service.gateway;

import com.code_intelligence.jazzer.junit.DictionaryFile;
import com.code_intelligence.jazzer.junit.FuzzTest;

/** Any body of POST /v1/completions. */
class CompletionRequestFuzzTest {

    @FuzzTest
    @DictionaryFile(resourcePath = "openai.dict")
    void completion(byte[] body) {
        OpenAiRequestOracle.readsOrRefuses(body, OpenAiRequest::completion);
    }
}
