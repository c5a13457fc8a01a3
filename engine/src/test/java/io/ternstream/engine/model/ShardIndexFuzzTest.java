package io.ternstream.engine.model;

import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.code_intelligence.jazzer.junit.DictionaryFile;
import com.code_intelligence.jazzer.junit.FuzzTest;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;

/** Any model.safetensors.index.json: shard files inside the model folder, or a ModelFormatException. */
class ShardIndexFuzzTest {
    private static final Path DIR = Path.of("/models/hgrn-bit");
    private static final Path INDEX = DIR.resolve(ModelLoader.INDEX);

    @FuzzTest
    @DictionaryFile(resourcePath = "index.dict")
    void shards(byte[] json) {
        try {
            for (Path shard : ShardIndex.shards(DIR, INDEX, new String(json, StandardCharsets.UTF_8))) {
                assertTrue(shard.startsWith(DIR), shard + " is outside " + DIR);
                assertNotEquals(DIR, shard, "the folder itself is no shard file");
            }
        } catch (ModelFormatException e) {
            assertTrue(e.getMessage().startsWith(INDEX.toString()), "the refusal names the index: " + e.getMessage());
        }
    }
}
