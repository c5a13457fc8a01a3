package io.ternstream.service.scheduler;

import io.ternstream.engine.state.SessionState;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import org.apache.kafka.common.TopicPartition;

/**
 * One conversation as this instance holds it. The recurrent state is kept live while the session
 * has work and as bytes while it idles. Scheduler-thread confined.
 */
final class Session {
    static final int RECENT_REQUEST_IDS = 64;

    final String id;
    final TopicPartition partition;
    /** Live state; null when parked as {@link #stateBytes} or when empty. */
    SessionState state;
    /** Serialized state while parked; null with a null state means an empty (fresh) state. */
    byte[] stateBytes;
    long turnCount;
    String lastRequestId;
    /** Prompts-topic offset of the last record applied; a redelivered record at or below it is skipped. */
    long appliedOffset = -1;
    final ArrayDeque<String> recentRequestIds = new ArrayDeque<>();
    long lastActiveMillis;
    boolean deleted;
    final ArrayDeque<Pending> queue = new ArrayDeque<>();
    /** requestIds of queued prompts cancelled before they started. */
    final java.util.Set<String> cancelledQueued = new java.util.HashSet<>();
    Turn running;

    Session(String id, TopicPartition partition, long nowMillis) {
        this.id = id;
        this.partition = partition;
        this.lastActiveMillis = nowMillis;
    }

    boolean busy() {
        return running != null || !queue.isEmpty();
    }

    /** Known to clients: it has taken a turn or holds a state, and is not deleted. */
    boolean exists() {
        return !deleted && (turnCount > 0 || state != null || stateBytes != null);
    }

    boolean emptyState() {
        return state == null && stateBytes == null;
    }

    void rememberRequest(String requestId) {
        recentRequestIds.remove(requestId);
        recentRequestIds.addLast(requestId);
        while (recentRequestIds.size() > RECENT_REQUEST_IDS) {
            recentRequestIds.removeFirst();
        }
        lastRequestId = requestId;
    }

    List<String> recentRequestIdList() {
        return new ArrayList<>(recentRequestIds);
    }
}
