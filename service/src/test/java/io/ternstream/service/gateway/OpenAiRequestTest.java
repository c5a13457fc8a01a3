package io.ternstream.service.gateway;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.util.List;
import org.junit.jupiter.api.Test;

class OpenAiRequestTest {
    static final ObjectMapper JSON = new ObjectMapper();

    static OpenAiRequest chat(String json) throws Exception {
        return OpenAiRequest.chat(JSON.readTree(json));
    }

    static String refusedParam(String json, boolean chat) {
        var e = assertThrows(ApiException.class, () -> {
            var tree = JSON.readTree(json);
            if (chat) {
                OpenAiRequest.chat(tree);
            } else {
                OpenAiRequest.completion(tree);
            }
        });
        assertEquals(400, e.status);
        return e.param;
    }

    @Test
    void chatFieldsAreMapped() throws Exception {
        var r = chat("""
                {"model":"m","messages":[{"role":"developer","content":"be brief"},
                 {"role":"user","content":[{"type":"text","text":"a"},{"type":"text","text":"b"}]}],
                 "max_completion_tokens":7,"temperature":0.5,"top_p":0.9,"seed":3,"stop":"\\n",
                 "stream":true,"stream_options":{"include_usage":true},"frequency_penalty":0,"user":"u1"}""");
        assertEquals("system", r.messages().getFirst().role());
        assertEquals("ab", r.messages().getLast().content());
        assertEquals(7, r.params().maxTokens());
        assertEquals(0.5f, r.params().temperature());
        assertEquals(List.of("\n"), r.params().stop());
        assertEquals(3L, r.params().seed());
        assertTrue(r.stream() && r.includeUsage());
    }

    @Test
    void completionPromptsAreTextOrOneTokenArray() throws Exception {
        assertEquals("hi", OpenAiRequest.completion(JSON.readTree("{\"model\":\"m\",\"prompt\":[\"hi\"]}")).promptText());
        var ids = OpenAiRequest.completion(JSON.readTree("{\"model\":\"m\",\"prompt\":[[1,2]]}"));
        assertEquals(List.of(1, 2), ids.promptTokens());
        assertNull(ids.promptText());
        assertEquals(List.of(4), OpenAiRequest.completion(JSON.readTree("{\"model\":\"m\",\"prompt\":[4]}"))
                .promptTokens());
    }

    @Test
    void brokenRequestsNameTheField() {
        assertEquals("messages", refusedParam("{\"model\":\"m\"}", true));
        assertEquals("messages", refusedParam("{\"model\":\"m\",\"messages\":[]}", true));
        assertEquals("messages[0].role", refusedParam("{\"model\":\"m\",\"messages\":[{\"role\":\"tool\",\"content\":\"x\"}]}", true));
        assertEquals("messages[0].content", refusedParam("{\"model\":\"m\",\"messages\":[{\"role\":\"user\",\"content\":5}]}", true));
        assertEquals("messages", refusedParam("{\"model\":\"m\",\"messages\":[{\"role\":\"assistant\",\"content\":\"x\"}]}", true));
        assertEquals("model", refusedParam("{\"messages\":[{\"role\":\"user\",\"content\":\"x\"}]}", true));
        String user = "\"messages\":[{\"role\":\"user\",\"content\":\"x\"}]";
        assertEquals("n", refusedParam("{\"model\":\"m\"," + user + ",\"n\":3}", true));
        assertEquals("max_tokens", refusedParam("{\"model\":\"m\"," + user + ",\"max_tokens\":0}", true));
        assertEquals("max_tokens", refusedParam("{\"model\":\"m\"," + user + ",\"max_tokens\":\"ten\"}", true));
        assertEquals("temperature", refusedParam("{\"model\":\"m\"," + user + ",\"temperature\":-1}", true));
        assertEquals("top_p", refusedParam("{\"model\":\"m\"," + user + ",\"top_p\":0}", true));
        assertEquals("seed", refusedParam("{\"model\":\"m\"," + user + ",\"seed\":\"x\"}", true));
        assertEquals("stop", refusedParam("{\"model\":\"m\"," + user + ",\"stop\":[\"a\",\"b\",\"c\",\"d\",\"e\"]}", true));
        assertEquals("stop", refusedParam("{\"model\":\"m\"," + user + ",\"stop\":[\"\"]}", true));
        assertEquals("stream", refusedParam("{\"model\":\"m\"," + user + ",\"stream\":\"yes\"}", true));
        assertEquals("prompt", refusedParam("{\"model\":\"m\",\"prompt\":[1,\"a\"]}", false));
        assertEquals("prompt", refusedParam("{\"model\":\"m\",\"prompt\":[-1]}", false));
        assertEquals("prompt", refusedParam("{\"model\":\"m\",\"prompt\":\"\"}", false));
        assertEquals("prompt", refusedParam("{\"model\":\"m\",\"prompt\":{}}", false));
    }
}
