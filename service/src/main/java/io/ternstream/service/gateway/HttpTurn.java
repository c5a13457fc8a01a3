package io.ternstream.service.gateway;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.ternstream.schemas.ErrorEvent;
import io.ternstream.schemas.FinishReason;
import io.ternstream.schemas.TokenEvent;
import io.ternstream.schemas.TurnCompleteEvent;
import io.ternstream.schemas.Usage;
import io.vertx.core.http.HttpServerResponse;
import java.util.function.Consumer;

/**
 * One OpenAI request in flight: turns the session's reply events for its requestId into either an
 * SSE stream of chunks ending in {@code data: [DONE]}, or one JSON response. The status is chosen
 * when the first event arrives, so a request the engine rejects still gets a 4xx, not a 200 stream
 * with an error inside. Called from the reply consumer, a timer and the HTTP connection: synchronized.
 */
final class HttpTurn implements ReplyHub.Listener {
    /** What happens once the turn is over: the assistant's text, or null when it did not complete. */
    interface Done extends Consumer<String> {}

    private final ObjectMapper json;
    private final HttpServerResponse response;
    private final String id;
    private final String requestId;
    private final String model;
    private final boolean chat;
    private final boolean stream;
    private final boolean includeUsage;
    private final long created = System.currentTimeMillis() / 1000;
    private final StringBuilder text = new StringBuilder();
    private final Done done;
    private boolean headersSent;
    private boolean finished;

    HttpTurn(ObjectMapper json, HttpServerResponse response, String requestId, String model, boolean chat,
             OpenAiRequest request, Done done) {
        this.json = json;
        this.response = response;
        this.id = (chat ? "chatcmpl-" : "cmpl-") + requestId;
        this.requestId = requestId;
        this.model = model;
        this.chat = chat;
        this.stream = request.stream();
        this.includeUsage = request.includeUsage();
        this.done = done;
    }

    String requestId() {
        return requestId;
    }

    synchronized boolean finished() {
        return finished;
    }

    @Override
    public synchronized void onReply(Reply reply) {
        if (finished || !reply.event().requestId().equals(requestId)) {
            return;
        }
        switch (reply.event()) {
            case TokenEvent t -> delta(t.text());
            case TurnCompleteEvent c -> complete(c);
            case ErrorEvent e -> failed(OpenAiErrors.fromEngine(e));
            default -> { } // acknowledgements of commands are not ours
        }
    }

    private void delta(String piece) {
        if (piece == null || piece.isEmpty()) {
            return;
        }
        text.append(piece);
        if (stream) {
            startStream();
            sendChunk(piece, null);
        }
    }

    private void complete(TurnCompleteEvent c) {
        if (c.text() != null) {
            delta(c.text());
        }
        String reason = c.finishReason() == FinishReason.LENGTH ? "length" : "stop";
        Usage usage = c.usage();
        if (stream) {
            startStream();
            sendChunk(null, reason);
            if (includeUsage) {
                ObjectNode chunk = envelope(chat ? "chat.completion.chunk" : "text_completion");
                chunk.putArray("choices");
                chunk.set("usage", usage(usage));
                response.write("data: " + chunk + "\n\n");
            }
            response.end("data: [DONE]\n\n");
        } else {
            ObjectNode body = envelope(chat ? "chat.completion" : "text_completion");
            ObjectNode choice = body.putArray("choices").addObject();
            choice.put("index", 0);
            if (chat) {
                choice.putObject("message").put("role", "assistant").put("content", text.toString());
            } else {
                choice.put("text", text.toString());
                choice.putNull("logprobs");
            }
            choice.put("finish_reason", reason);
            body.set("usage", usage(usage));
            response.putHeader("Content-Type", "application/json").end(body.toString());
        }
        finish(c.finishReason() == FinishReason.STOP || c.finishReason() == FinishReason.LENGTH
                ? text.toString() : null);
    }

    /** The engine refused the turn, or it timed out: an error status, or an error chunk once streaming. */
    synchronized void failed(ApiException error) {
        if (finished) {
            return;
        }
        if (headersSent) {
            ObjectNode chunk = json.createObjectNode();
            chunk.set("error", OpenAiErrors.body(json, error).get("error"));
            response.write("data: " + chunk + "\n\n");
            response.end("data: [DONE]\n\n");
        } else {
            OpenAiErrors.send(json, response, error);
        }
        finish(null);
    }

    /** The client went away: nothing more to write. */
    synchronized void abandoned() {
        finish(null);
    }

    private void finish(String assistantText) {
        finished = true;
        done.accept(assistantText);
    }

    private void startStream() {
        if (headersSent) {
            return;
        }
        headersSent = true;
        response.setChunked(true)
                .putHeader("Content-Type", "text/event-stream")
                .putHeader("Cache-Control", "no-cache")
                .putHeader("X-Accel-Buffering", "no"); // proxies must not hold tokens back
        if (chat) { // OpenAI's first chunk announces the role
            ObjectNode chunk = envelope("chat.completion.chunk");
            ObjectNode choice = chunk.putArray("choices").addObject();
            choice.put("index", 0);
            choice.putObject("delta").put("role", "assistant").put("content", "");
            choice.putNull("finish_reason");
            response.write("data: " + chunk + "\n\n");
        }
    }

    private void sendChunk(String piece, String finishReason) {
        ObjectNode chunk = envelope(chat ? "chat.completion.chunk" : "text_completion");
        ArrayNode choices = chunk.putArray("choices");
        ObjectNode choice = choices.addObject();
        choice.put("index", 0);
        if (chat) {
            ObjectNode delta = choice.putObject("delta");
            if (piece != null) {
                delta.put("content", piece);
            }
        } else {
            choice.put("text", piece == null ? "" : piece);
            choice.putNull("logprobs");
        }
        if (finishReason == null) {
            choice.putNull("finish_reason");
        } else {
            choice.put("finish_reason", finishReason);
        }
        response.write("data: " + chunk + "\n\n");
    }

    private ObjectNode envelope(String object) {
        ObjectNode node = json.createObjectNode();
        node.put("id", id);
        node.put("object", object);
        node.put("created", created);
        node.put("model", model);
        return node;
    }

    private ObjectNode usage(Usage usage) {
        ObjectNode node = json.createObjectNode();
        int prompt = usage == null ? 0 : usage.promptTokens();
        int completion = usage == null ? 0 : usage.completionTokens();
        node.put("prompt_tokens", prompt);
        node.put("completion_tokens", completion);
        node.put("total_tokens", prompt + completion);
        return node;
    }
}
