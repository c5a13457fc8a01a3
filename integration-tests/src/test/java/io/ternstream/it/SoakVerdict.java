package io.ternstream.it;

import io.ternstream.schemas.ReplyEvent;
import io.ternstream.schemas.TokenEvent;
import io.ternstream.schemas.TurnCompleteEvent;
import io.ternstream.schemas.Usage;
import io.ternstream.service.session.SessionRecord;
import io.ternstream.service.session.SessionRecordCodec;
import io.ternstream.service.session.SessionRecordFormatException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * What the soak's turns and sessions look like against what they must be: every accepted turn
 * answered once (no repeat at all with exactly-once; identical repeats with at-least-once), every
 * turn's tokens those of a fault-free replay, and every session's stored state bit-identical to the
 * replay's.
 */
final class SoakVerdict {
    private static final int DETAILS_KEPT = 20;

    int turns;
    int lost;
    int failed;
    int resent;
    int duplicates;
    int duplicatesOfSingleSends;
    int differingRepeats;
    int broken;
    int tokenMismatches;
    int sessions;
    int stateMismatches;
    final List<String> details = new ArrayList<>();

    static SoakVerdict of(TurnLedger ledger, List<String> sessions, Map<String, byte[]> storedRecords,
                          FaultFreeReplay replay, boolean exactlyOnce) {
        SoakVerdict v = new SoakVerdict();
        SessionRecordCodec codec = new SessionRecordCodec(Clients.CODEC);
        for (String session : sessions) {
            List<TurnLedger.Entry> entries = ledger.session(session);
            FaultFreeReplay.Session expected = replay.replay(entries.stream().map(e -> e.turn).toList());
            for (int i = 0; i < entries.size(); i++) {
                v.turn(entries.get(i), expected.turns().get(i), exactlyOnce);
            }
            v.session(session, entries.size(), expected.finalState(), storedRecords.get(session), codec);
        }
        return v;
    }

    private void turn(TurnLedger.Entry entry, FaultFreeReplay.Generated expected, boolean exactlyOnce) {
        turns++;
        String id = entry.turn.requestId();
        if (entry.sends.get() > 1) {
            resent++;
        }
        if (!entry.answered()) {
            lost++;
            detail(id + ": accepted, never answered");
            return;
        }
        if (!(entry.answer instanceof TurnCompleteEvent)) {
            failed++;
            detail(id + ": answered with " + entry.answer);
            return;
        }
        Map<Integer, ReplyEvent> bySeq = new TreeMap<>();
        int repeats = 0;
        for (TurnLedger.Arrival a : entry.arrivals()) {
            ReplyEvent first = bySeq.putIfAbsent(a.event().seq(), a.event());
            if (first != null) {
                repeats++;
                if (!withoutTimings(first).equals(withoutTimings(a.event()))) {
                    differingRepeats++;
                    detail(id + " seq " + a.event().seq() + ": a repeat differs: " + first + " / " + a.event());
                }
            }
        }
        duplicates += repeats;
        // a prompt sent again (the first send was refused or unacknowledged) is answered again: that repeat is the client's
        if (entry.sends.get() == 1 && repeats > 0) {
            duplicatesOfSingleSends += repeats;
            if (exactlyOnce) {
                detail(id + ": a read_committed consumer saw " + repeats + " repeated events under exactly-once");
            }
        }
        List<ReplyEvent> answer = List.copyOf(bySeq.values());
        List<Integer> tokens = new ArrayList<>();
        int completes = 0;
        for (int seq = 0; seq < answer.size(); seq++) {
            ReplyEvent e = answer.get(seq);
            if (e.seq() != seq) {
                broken++;
                detail(id + ": events have a gap at seq " + seq + ": " + bySeq.keySet());
                return;
            }
            if (e instanceof TokenEvent t) {
                tokens.addAll(t.tokenIds());
            } else if (e instanceof TurnCompleteEvent) {
                completes++;
            }
        }
        if (completes != 1 || !(answer.getLast() instanceof TurnCompleteEvent done)
                || done.usage().completionTokens() != tokens.size()) {
            broken++;
            detail(id + ": not one complete answer ending the turn: " + answer);
            return;
        }
        if (!tokens.equals(expected.tokens()) || done.finishReason() != expected.finish()) {
            tokenMismatches++;
            detail(id + ": generated " + tokens + " (" + done.finishReason() + "), a fault-free replay "
                    + expected.tokens() + " (" + expected.finish() + ")");
        }
    }

    private void session(String session, int turnCount, byte[] expectedState, byte[] stored, SessionRecordCodec codec) {
        sessions++;
        if (stored == null) {
            stateMismatches++;
            detail(session + ": no record in the session store's changelog");
            return;
        }
        try {
            SessionRecord record = codec.decode(stored);
            if (record.turnCount() != turnCount || !Arrays.equals(record.state(), expectedState)) {
                stateMismatches++;
                detail(session + ": stored state after " + record.turnCount() + " turns differs from the fault-free replay of "
                        + turnCount + " turns");
            }
        } catch (SessionRecordFormatException e) {
            stateMismatches++;
            detail(session + ": unreadable session record: " + e.getMessage());
        }
    }

    private void detail(String problem) {
        if (details.size() < DETAILS_KEPT) {
            details.add(problem);
        }
    }

    boolean clean(boolean exactlyOnce) {
        return lost == 0 && failed == 0 && differingRepeats == 0 && broken == 0 && tokenMismatches == 0
                && stateMismatches == 0 && (!exactlyOnce || duplicatesOfSingleSends == 0);
    }

    /** A replayed turn repeats tokens, text and counts; its measured latencies are its own. */
    static ReplyEvent withoutTimings(ReplyEvent e) {
        if (e instanceof TurnCompleteEvent c && c.usage() != null) {
            Usage u = c.usage();
            return new TurnCompleteEvent(c.sessionId(), c.requestId(), c.seq(), c.text(), c.finishReason(),
                    new Usage(u.promptTokens(), u.completionTokens(), 0, 0));
        }
        return e;
    }
}
