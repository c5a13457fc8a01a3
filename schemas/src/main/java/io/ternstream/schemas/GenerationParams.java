package io.ternstream.schemas;

import com.fasterxml.jackson.annotation.JsonInclude;
import java.util.List;

/** Sampling parameters of a prompt; a null field means "use the service default". */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record GenerationParams(
        Integer maxTokens,
        Float temperature,
        Float topP,
        Integer topK,
        Float minP,
        Float repetitionPenalty,
        Long seed,
        List<String> stop) {

    public static GenerationParams defaults() {
        return new GenerationParams(null, null, null, null, null, null, null, null);
    }

    public GenerationParams {
        stop = stop == null ? null : List.copyOf(stop);
    }
}
