package io.ternstream.engine.sampling;

import java.util.List;

/**
 * Finds stop strings in streamed text, also when one spans several tokens. Text that could be the
 * beginning of a stop string is held back until it is known not to be one, so a client never sees
 * part of a stop string.
 */
public final class StopMatcher {

    /** What to send now, and whether generation must end (the stop string itself is not emitted). */
    public record Result(String emit, boolean stopped) {}

    private final List<String> stops;
    private final StringBuilder pending = new StringBuilder();
    private boolean stopped;

    public StopMatcher(List<String> stops) {
        this.stops = stops == null ? List.of() : stops.stream().filter(s -> s != null && !s.isEmpty()).toList();
    }

    public Result push(String delta) {
        if (stopped) return new Result("", true);
        pending.append(delta);
        int earliest = -1;
        for (String s : stops) {
            int at = pending.indexOf(s);
            if (at >= 0 && (earliest < 0 || at < earliest)) earliest = at;
        }
        if (earliest >= 0) {
            stopped = true;
            String emit = pending.substring(0, earliest);
            pending.setLength(0);
            return new Result(emit, true);
        }
        int hold = longestSuffixThatStartsAStop();
        String emit = pending.substring(0, pending.length() - hold);
        pending.delete(0, pending.length() - hold);
        return new Result(emit, false);
    }

    /** Text held back at the end of generation (it did not become a stop string). */
    public String flush() {
        String rest = stopped ? "" : pending.toString();
        pending.setLength(0);
        return rest;
    }

    private int longestSuffixThatStartsAStop() {
        int best = 0;
        for (String s : stops) {
            for (int len = Math.min(s.length() - 1, pending.length()); len > best; len--) {
                if (pending.substring(pending.length() - len).equals(s.substring(0, len))) {
                    best = len;
                    break;
                }
            }
        }
        return best;
    }
}
