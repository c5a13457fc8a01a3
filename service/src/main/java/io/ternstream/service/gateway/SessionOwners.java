package io.ternstream.service.gateway;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.BiFunction;

/**
 * Which caller (API key id) created each session, shared by all gateway replicas through a
 * compacted topic that every replica reads in full. A claim is written to the topic and decided
 * when it is read back: the first claim of a session in the log wins, on every replica alike.
 */
public final class SessionOwners {
    /** The outcome of a claim: whether the caller may use the session, and whether it is new. */
    public record Claim(boolean granted, boolean created) {}

    private final Map<String, String> owners = new ConcurrentHashMap<>();
    /** Claims written by this replica and not yet read back, per session. */
    private final Map<String, List<Pending>> pending = new ConcurrentHashMap<>();
    private final CompletableFuture<Void> caughtUp = new CompletableFuture<>();
    /** Writes (sessionId, owner or null for a tombstone) to the topic. */
    private final BiFunction<String, String, CompletableFuture<?>> writer;

    private record Pending(String caller, CompletableFuture<Claim> result) {}

    public SessionOwners(BiFunction<String, String, CompletableFuture<?>> writer) {
        this.writer = writer;
    }

    public Optional<String> owner(String sessionId) {
        return Optional.ofNullable(owners.get(sessionId));
    }

    /** Completes once the topic has been read up to its end offsets at start. */
    public CompletableFuture<Void> ready() {
        return caughtUp;
    }

    void markCaughtUp() {
        caughtUp.complete(null);
    }

    /** Grants the session to the caller if it owns it already or nobody does; never blocks. */
    public CompletableFuture<Claim> claim(String sessionId, String caller) {
        return caughtUp.thenCompose(ignored -> {
            String owner = owners.get(sessionId);
            if (owner != null) {
                return CompletableFuture.completedFuture(new Claim(owner.equals(caller), false));
            }
            CompletableFuture<Claim> result = new CompletableFuture<>();
            pending.compute(sessionId, (id, list) -> {
                List<Pending> l = list == null ? new ArrayList<>() : list;
                l.add(new Pending(caller, result));
                return l;
            });
            writer.apply(sessionId, caller).whenComplete((ok, error) -> {
                if (error != null) {
                    removePending(sessionId, result);
                    result.completeExceptionally(error);
                }
            });
            return result;
        });
    }

    /** Forgets the session everywhere (after a delete). */
    public CompletableFuture<?> release(String sessionId) {
        return writer.apply(sessionId, null);
    }

    /** Applies one record of the owners topic, in offset order (consumer thread). */
    void apply(String sessionId, String owner) {
        if (owner == null) {
            owners.remove(sessionId);
            return;
        }
        String previous = owners.putIfAbsent(sessionId, owner);
        String winner = previous == null ? owner : previous;
        List<Pending> waiting = pending.get(sessionId);
        if (waiting == null) {
            return;
        }
        List<Pending> done = new ArrayList<>();
        for (Pending p : List.copyOf(waiting)) {
            if (p.caller().equals(owner)) { // this is (one of) our claim record(s) coming back
                boolean won = winner.equals(p.caller());
                p.result().complete(new Claim(won, won && previous == null));
                done.add(p);
                if (!won) {
                    // compaction keeps the latest value: re-assert the winner so the log converges to it
                    writer.apply(sessionId, winner);
                }
            }
        }
        done.forEach(p -> removePending(sessionId, p.result()));
    }

    private void removePending(String sessionId, CompletableFuture<Claim> result) {
        pending.computeIfPresent(sessionId, (id, list) -> {
            list.removeIf(p -> p.result() == result);
            return list.isEmpty() ? null : list;
        });
    }
}
