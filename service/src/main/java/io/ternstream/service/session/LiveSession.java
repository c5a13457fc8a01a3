package io.ternstream.service.session;

import io.ternstream.engine.state.SessionState;
import java.util.ArrayDeque;
import java.util.HashSet;
import java.util.Set;

/**
 * A session while it has work: its stored record, its live state during turns, and its queue of
 * work in offset order. It leaves memory once idle and its last save is written, so memory holds
 * the sessions with work, not every session ever seen. Engine-thread confined.
 */
final class LiveSession {
    final String id;
    final int partition;
    /** The record as last saved (or as loaded); its state is current whenever {@link #state} is null. */
    SessionRecord record;
    /** The live state while a turn runs. */
    SessionState state;
    /** Set when the stored record could not be used: the next prompt is told instead of silently starting empty. */
    String lostReason;
    final ArrayDeque<Work> queue = new ArrayDeque<>();
    /** requestIds of queued prompts cancelled before they started. */
    final Set<String> cancelledQueued = new HashSet<>();
    Turn running;
    /** Saves handed to the store and not yet confirmed written. */
    int unwrittenSaves;

    LiveSession(String id, int partition, SessionRecord record) {
        this.id = id;
        this.partition = partition;
        this.record = record;
    }

    boolean busy() {
        return running != null || !queue.isEmpty();
    }

    boolean evictable() {
        return !busy() && unwrittenSaves == 0;
    }

    /** A request of this session that is running or queued ahead. */
    boolean inFlight(String requestId) {
        if (running != null && running.request.requestId().equals(requestId)) {
            return true;
        }
        for (Work w : queue) {
            if (w.requestId().equals(requestId)) {
                return true;
            }
        }
        return false;
    }

}
