package io.ternstream.it;

import io.ternstream.schemas.GenerationParams;
import io.ternstream.schemas.PromptRequest;
import java.util.List;
import java.util.SplittableRandom;
import java.util.stream.IntStream;

/**
 * One prompt of the fault soak, fully determined by its session and index: token ids, length limit,
 * sampling parameters and an explicit seed. A fault-free replay of a session's turns must sample
 * exactly the tokens the soak saw.
 *
 * @param viaGateway sent through the gateway's WebSocket rather than straight to the prompts topic
 */
record SoakTurn(String session, int index, List<Integer> prompt, GenerationParams params, boolean viaGateway) {
    private static final int FIRST_PLAIN_TOKEN = 3; // after padding, BOS and EOS

    static SoakTurn of(String session, int index, int vocabSize, boolean viaGateway) {
        SplittableRandom random = new SplittableRandom(((long) session.hashCode() << 32) ^ index);
        List<Integer> prompt = IntStream.range(0, 1 + random.nextInt(6))
                .mapToObj(i -> FIRST_PLAIN_TOKEN + random.nextInt(vocabSize - FIRST_PLAIN_TOKEN)).toList();
        // sampled, with a repetition penalty on every other turn: the replay must follow the sampler exactly
        var params = new GenerationParams(8 + random.nextInt(17), 0.8f, 0.95f, null, null,
                index % 2 == 0 ? 1f : 1.1f, random.nextLong(), null);
        return new SoakTurn(session, index, prompt, params, viaGateway);
    }

    String requestId() {
        return session + "-t" + index;
    }

    PromptRequest request() {
        return PromptRequest.ofTokens(session, requestId(), prompt, params);
    }
}
