package io.ternstream.service.gateway;

import com.fasterxml.jackson.databind.JsonNode;
import io.ternstream.schemas.GenerationParams;
import java.util.ArrayList;
import java.util.List;

/**
 * The fields of an OpenAI completions or chat completions request that the gateway honours, read
 * from the JSON tree with every problem reported as a 400 naming the field. Fields it does not
 * know are ignored, as OpenAI clients send many optional ones.
 */
record OpenAiRequest(
        String model,
        List<ChatTemplate.Message> messages, // chat only
        String promptText,                   // completions: text ...
        List<Integer> promptTokens,          // ... or token ids
        GenerationParams params,
        boolean stream,
        boolean includeUsage) {

    static OpenAiRequest chat(JsonNode body) {
        JsonNode messages = body.get("messages");
        if (messages == null || !messages.isArray() || messages.isEmpty()) {
            throw ApiException.badRequest("messages", "messages must be a non-empty array");
        }
        List<ChatTemplate.Message> list = new ArrayList<>();
        for (int i = 0; i < messages.size(); i++) {
            JsonNode m = messages.get(i);
            String param = "messages[" + i + "]";
            if (!m.isObject()) {
                throw ApiException.badRequest(param, param + " must be an object");
            }
            String role = text(m, "role", param + ".role");
            if (role.equals("developer")) {
                role = "system";
            }
            if (!List.of("system", "user", "assistant").contains(role)) {
                throw ApiException.badRequest(param + ".role", "role '" + role + "' is not supported; use system, "
                        + "user or assistant");
            }
            list.add(new ChatTemplate.Message(role, content(m.get("content"), param + ".content")));
        }
        if (!list.getLast().role().equals("user")) {
            throw ApiException.badRequest("messages", "the last message must be the user's");
        }
        return common(body, list, null, null);
    }

    static OpenAiRequest completion(JsonNode body) {
        JsonNode prompt = body.get("prompt");
        if (prompt != null && prompt.isArray() && prompt.size() == 1 && !prompt.get(0).isInt()) {
            prompt = prompt.get(0); // ["text"] or [[1,2,3]]: one prompt, as n=1 allows
        }
        if (prompt != null && prompt.isTextual() && !prompt.asText().isEmpty()) {
            return common(body, null, prompt.asText(), null);
        }
        if (prompt != null && prompt.isArray() && !prompt.isEmpty()) {
            List<Integer> ids = new ArrayList<>();
            for (JsonNode id : prompt) {
                if (!id.isInt() || id.asInt() < 0) {
                    throw ApiException.badRequest("prompt", "prompt must be a string or one array of token ids");
                }
                ids.add(id.asInt());
            }
            return common(body, null, null, ids);
        }
        throw ApiException.badRequest("prompt", "prompt must be a non-empty string or one array of token ids");
    }

    private static OpenAiRequest common(JsonNode body, List<ChatTemplate.Message> messages, String text,
                                        List<Integer> ids) {
        String model = text(body, "model", "model");
        if (body.hasNonNull("n") && (!body.get("n").isInt() || body.get("n").asInt() != 1)) {
            throw ApiException.badRequest("n", "only n=1 is supported");
        }
        Integer maxTokens = integer(body, "max_completion_tokens");
        if (maxTokens == null) {
            maxTokens = integer(body, "max_tokens");
        }
        if (maxTokens != null && maxTokens < 1) {
            throw ApiException.badRequest("max_tokens", "max_tokens must be at least 1");
        }
        Float temperature = number(body, "temperature", 0, 2);
        Float topP = number(body, "top_p", 0, 1);
        if (topP != null && topP == 0) {
            throw ApiException.badRequest("top_p", "top_p must be greater than 0");
        }
        Long seed = null;
        if (body.hasNonNull("seed")) {
            if (!body.get("seed").canConvertToLong()) {
                throw ApiException.badRequest("seed", "seed must be an integer");
            }
            seed = body.get("seed").asLong();
        }
        List<String> stop = stops(body.get("stop"));
        boolean stream = body.hasNonNull("stream") && bool(body, "stream");
        JsonNode options = body.get("stream_options");
        boolean includeUsage = options != null && options.isObject() && options.path("include_usage").asBoolean(false);
        var params = new GenerationParams(maxTokens, temperature, topP, null, null, null, seed, stop);
        return new OpenAiRequest(model, messages, text, ids, params, stream, includeUsage);
    }

    private static String content(JsonNode content, String param) {
        if (content != null && content.isTextual()) {
            return content.asText();
        }
        if (content != null && content.isArray()) { // [{"type":"text","text":"..."}, ...]
            StringBuilder text = new StringBuilder();
            for (JsonNode part : content) {
                if (!part.path("type").asText().equals("text") || !part.path("text").isTextual()) {
                    throw ApiException.badRequest(param, "only text content parts are supported");
                }
                text.append(part.get("text").asText());
            }
            return text.toString();
        }
        throw ApiException.badRequest(param, param + " must be a string or an array of text parts");
    }

    private static List<String> stops(JsonNode stop) {
        if (stop == null || stop.isNull()) {
            return null;
        }
        List<String> stops = new ArrayList<>();
        if (stop.isTextual()) {
            stops.add(stop.asText());
        } else if (stop.isArray()) {
            stop.forEach(s -> stops.add(s.isTextual() ? s.asText() : null));
        }
        if (stops.isEmpty() || stops.size() > 4 || stops.stream().anyMatch(s -> s == null || s.isEmpty()
                || s.length() > 64)) {
            throw ApiException.badRequest("stop", "stop must be a string or up to 4 non-empty strings of at most 64 "
                    + "characters");
        }
        return stops;
    }

    private static String text(JsonNode node, String field, String param) {
        JsonNode v = node.get(field);
        if (v == null || !v.isTextual() || v.asText().isEmpty()) {
            throw ApiException.badRequest(param, param + " must be a non-empty string");
        }
        return v.asText();
    }

    private static Integer integer(JsonNode body, String field) {
        JsonNode v = body.get(field);
        if (v == null || v.isNull()) {
            return null;
        }
        if (!v.isInt()) {
            throw ApiException.badRequest(field, field + " must be an integer");
        }
        return v.asInt();
    }

    private static Float number(JsonNode body, String field, double min, double max) {
        JsonNode v = body.get(field);
        if (v == null || v.isNull()) {
            return null;
        }
        if (!v.isNumber() || v.asDouble() < min || v.asDouble() > max) {
            throw ApiException.badRequest(field, field + " must be a number from " + min + " to " + max);
        }
        return (float) v.asDouble();
    }

    private static boolean bool(JsonNode body, String field) {
        JsonNode v = body.get(field);
        if (!v.isBoolean()) {
            throw ApiException.badRequest(field, field + " must be true or false");
        }
        return v.asBoolean();
    }
}
