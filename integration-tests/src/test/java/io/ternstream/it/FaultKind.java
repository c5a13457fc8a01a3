package io.ternstream.it;

/** The faults of the soak, in the order they rotate. */
enum FaultKind {
    KILL_9("kill -9 of an engine"),
    SIGTERM("SIGTERM of an engine"),
    BROKER_RESTART("broker restart"),
    NETWORK_STALL("engine-broker network stall"),
    PAUSE("engine SIGSTOP past the session timeout");

    final String description;

    FaultKind(String description) {
        this.description = description;
    }

    static FaultKind rotation(int number) {
        return values()[number % values().length];
    }
}
