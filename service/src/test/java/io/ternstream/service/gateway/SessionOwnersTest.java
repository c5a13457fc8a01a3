package io.ternstream.service.gateway;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Test;

/** The owners table with the topic replaced by a list the test replays in log order. */
class SessionOwnersTest {
    record Written(String sessionId, String owner) {}

    final List<Written> log = new ArrayList<>();
    final SessionOwners owners = new SessionOwners((session, owner) -> {
        log.add(new Written(session, owner));
        return CompletableFuture.completedFuture(null);
    });

    void replay() {
        List<Written> copy = List.copyOf(log);
        log.clear();
        copy.forEach(w -> owners.apply(w.sessionId(), w.owner()));
    }

    @Test
    void claimsWaitUntilTheTableIsLoaded() {
        var claim = owners.claim("s", "alice");
        assertFalse(claim.isDone());
        owners.markCaughtUp();
        replay();
        assertEquals(new SessionOwners.Claim(true, true), claim.join());
        assertEquals(new SessionOwners.Claim(true, false), owners.claim("s", "alice").join());
        assertEquals(new SessionOwners.Claim(false, false), owners.claim("s", "bob").join());
    }

    @Test
    void firstClaimInTheLogWinsAndTheLoserReassertsTheWinner() {
        owners.markCaughtUp();
        var bob = owners.claim("s", "bob");
        owners.apply("s", "alice"); // another replica's claim landed first
        replay(); // then ours
        assertFalse(bob.join().granted());
        assertEquals("alice", owners.owner("s").orElseThrow());
        assertEquals(List.of(new Written("s", "alice")), log, "compaction must keep the winner");
    }

    @Test
    void releaseForgetsTheSession() {
        owners.markCaughtUp();
        owners.claim("s", "alice");
        replay();
        owners.release("s");
        replay();
        assertTrue(owners.owner("s").isEmpty());
        assertFalse(owners.claim("s", "bob").isDone(), "a new claim waits for its record to come back");
    }
}
