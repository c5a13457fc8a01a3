package io.ternstream.service.gateway;

import com.fasterxml.jackson.annotation.JsonSubTypes;
import io.ternstream.schemas.CancelCommand;
import io.ternstream.schemas.DeleteCommand;
import io.ternstream.schemas.ForkCommand;
import io.ternstream.schemas.PromptRequest;
import io.ternstream.schemas.PromptTopicMessage;
import io.ternstream.schemas.ResetCommand;
import io.ternstream.schemas.SessionImport;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.stream.Collectors;

/**
 * What a client may put on the prompts topic. The prompts topic also carries the engines' own
 * messages ({@code import}, the second half of a fork); a client that could send those would act
 * on sessions it does not hold. So only the client types pass; the session a message acts on must
 * be the connection's; and every other session it names must be the caller's (claimed for it if
 * new). Prompts get this replica's reply topic, whatever the client asked for.
 */
public final class ClientMessagePolicy {
    /** The types clients send; any other type on the prompts topic, present or future, is internal. */
    static final Set<Class<? extends PromptTopicMessage>> CLIENT_TYPES = Set.of(
            PromptRequest.class, CancelCommand.class, ResetCommand.class, ForkCommand.class, DeleteCommand.class);

    private static final Map<Class<?>, String> TYPE_NAMES = Arrays
            .stream(PromptTopicMessage.class.getAnnotation(JsonSubTypes.class).value())
            .collect(Collectors.toUnmodifiableMap(JsonSubTypes.Type::value, JsonSubTypes.Type::name));

    /** What becomes of a client's message. */
    public sealed interface Verdict permits Forward, Refusal {}

    /** Send this (the client's message, prompts re-addressed to this replica). */
    public record Forward(PromptTopicMessage message) implements Verdict {}

    /** Refused before Kafka: the HTTP status the same problem gets on the HTTP API, and a stable code. */
    public record Refusal(String requestId, int status, String code, String message) implements Verdict {}

    /**
     * A field of a message that names a session. own: the session the message acts on, which must
     * be the connection's; otherwise a session the message reaches into, which must be the caller's.
     */
    record NamedSession(String field, String sessionId, boolean own) {}

    private final SessionOwners owners;
    private final String replyTopic;

    public ClientMessagePolicy(SessionOwners owners, String replyTopic) {
        this.owners = owners;
        this.replyTopic = replyTopic;
    }

    /** True for the types clients may send; the gateway produces nothing else to the prompts topic. */
    public static boolean isClientType(PromptTopicMessage message) {
        return CLIENT_TYPES.contains(message.getClass());
    }

    /**
     * Decides a message a caller sent on the connection of pathSessionId. Completes once the
     * ownership of every other session it names is known (a claim may have to be read back from
     * the owners topic first).
     */
    public CompletableFuture<Verdict> check(String pathSessionId, String caller, PromptTopicMessage message) {
        if (!isClientType(message)) {
            return done(new Refusal(message.requestId(), 400, "internal_type", "type '" + typeName(message)
                    + "' is internal to the engines; clients send prompt, cancel, reset, fork or delete"));
        }
        List<NamedSession> others = new ArrayList<>();
        for (NamedSession named : sessionsNamedBy(message)) {
            if (!named.own()) {
                others.add(named);
            } else if (!named.sessionId().equals(pathSessionId)) {
                return done(new Refusal(message.requestId(), 400, "session_mismatch", named.field() + " '"
                        + named.sessionId() + "' is not this connection's session '" + pathSessionId + "'"));
            }
        }
        CompletableFuture<Verdict> verdict = done(new Forward(readdressed(message)));
        for (NamedSession named : others) {
            verdict = verdict.thenCompose(previous -> previous instanceof Refusal ? done(previous)
                    : owners.claim(named.sessionId(), caller).thenApply(claim -> claim.granted() ? previous
                            : new Refusal(message.requestId(), 403, "forbidden", named.field() + " '"
                                    + named.sessionId() + "' belongs to another API key")));
        }
        return verdict.exceptionally(e -> new Refusal(message.requestId(), 503, "unavailable",
                "the session owners topic did not take the claim: " + e.getMessage()));
    }

    /** Every field of every message type that names a session; a new type must say what its fields are. */
    static List<NamedSession> sessionsNamedBy(PromptTopicMessage message) {
        NamedSession own = new NamedSession("sessionId", message.sessionId(), true);
        return switch (message) {
            case PromptRequest p -> List.of(own);
            case CancelCommand c -> List.of(own);
            case ResetCommand r -> List.of(own);
            case DeleteCommand d -> List.of(own);
            case ForkCommand f -> List.of(own, new NamedSession("targetSessionId", f.targetSessionId(), false));
            // the engine acknowledges an import to its source session: that stream is acted on too
            case SessionImport i -> List.of(own, new NamedSession("sourceSessionId", i.sourceSessionId(), true));
        };
    }

    static String typeName(PromptTopicMessage message) {
        return TYPE_NAMES.getOrDefault(message.getClass(), message.getClass().getSimpleName());
    }

    private PromptTopicMessage readdressed(PromptTopicMessage message) {
        if (message instanceof PromptRequest p) {
            return new PromptRequest(p.sessionId(), p.requestId(), p.text(), p.tokenIds(), p.params(), replyTopic);
        }
        return message;
    }

    private static CompletableFuture<Verdict> done(Verdict verdict) {
        return CompletableFuture.completedFuture(verdict);
    }
}
