package io.ternstream.deploy;

import com.fasterxml.jackson.core.JacksonException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import com.fasterxml.jackson.dataformat.yaml.YAMLMapper;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/** YAML files as Jackson trees; parse errors name the file. */
final class Yaml {

    static final ObjectMapper MAPPER = new YAMLMapper();
    static final ObjectMapper JSON = new ObjectMapper();

    private Yaml() {
    }

    /** Every non-empty document of a (multi-document) YAML file. */
    static List<JsonNode> readAll(Path file) {
        try {
            return readAll(Files.readString(file), file.toString());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static List<JsonNode> readAll(String text, String where) {
        List<JsonNode> docs = new ArrayList<>();
        try (var parser = new YAMLFactory().createParser(text)) {
            var it = MAPPER.readValues(parser, JsonNode.class);
            while (it.hasNext()) {
                JsonNode doc = it.next();
                if (doc != null && !doc.isNull() && !doc.isMissingNode()) {
                    docs.add(doc);
                }
            }
        } catch (JacksonException e) {
            throw new IllegalArgumentException(where + " is not valid YAML: " + e.getOriginalMessage(), e);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (RuntimeException e) {
            if (e.getCause() instanceof JacksonException je) {
                throw new IllegalArgumentException(where + " is not valid YAML: " + je.getOriginalMessage(), e);
            }
            throw e;
        }
        return docs;
    }

    static JsonNode readOne(String text, String where) {
        List<JsonNode> docs = readAll(text, where);
        if (docs.size() != 1) {
            throw new IllegalArgumentException(where + " must hold exactly one YAML document, not " + docs.size());
        }
        return docs.getFirst();
    }
}
