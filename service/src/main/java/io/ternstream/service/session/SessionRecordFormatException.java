package io.ternstream.service.session;

/** A session-store value that cannot be read: truncated, corrupt, or of another format. */
public final class SessionRecordFormatException extends Exception {
    public SessionRecordFormatException(String message) {
        super(message);
    }
}
