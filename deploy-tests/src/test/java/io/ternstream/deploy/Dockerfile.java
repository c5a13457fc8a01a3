package io.ternstream.deploy;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A Dockerfile read into stages and instructions, as the builder reads it: comment lines dropped,
 * backslash continuations joined, global ARG defaults substituted into FROM.
 */
record Dockerfile(List<Stage> stages) {

    record Instruction(int line, String keyword, String arguments) {
    }

    record Stage(String image, String alias, List<Instruction> instructions) {

        List<Instruction> all(String keyword) {
            return instructions.stream().filter(i -> i.keyword().equals(keyword)).toList();
        }

        /** The last instruction of a kind (USER, ENTRYPOINT, WORKDIR, CMD: the last one wins). */
        Instruction last(String keyword) {
            List<Instruction> found = all(keyword);
            if (found.isEmpty()) {
                throw new AssertionError("stage " + image + " has no " + keyword);
            }
            return found.getLast();
        }
    }

    private static final Pattern ARG_REF = Pattern.compile("\\$\\{?([A-Za-z_][A-Za-z0-9_]*)}?");

    static Dockerfile parse(String text) {
        List<Instruction> flat = new ArrayList<>();
        StringBuilder pending = null;
        int start = 0;
        String[] lines = text.split("\n", -1);
        for (int n = 0; n < lines.length; n++) {
            String line = lines[n].stripTrailing();
            // comment lines and blank lines are dropped, also inside a continuation (as the builder does)
            if (line.strip().startsWith("#") || line.isBlank()) {
                continue;
            }
            if (pending == null) {
                pending = new StringBuilder();
                start = n + 1;
            }
            if (line.endsWith("\\")) {
                pending.append(line, 0, line.length() - 1).append(' ');
                continue;
            }
            pending.append(line);
            flat.add(instruction(start, pending.toString().strip()));
            pending = null;
        }
        if (pending != null) {
            throw new IllegalArgumentException("Dockerfile line " + start + ": continuation runs past the end of the file");
        }

        Map<String, String> globalArgs = new HashMap<>();
        List<Stage> stages = new ArrayList<>();
        for (Instruction i : flat) {
            switch (i.keyword()) {
                case "ARG" -> {
                    if (stages.isEmpty()) {
                        String[] kv = i.arguments().split("=", 2);
                        globalArgs.put(kv[0].strip(), kv.length > 1 ? kv[1].strip() : "");
                    } else {
                        stages.getLast().instructions().add(i);
                    }
                }
                case "FROM" -> {
                    String[] words = substitute(i.arguments(), globalArgs).split("\\s+");
                    int at = words[0].startsWith("--") ? 1 : 0;
                    String alias = words.length >= at + 3 && words[at + 1].equalsIgnoreCase("AS") ? words[at + 2] : null;
                    stages.add(new Stage(words[at], alias, new ArrayList<>()));
                }
                default -> {
                    if (stages.isEmpty()) {
                        throw new IllegalArgumentException("Dockerfile line " + i.line() + ": " + i.keyword() + " before FROM");
                    }
                    stages.getLast().instructions().add(i);
                }
            }
        }
        if (stages.isEmpty()) {
            throw new IllegalArgumentException("Dockerfile has no FROM");
        }
        return new Dockerfile(List.copyOf(stages));
    }

    private static Instruction instruction(int line, String text) {
        String[] parts = text.split("\\s+", 2);
        if (!parts[0].matches("[A-Za-z]+")) {
            throw new IllegalArgumentException("Dockerfile line " + line + ": not an instruction: " + text);
        }
        return new Instruction(line, parts[0].toUpperCase(Locale.ROOT), parts.length > 1 ? parts[1] : "");
    }

    private static String substitute(String s, Map<String, String> args) {
        Matcher m = ARG_REF.matcher(s);
        StringBuilder out = new StringBuilder();
        while (m.find()) {
            String v = args.get(m.group(1));
            if (v == null) {
                throw new IllegalArgumentException("FROM uses $" + m.group(1) + ", which no ARG before it declares");
            }
            m.appendReplacement(out, Matcher.quoteReplacement(v));
        }
        m.appendTail(out);
        return out.toString();
    }

    Stage runtime() {
        return stages.getLast();
    }

    /** An exec-form (JSON array) ENTRYPOINT/CMD; shell form is rejected (no signal forwarding to the JVM). */
    static List<String> execForm(Instruction i) {
        JsonNode array;
        try {
            array = Yaml.JSON.readTree(i.arguments());
        } catch (Exception e) {
            array = null;
        }
        if (array == null || !array.isArray()) {
            throw new IllegalArgumentException("Dockerfile line " + i.line() + ": " + i.keyword()
                    + " must be exec form (a JSON array), got: " + i.arguments());
        }
        List<String> out = new ArrayList<>();
        array.forEach(e -> out.add(e.asText()));
        return out;
    }
}
