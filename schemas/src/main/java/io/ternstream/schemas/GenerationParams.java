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
        // the schema's exclusive minimum once more, after narrowing to float: 1e-50 is above 0 as a
        // JSON number but arrives as 0, which the sampler cannot use
        positive(topP, "topP");
        positive(repetitionPenalty, "repetitionPenalty");
        stop = stop == null ? null : List.copyOf(stop);
    }

    private static void positive(Float value, String name) {
        if (value != null && !(value > 0)) {
            throw new IllegalArgumentException(name + " must be greater than 0 as a float, got " + value);
        }
    }
}
