package io.ternstream.deploy;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.yaml.snakeyaml.LoaderOptions;
import org.yaml.snakeyaml.constructor.SafeConstructor;
import org.yaml.snakeyaml.error.YAMLException;

/**
 * docker-compose.yml as compose reads it. SnakeYAML resolves the anchors and "<<" merge keys the file
 * uses for the settings engine and gateway share (Jackson's YAML parser does not).
 */
record Compose(JsonNode root) {

    /** One `kafka-topics.sh --create` of the topic-creating service. */
    record TopicSpec(String name, int partitions, int replicationFactor, Map<String, String> config) {
    }

    static Compose load() {
        return parse(RepoFiles.read("docker-compose.yml"), "docker-compose.yml");
    }

    static Compose parse(String text, String where) {
        Object tree;
        try {
            tree = new org.yaml.snakeyaml.Yaml(new SafeConstructor(new LoaderOptions())).load(text);
        } catch (YAMLException e) {
            throw new IllegalArgumentException(where + " is not valid YAML: " + e.getMessage(), e);
        }
        if (!(tree instanceof Map<?, ?>)) {
            throw new IllegalArgumentException(where + " is not a YAML mapping");
        }
        JsonNode root = Yaml.JSON.valueToTree(tree);
        if (!root.path("services").isObject()) {
            throw new IllegalArgumentException(where + " has no services");
        }
        return new Compose(root);
    }

    JsonNode service(String name) {
        JsonNode s = root.path("services").get(name);
        if (s == null) {
            throw new AssertionError("docker-compose.yml has no service " + name);
        }
        return s;
    }

    /** A service's environment, from either the mapping or the list ("KEY=value") form. */
    Map<String, String> environment(String service) {
        Map<String, String> env = new LinkedHashMap<>();
        JsonNode e = service(service).path("environment");
        if (e.isObject()) {
            e.properties().forEach(kv -> env.put(kv.getKey(), kv.getValue().asText()));
        } else if (e.isArray()) {
            for (JsonNode item : e) {
                String[] kv = item.asText().split("=", 2);
                env.put(kv[0], kv.length > 1 ? kv[1] : "");
            }
        }
        return env;
    }

    /** Every topic the given service creates, parsed from its command's kafka-topics.sh lines. */
    List<TopicSpec> topicsCreatedBy(String service) {
        List<String> lines = new ArrayList<>();
        JsonNode command = service(service).path("command");
        if (command.isArray()) {
            command.forEach(c -> lines.addAll(List.of(c.asText().split("\n"))));
        } else {
            lines.addAll(List.of(command.asText().split("\n")));
        }
        List<TopicSpec> topics = new ArrayList<>();
        for (String line : lines) {
            if (line.contains("kafka-topics.sh") && line.contains("--create")) {
                topics.add(parseTopicLine(line));
            }
        }
        return topics;
    }

    static TopicSpec parseTopicLine(String line) {
        String[] words = line.trim().split("\\s+");
        String name = null;
        Integer partitions = null;
        Integer replication = null;
        Map<String, String> config = new LinkedHashMap<>();
        for (int i = 0; i < words.length; i++) {
            String w = words[i];
            boolean hasValue = i + 1 < words.length;
            switch (w) {
                case "--topic" -> name = hasValue ? words[++i] : null;
                case "--partitions" -> partitions = hasValue ? number(words[++i], line) : null;
                case "--replication-factor" -> replication = hasValue ? number(words[++i], line) : null;
                case "--config" -> {
                    String[] kv = hasValue ? words[++i].split("=", 2) : new String[0];
                    if (kv.length != 2) {
                        throw new IllegalArgumentException("--config without key=value in: " + line);
                    }
                    config.put(kv[0], kv[1]);
                }
                default -> {
                }
            }
        }
        if (name == null || partitions == null || replication == null) {
            throw new IllegalArgumentException("topic creation needs --topic, --partitions and --replication-factor: " + line);
        }
        return new TopicSpec(name, partitions, replication, config);
    }

    private static int number(String s, String line) {
        try {
            return Integer.parseInt(s);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("'" + s + "' is not a number in: " + line, e);
        }
    }
}
