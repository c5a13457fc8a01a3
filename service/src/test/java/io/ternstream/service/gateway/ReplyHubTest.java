package io.ternstream.service.gateway;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.ternstream.schemas.FinishReason;
import io.ternstream.schemas.TokenEvent;
import io.ternstream.schemas.TurnCompleteEvent;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class ReplyHubTest {
    static Reply token(String session, String request, int seq) {
        return new Reply(new TokenEvent(session, request, seq, "t" + seq, List.of(seq)), request + "/" + seq);
    }

    static Reply complete(String session, String request, int seq) {
        return new Reply(new TurnCompleteEvent(session, request, seq, null, FinishReason.STOP, null), request + "/" + seq);
    }

    static List<String> seen(List<Reply> replies) {
        return replies.stream().map(Reply::json).toList();
    }

    @Test
    void untrackedSessionsAreIgnoredAndDuplicatesDropped() {
        var hub = new ReplyHub(100);
        assertFalse(hub.accept(token("s", "r", 0)), "not tracked here");
        List<Reply> got = new ArrayList<>();
        hub.attach("s", got::add, null);
        assertTrue(hub.accept(token("s", "r", 0)));
        assertTrue(hub.accept(token("s", "r", 1)));
        // a redelivered turn repeats seq 0 and 1, then continues
        assertFalse(hub.accept(token("s", "r", 0)));
        assertFalse(hub.accept(token("s", "r", 1)));
        assertTrue(hub.accept(complete("s", "r", 2)));
        assertTrue(hub.accept(token("s", "r2", 0)), "another request's seq 0 is new");
        assertEquals(List.of("r/0", "r/1", "r/2", "r2/0"), seen(got));
    }

    @Test
    void resumeReplaysWhatWasMissedThenContinuesLive() {
        var hub = new ReplyHub(100);
        hub.track("s");
        for (int i = 0; i < 5; i++) {
            hub.accept(token("s", "r", i));
        }
        hub.accept(complete("s", "r", 5));
        hub.accept(token("s", "next", 0));
        List<Reply> got = new ArrayList<>();
        assertTrue(hub.attach("s", got::add, new ReplyHub.ResumePoint("r", 2)));
        hub.accept(token("s", "next", 1));
        assertEquals(List.of("r/3", "r/4", "r/5", "next/0", "next/1"), seen(got));
    }

    @Test
    void resumePointNoLongerBufferedIsReported() {
        var hub = new ReplyHub(3);
        hub.track("s");
        for (int i = 0; i < 10; i++) {
            hub.accept(token("s", "old", i));
        }
        for (int i = 0; i < 4; i++) {
            hub.accept(token("s", "new", i));
        }
        List<Reply> got = new ArrayList<>();
        assertFalse(hub.attach("s", got::add, new ReplyHub.ResumePoint("gone", 3)), "never seen");
        assertEquals(List.of(), seen(got));
        List<Reply> up = new ArrayList<>();
        assertTrue(hub.attach("s", up::add, new ReplyHub.ResumePoint("new", 3)), "up to date");
        assertEquals(List.of(), seen(up));
    }

    @Test
    void backfilledHistoryGoesBeforeLiveEventsWithoutDuplicates() {
        var hub = new ReplyHub(100);
        hub.track("s");
        hub.accept(token("s", "r", 3)); // arrived live while the topic was read back
        hub.accept(token("s", "r", 4));
        // topic order, including a redelivered turn that repeats seq 0 and 1
        hub.backfill("s", List.of(token("s", "r", 0), token("s", "r", 1), token("s", "r", 0), token("s", "r", 1),
                token("s", "r", 2), token("s", "r", 3)));
        List<Reply> got = new ArrayList<>();
        assertTrue(hub.attach("s", got::add, new ReplyHub.ResumePoint("r", 0)));
        assertEquals(List.of("r/1", "r/2", "r/3", "r/4"), seen(got));
        assertFalse(hub.accept(token("s", "r", 2)), "what was backfilled counts as delivered");
    }

    @Test
    void idleSessionsWithoutListenersAreSwept() {
        var hub = new ReplyHub(10);
        hub.track("idle");
        ReplyHub.Listener listener = r -> { };
        hub.attach("busy", listener, null);
        hub.sweep(-1);
        assertFalse(hub.tracks("idle"));
        assertTrue(hub.tracks("busy"));
        hub.detach("busy", listener);
        hub.sweep(-1);
        assertEquals(0, hub.trackedSessions());
    }
}
