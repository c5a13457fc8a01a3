package io.ternstream.deploy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.ArrayList;
import java.util.List;

/**
 * RFC 6902 JSON Patch, the operations kustomize overlays here use (add, replace, remove), applied in
 * place. A path that does not exist fails, as it does in kustomize, so a patch aimed at a field that
 * was renamed in the base cannot pass silently.
 */
final class JsonPatch {

    private JsonPatch() {
    }

    static void apply(ObjectNode document, JsonNode operations, String where) {
        if (!operations.isArray()) {
            throw new IllegalArgumentException(where + ": a JSON6902 patch is a list of operations");
        }
        for (JsonNode op : operations) {
            String kind = text(op, "op", where);
            String path = text(op, "path", where);
            List<String> tokens = pointer(path, where);
            if (tokens.isEmpty()) {
                throw new IllegalArgumentException(where + ": patching the whole document is not supported");
            }
            JsonNode parent = document;
            for (String token : tokens.subList(0, tokens.size() - 1)) {
                parent = child(parent, token, path, where);
            }
            String last = tokens.getLast();
            switch (kind) {
                case "add" -> add(parent, last, value(op, where), path, where);
                case "replace" -> {
                    child(parent, last, path, where);
                    set(parent, last, value(op, where), path, where);
                }
                case "remove" -> remove(parent, last, path, where);
                default -> throw new IllegalArgumentException(where + ": unsupported patch op '" + kind + "'");
            }
        }
    }

    private static String text(JsonNode op, String field, String where) {
        JsonNode v = op.get(field);
        if (v == null || !v.isTextual()) {
            throw new IllegalArgumentException(where + ": patch operation without '" + field + "': " + op);
        }
        return v.asText();
    }

    private static JsonNode value(JsonNode op, String where) {
        if (!op.has("value")) {
            throw new IllegalArgumentException(where + ": patch operation without 'value': " + op);
        }
        return op.get("value").deepCopy();
    }

    /** RFC 6901: "/a/b~1c" -> [a, b/c]. */
    static List<String> pointer(String path, String where) {
        if (!path.isEmpty() && !path.startsWith("/")) {
            throw new IllegalArgumentException(where + ": JSON pointer must start with '/': " + path);
        }
        List<String> tokens = new ArrayList<>();
        if (path.isEmpty()) {
            return tokens;
        }
        for (String raw : path.substring(1).split("/", -1)) {
            tokens.add(raw.replace("~1", "/").replace("~0", "~"));
        }
        return tokens;
    }

    private static JsonNode child(JsonNode parent, String token, String path, String where) {
        JsonNode c = parent.isArray() ? parent.get(index(parent, token, false, path, where)) : parent.get(token);
        if (c == null) {
            throw new IllegalArgumentException(where + ": path " + path + " does not exist (at '" + token + "')");
        }
        return c;
    }

    private static int index(JsonNode array, String token, boolean allowEnd, String path, String where) {
        if (allowEnd && token.equals("-")) {
            return array.size();
        }
        if (!token.matches("0|[1-9][0-9]*")) {
            throw new IllegalArgumentException(where + ": '" + token + "' in " + path + " is no array index");
        }
        int i = Integer.parseInt(token);
        if (i > array.size() || (!allowEnd && i == array.size())) {
            throw new IllegalArgumentException(where + ": index " + i + " out of bounds in " + path);
        }
        return i;
    }

    private static void add(JsonNode parent, String token, JsonNode value, String path, String where) {
        if (parent instanceof ArrayNode array) {
            array.insert(index(array, token, true, path, where), value);
        } else if (parent instanceof ObjectNode object) {
            object.set(token, value);
        } else {
            throw new IllegalArgumentException(where + ": cannot add below a scalar at " + path);
        }
    }

    private static void set(JsonNode parent, String token, JsonNode value, String path, String where) {
        if (parent instanceof ArrayNode array) {
            array.set(index(array, token, false, path, where), value);
        } else {
            ((ObjectNode) parent).set(token, value);
        }
    }

    private static void remove(JsonNode parent, String token, String path, String where) {
        if (parent instanceof ArrayNode array) {
            array.remove(index(array, token, false, path, where));
        } else if (parent instanceof ObjectNode object && object.has(token)) {
            object.remove(token);
        } else {
            throw new IllegalArgumentException(where + ": path " + path + " does not exist (at '" + token + "')");
        }
    }
}
