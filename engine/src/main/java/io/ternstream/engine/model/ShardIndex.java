package io.ternstream.engine.model;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.TreeSet;

/** {@code model.safetensors.index.json} of a sharded checkpoint: which files hold the weights. */
final class ShardIndex {
    private static final ObjectMapper JSON = new ObjectMapper();

    private ShardIndex() {}

    /** The shard files that the index's weight_map names, each inside {@code dir}, in name order. */
    static List<Path> shards(Path dir, Path index, String json) {
        JsonNode map;
        try {
            map = JSON.readTree(json).path("weight_map");
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new ModelFormatException(index + ": invalid JSON: " + e.getOriginalMessage(), e);
        }
        if (!map.isObject() || map.isEmpty()) throw new ModelFormatException(index + ": no weight_map");
        TreeSet<String> shardNames = new TreeSet<>();
        for (var entry : map.properties()) {
            if (!entry.getValue().isTextual() || entry.getValue().asText().isEmpty()) {
                throw new ModelFormatException(index + ": tensor '" + entry.getKey() + "' has no shard file name");
            }
            shardNames.add(entry.getValue().asText());
        }
        Path folder = dir.normalize();
        List<Path> shards = new ArrayList<>();
        for (String shard : shardNames) {
            Path p;
            try {
                p = folder.resolve(shard).normalize();
            } catch (InvalidPathException e) {
                throw new ModelFormatException(index + ": shard '" + shard + "' is not a file name: " + e.getReason());
            }
            if (!p.startsWith(folder) || p.equals(folder)) {
                throw new ModelFormatException(index + ": shard '" + shard + "' is outside the folder");
            }
            shards.add(p);
        }
        return shards;
    }
}
