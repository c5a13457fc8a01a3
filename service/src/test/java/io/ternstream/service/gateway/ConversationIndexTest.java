package io.ternstream.service.gateway;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.ternstream.service.gateway.ChatTemplate.Message;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;

class ConversationIndexTest {
    final List<Message> conversation = List.of(new Message("user", "hi"), new Message("assistant", " hello"));

    @Test
    void aHitIsConsumedAndScopedByCallerAndModel() {
        var index = new ConversationIndex(10);
        index.remember("alice", "m", conversation, "s1");
        assertTrue(index.take("bob", "m", conversation).isEmpty());
        assertTrue(index.take("alice", "other", conversation).isEmpty());
        assertEquals(Optional.of("s1"), index.take("alice", "m", conversation));
        assertTrue(index.take("alice", "m", conversation).isEmpty(), "the session has moved on");
    }

    @Test
    void leastRecentlyUsedEntriesGoFirst() {
        var index = new ConversationIndex(2);
        index.remember("a", "m", List.of(new Message("user", "1")), "s1");
        index.remember("a", "m", List.of(new Message("user", "2")), "s2");
        index.remember("a", "m", List.of(new Message("user", "3")), "s3");
        assertTrue(index.take("a", "m", List.of(new Message("user", "1"))).isEmpty());
        assertEquals(Optional.of("s3"), index.take("a", "m", List.of(new Message("user", "3"))));
    }

    @Test
    void fieldBoundariesMatter() {
        assertNotEquals(ConversationIndex.hash("a", "m", List.of(new Message("user", "ab"), new Message("user", "c"))),
                ConversationIndex.hash("a", "m", List.of(new Message("user", "a"), new Message("user", "bc"))));
    }
}
