package io.ternstream.service.gateway;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.ternstream.schemas.CancelCommand;
import io.ternstream.schemas.DeleteCommand;
import io.ternstream.schemas.ForkCommand;
import io.ternstream.schemas.MessageCodec;
import io.ternstream.schemas.PromptRequest;
import io.ternstream.schemas.PromptTopicMessage;
import io.ternstream.schemas.ResetCommand;
import io.ternstream.schemas.SessionImport;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Test;

/** The rule of what clients may send, with the owners topic replaced by one that applies claims at once. */
class ClientMessagePolicyTest {
    static final String REPLIES = "ternstream.replies.gw-test";
    /** The message a user sent to reach another session's stream (the engine acknowledged it to the victim). */
    static final String INJECTED_IMPORT = """
            {"type":"import","sessionId":"mallory-1","requestId":"x1","sourceSessionId":"victim-1",\
            "fingerprint":"9f2c","state":"AAECAwQ=","turnCount":3}""";

    final SessionOwners owners = loopbackOwners();
    final ClientMessagePolicy policy = new ClientMessagePolicy(owners, REPLIES);
    final MessageCodec codec = new MessageCodec();

    static SessionOwners loopbackOwners() {
        SessionOwners[] holder = new SessionOwners[1];
        holder[0] = new SessionOwners((session, owner) -> {
            holder[0].apply(session, owner);
            return CompletableFuture.completedFuture(null);
        });
        holder[0].markCaughtUp();
        return holder[0];
    }

    ClientMessagePolicy.Verdict check(String path, String caller, PromptTopicMessage message) {
        return policy.check(path, caller, message).join();
    }

    PromptTopicMessage decode(String json) throws Exception {
        return codec.decodePromptTopic(json.getBytes(StandardCharsets.UTF_8));
    }

    @Test
    void theInjectedImportIsRefusedWithoutApiKeys() throws Exception {
        owners.claim("victim-1", ApiKeys.ANONYMOUS).join();
        var verdict = check("mallory-1", ApiKeys.ANONYMOUS, decode(INJECTED_IMPORT));
        var refusal = assertInstanceOf(ClientMessagePolicy.Refusal.class, verdict);
        assertEquals(400, refusal.status());
        assertEquals("internal_type", refusal.code());
        assertEquals("x1", refusal.requestId());
        assertTrue(refusal.message().contains("'import'"), refusal.message());
    }

    @Test
    void theInjectedImportIsRefusedWithApiKeys() throws Exception {
        owners.claim("victim-1", "key-alice").join();
        owners.claim("mallory-1", "key-mallory").join();
        var verdict = check("mallory-1", "key-mallory", decode(INJECTED_IMPORT));
        assertEquals(400, assertInstanceOf(ClientMessagePolicy.Refusal.class, verdict).status());
    }

    @Test
    void everyClientTypePassesAndPromptsAreReaddressedToThisReplica() {
        List<PromptTopicMessage> messages = List.of(
                new PromptRequest("s1", "r1", "hello", null, null, "somewhere.else"),
                new CancelCommand("s1", "r2", "r1"),
                new ResetCommand("s1", "r3"),
                new ForkCommand("s1", "r4", "s2"),
                new DeleteCommand("s1", "r5"));
        for (PromptTopicMessage message : messages) {
            var forward = assertInstanceOf(ClientMessagePolicy.Forward.class, check("s1", "key-a", message));
            if (message instanceof PromptRequest) {
                assertEquals(REPLIES, ((PromptRequest) forward.message()).replyTo());
            } else {
                assertEquals(message, forward.message());
            }
        }
    }

    @Test
    void aMessageForAnotherSessionThanThePathIsRefused() {
        var refusal = assertInstanceOf(ClientMessagePolicy.Refusal.class,
                check("s1", "key-a", new ResetCommand("victim-1", "r1")));
        assertEquals(400, refusal.status());
        assertEquals("session_mismatch", refusal.code());
    }

    @Test
    void aForkIntoAnotherKeysSessionIsRefusedAndANewTargetIsClaimed() {
        owners.claim("victim-1", "key-alice").join();
        var refusal = assertInstanceOf(ClientMessagePolicy.Refusal.class,
                check("s1", "key-mallory", new ForkCommand("s1", "f1", "victim-1")));
        assertEquals(403, refusal.status());
        assertTrue(refusal.message().contains("targetSessionId"), refusal.message());

        assertInstanceOf(ClientMessagePolicy.Forward.class,
                check("s1", "key-mallory", new ForkCommand("s1", "f2", "copy-1")));
        assertEquals("key-mallory", owners.owner("copy-1").orElseThrow(), "the new target now belongs to the caller");
    }

    @Test
    void withoutApiKeysEverySessionIsTheAnonymousCallers() {
        owners.claim("other", ApiKeys.ANONYMOUS).join();
        assertInstanceOf(ClientMessagePolicy.Forward.class,
                check("s1", ApiKeys.ANONYMOUS, new ForkCommand("s1", "f1", "other")));
    }

    @Test
    void aClaimThatCannotBeWrittenIsRefusedAs503() {
        SessionOwners down = new SessionOwners((session, owner) ->
                CompletableFuture.failedFuture(new IllegalStateException("broker unreachable")));
        down.markCaughtUp();
        var verdict = new ClientMessagePolicy(down, REPLIES)
                .check("s1", "key-a", new ForkCommand("s1", "f1", "s2")).join();
        var refusal = assertInstanceOf(ClientMessagePolicy.Refusal.class, verdict);
        assertEquals(503, refusal.status());
        assertTrue(refusal.message().contains("broker unreachable"), refusal.message());
    }

    /** A type added to the prompts topic is internal until it is added to the client types on purpose. */
    @Test
    void onlyTheFiveClientTypesAreClientTypes() {
        List<String> clientTypes = Arrays.stream(PromptTopicMessage.class.getPermittedSubclasses())
                .filter(ClientMessagePolicy.CLIENT_TYPES::contains).map(Class::getSimpleName).sorted().toList();
        assertEquals(List.of("CancelCommand", "DeleteCommand", "ForkCommand", "PromptRequest", "ResetCommand"),
                clientTypes);
        assertFalse(ClientMessagePolicy.isClientType(
                new SessionImport("s1", "r1", "s0", "fp", new byte[0], 0)));
        assertEquals("import", ClientMessagePolicy.typeName(new SessionImport("s1", "r1", "s0", "fp", new byte[0], 0)));
    }

    @Test
    void everySessionFieldIsNamed() {
        var fork = ClientMessagePolicy.sessionsNamedBy(new ForkCommand("s1", "f1", "s2"));
        assertEquals(List.of("sessionId", "targetSessionId"),
                fork.stream().map(ClientMessagePolicy.NamedSession::field).toList());
        var imported = ClientMessagePolicy.sessionsNamedBy(new SessionImport("s1", "r1", "s0", "fp", new byte[0], 0));
        assertEquals(List.of("sessionId", "sourceSessionId"),
                imported.stream().map(ClientMessagePolicy.NamedSession::field).toList());
    }
}
