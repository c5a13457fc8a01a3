package io.ternstream.engine.sampling;

import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

class StopMatcherTest {

    @Test
    void stopStringSpanningTokensIsFoundAndNeverEmitted() {
        StopMatcher m = new StopMatcher(List.of("\nUser:"));
        StringBuilder out = new StringBuilder();
        String[] deltas = {"Hello", " there", "\nU", "se", "r:", " more"};
        boolean stopped = false;
        for (String d : deltas) {
            StopMatcher.Result r = m.push(d);
            out.append(r.emit());
            if (r.stopped()) {
                stopped = true;
                break;
            }
        }
        assertTrue(stopped);
        assertEquals("Hello there", out.toString());
    }

    @Test
    void heldBackTextIsReleasedWhenItIsNotAStop() {
        StopMatcher m = new StopMatcher(List.of("END"));
        assertEquals("ab", m.push("abE").emit());
        StopMatcher.Result r = m.push("Nx");
        assertFalse(r.stopped());
        assertEquals("ENx", r.emit());
        assertEquals("", m.push("E").emit());
        assertEquals("E", m.flush());
    }

    @Test
    void earliestOfSeveralStopsWins() {
        StopMatcher m = new StopMatcher(List.of("xyz", "b"));
        StopMatcher.Result r = m.push("aaxyzb");
        assertTrue(r.stopped());
        assertEquals("aa", r.emit());
    }

    @Test
    void noStopsPassesEverythingThrough() {
        StopMatcher m = new StopMatcher(null);
        assertEquals("abc", m.push("abc").emit());
    }
}
