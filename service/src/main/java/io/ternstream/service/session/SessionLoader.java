package io.ternstream.service.session;

/**
 * Brings a session into memory from its stored value. A value that cannot be read, or that another
 * model wrote, is not used: the session starts empty but marked lost, so its next prompt is told.
 */
final class SessionLoader {
    private final SessionRecordCodec codec;
    private final String fingerprint;

    SessionLoader(SessionRecordCodec codec, String fingerprint) {
        this.codec = codec;
        this.fingerprint = fingerprint;
    }

    LiveSession load(String sessionId, int partition, byte[] stored, long nowMillis) {
        if (stored == null) {
            return new LiveSession(sessionId, partition, SessionRecord.empty(sessionId, fingerprint, nowMillis));
        }
        String lost;
        try {
            SessionRecord record = codec.decode(stored);
            if (!record.sessionId().equals(sessionId)) {
                lost = "the stored record belongs to session '" + record.sessionId() + "'";
            } else if (!record.fingerprint().equals(fingerprint)) {
                lost = "the stored state was made by another model (" + record.fingerprint() + ")";
            } else {
                return new LiveSession(sessionId, partition, record);
            }
        } catch (SessionRecordFormatException e) {
            lost = "the stored record is unreadable: " + e.getMessage();
        }
        LiveSession session = new LiveSession(sessionId, partition, SessionRecord.empty(sessionId, fingerprint, nowMillis));
        session.lostReason = lost;
        return session;
    }
}
