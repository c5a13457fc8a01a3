package io.ternstream.service.gateway;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.ternstream.schemas.CancelCommand;
import io.ternstream.schemas.DeleteCommand;
import io.ternstream.schemas.PromptRequest;
import io.vertx.core.Vertx;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import io.vertx.ext.web.handler.BodyHandler;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import org.jboss.logging.Logger;

/**
 * The OpenAI-compatible HTTP API: {@code GET /v1/models}, {@code POST /v1/completions} and
 * {@code POST /v1/chat/completions}, streaming (SSE) or not. Plain Vert.x routes, so the SSE
 * framing is exactly OpenAI's ({@code data: {...}\n\n} ... {@code data: [DONE]}).
 */
@ApplicationScoped
public class OpenAiRoutes {
    private static final Logger LOG = Logger.getLogger(OpenAiRoutes.class);
    /** Names the session a chat continues (request) or was given (response). */
    public static final String SESSION_HEADER = "X-Ternstream-Session";
    private static final String CALLER = "ternstream.caller";

    private final Gateway gateway;
    private final ApiKeys keys;
    private final RateLimiter limiter;
    private final Vertx vertx;
    private final ObjectMapper json = new ObjectMapper();
    private final ChatTemplate template;
    private final ConversationIndex conversations;
    private final long startedAt = System.currentTimeMillis() / 1000;

    public OpenAiRoutes(Gateway gateway, ApiKeys keys, RateLimiter limiter, Vertx vertx, GatewayConfig config) {
        this.gateway = gateway;
        this.keys = keys;
        this.limiter = limiter;
        this.vertx = vertx;
        this.template = new ChatTemplate(config.chat());
        this.conversations = new ConversationIndex(config.chat().rememberedConversations());
    }

    void register(@Observes Router router) {
        BodyHandler body = BodyHandler.create(false).setBodyLimit(gateway.config().limits().maxMessageBytes());
        router.get("/v1/models").handler(this::guard).handler(this::models).failureHandler(this::failure);
        router.get("/v1/models/:model").handler(this::guard).handler(this::model).failureHandler(this::failure);
        router.post("/v1/completions").handler(body).handler(this::guard).handler(ctx -> generate(ctx, false))
                .failureHandler(this::failure);
        router.post("/v1/chat/completions").handler(body).handler(this::guard).handler(ctx -> generate(ctx, true))
                .failureHandler(this::failure);
    }

    /** Gateway on, key valid, caller under its rate (Vert.x wants the body handler first). */
    private void guard(RoutingContext ctx) {
        if (!gateway.enabled()) {
            throw new ApiException(503, "server_error", "gateway_disabled", null, "this instance runs no gateway");
        }
        Optional<String> caller = keys.authenticate(ApiKeys.fromAuthorization(ctx.request().getHeader("Authorization")));
        if (caller.isEmpty()) {
            throw new ApiException(401, "invalid_request_error", "invalid_api_key", null,
                    "a valid API key is required (Authorization: Bearer KEY)");
        }
        if (!limiter.tryAcquire(caller.get())) {
            throw new ApiException(429, "requests", "rate_limit_exceeded", null,
                    "too many requests for this API key; slow down");
        }
        ctx.put(CALLER, caller.get());
        ctx.next();
    }

    private void models(RoutingContext ctx) {
        ObjectNode list = json.createObjectNode();
        list.put("object", "list");
        list.putArray("data").add(modelNode());
        ctx.response().putHeader("Content-Type", "application/json").end(list.toString());
    }

    private void model(RoutingContext ctx) {
        if (!ctx.pathParam("model").equals(gateway.modelName())) {
            throw unknownModel(ctx.pathParam("model"));
        }
        ctx.response().putHeader("Content-Type", "application/json").end(modelNode().toString());
    }

    private ObjectNode modelNode() {
        ObjectNode model = json.createObjectNode();
        model.put("id", gateway.modelName());
        model.put("object", "model");
        model.put("created", startedAt);
        model.put("owned_by", "ternstream");
        return model;
    }

    private void generate(RoutingContext ctx, boolean chat) {
        JsonNode body;
        try {
            body = json.readTree(utf8(ctx.body().buffer() == null ? new byte[0] : ctx.body().buffer().getBytes()));
        } catch (IOException e) {
            throw new ApiException(400, "invalid_request_error", "invalid_json", null, "the body is not valid JSON");
        }
        if (body == null || !body.isObject()) {
            throw new ApiException(400, "invalid_request_error", "invalid_json", null, "the body must be a JSON object");
        }
        OpenAiRequest request = chat ? OpenAiRequest.chat(body) : OpenAiRequest.completion(body);
        if (!request.model().equals(gateway.modelName())) {
            throw unknownModel(request.model());
        }
        String caller = ctx.get(CALLER);
        CompletableFuture<Target> target = chat ? chatTarget(ctx, caller, request)
                : CompletableFuture.completedFuture(new Target(Ids.random("cmpl-"), request.promptText(),
                        request.promptTokens(), true));
        target.thenCompose(t -> start(ctx, chat, caller, request, t)).exceptionally(e -> {
            Throwable cause = e instanceof CompletionException && e.getCause() != null ? e.getCause() : e;
            OpenAiErrors.send(json, ctx.response(), cause instanceof ApiException api ? api
                    : new ApiException(503, "server_error", "unavailable", null, "the service cannot take the "
                            + "request now: " + cause.getMessage()));
            return null;
        });
    }

    /** Strictly decoded: Jackson reads overlong forms (0xC0 0xAF for '/') as characters, the JDK's decoder refuses them. */
    private static String utf8(byte[] bytes) throws CharacterCodingException {
        return StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                .onUnmappableCharacter(CodingErrorAction.REPORT).decode(ByteBuffer.wrap(bytes)).toString();
    }

    /** Where a chat request goes: the session and what it must be sent. */
    private record Target(String sessionId, String text, List<Integer> tokenIds, boolean ephemeral) {}

    private CompletableFuture<Target> chatTarget(RoutingContext ctx, String caller, OpenAiRequest request) {
        List<ChatTemplate.Message> messages = request.messages();
        int lastAssistant = -1;
        for (int i = 0; i < messages.size(); i++) {
            if (messages.get(i).role().equals("assistant")) {
                lastAssistant = i;
            }
        }
        List<ChatTemplate.Message> newMessages = messages.subList(lastAssistant + 1, messages.size());
        String named = ctx.request().getHeader(SESSION_HEADER);
        if (named != null) {
            if (!Ids.valid(named)) {
                throw ApiException.badRequest(SESSION_HEADER, SESSION_HEADER + " is not a valid session id");
            }
            return gateway.owners().claim(named, caller).thenApply(claim -> {
                if (!claim.granted()) {
                    throw forbidden(named);
                }
                return new Target(named, claim.created() ? template.full(messages) : template.continuation(newMessages),
                        null, false);
            });
        }
        Optional<String> known = lastAssistant < 0 ? Optional.empty()
                : conversations.take(caller, request.model(), messages.subList(0, lastAssistant + 1));
        if (known.isPresent() && gateway.owners().owner(known.get()).map(caller::equals).orElse(false)) {
            return CompletableFuture.completedFuture(new Target(known.get(), template.continuation(newMessages), null,
                    false));
        }
        String fresh = Ids.random("chat-");
        return gateway.owners().claim(fresh, caller).thenApply(claim -> {
            if (!claim.granted()) {
                throw forbidden(fresh);
            }
            return new Target(fresh, template.full(messages), null, false);
        });
    }

    private CompletableFuture<Void> start(RoutingContext ctx, boolean chat, String caller, OpenAiRequest request,
                                          Target target) {
        String requestId = Ids.random("r");
        var prompt = new PromptRequest(target.sessionId(), requestId, target.text(), target.tokenIds(),
                request.params(), gateway.replyTopic());
        PromptLimits.check(gateway, prompt).ifPresent(refusal -> {
            throw new ApiException(refusal.status(), "invalid_request_error", refusal.code(),
                    refusal.code().equals("context_length_exceeded") ? "messages" : "max_tokens", refusal.message());
        });
        ReplyHub hub = gateway.hub();
        HttpTurn[] holder = new HttpTurn[1];
        long[] timer = new long[1];
        HttpTurn turn = new HttpTurn(json, ctx.response(), requestId, gateway.modelName(), chat, request, reply -> {
            hub.detach(target.sessionId(), holder[0]);
            vertx.cancelTimer(timer[0]);
            if (chat && reply != null) {
                List<ChatTemplate.Message> conversation = new ArrayList<>(request.messages());
                conversation.add(new ChatTemplate.Message("assistant", reply));
                conversations.remember(caller, request.model(), conversation, target.sessionId());
            }
            if (target.ephemeral()) { // a completion's session is not reused: drop its state now
                gateway.send(new DeleteCommand(target.sessionId(), Ids.random("del-")));
            }
        });
        holder[0] = turn;
        if (chat) {
            ctx.response().putHeader(SESSION_HEADER, target.sessionId());
        }
        hub.attach(target.sessionId(), turn, null); // listen before sending: no event can be missed
        timer[0] = vertx.setTimer(gateway.config().requestTimeout().toMillis(), id -> {
            if (!turn.finished()) {
                cancel(target.sessionId(), requestId);
                turn.failed(new ApiException(504, "server_error", "timeout", null, "no complete answer within "
                        + gateway.config().requestTimeout()));
            }
        });
        ctx.response().closeHandler(v -> {
            if (!turn.finished()) { // the client hung up mid-generation: stop spending tokens on it
                turn.abandoned();
                cancel(target.sessionId(), requestId);
            }
        });
        return gateway.send(prompt).handle((sent, error) -> {
            if (error != null) {
                LOG.warnf("gateway: prompt %s not sent: %s", requestId, error.getMessage());
                turn.failed(new ApiException(503, "server_error", "unavailable", null,
                        "Kafka did not take the prompt: " + error.getMessage()));
            }
            return null;
        });
    }

    private void cancel(String sessionId, String requestId) {
        try {
            gateway.send(new CancelCommand(sessionId, Ids.random("cancel-"), requestId));
        } catch (RuntimeException e) { // shutting down: connections closed by the shutdown need no cancel
            LOG.debugf("cancel of %s not sent: %s", requestId, e.getMessage());
        }
    }

    private void failure(RoutingContext ctx) {
        Throwable failure = ctx.failure();
        ApiException error;
        if (failure instanceof ApiException api) {
            error = api;
        } else if (ctx.statusCode() == 413) {
            error = new ApiException(413, "invalid_request_error", "message_too_large", null,
                    "the request body exceeds " + gateway.config().limits().maxMessageBytes() + " bytes");
        } else if (ctx.statusCode() >= 400 && ctx.statusCode() < 500) {
            error = new ApiException(ctx.statusCode(), "invalid_request_error", "bad_request", null,
                    failure == null ? "bad request" : failure.getMessage());
        } else {
            LOG.error("gateway: request failed", failure);
            error = new ApiException(500, "server_error", "internal", null, "internal error");
        }
        OpenAiErrors.send(json, ctx.response(), error);
    }

    private static ApiException unknownModel(String model) {
        return new ApiException(404, "invalid_request_error", "model_not_found", "model",
                "the model '" + model + "' does not exist");
    }

    private static ApiException forbidden(String sessionId) {
        return new ApiException(403, "permission_error", "forbidden", SESSION_HEADER,
                "session '" + sessionId + "' belongs to another API key");
    }
}
