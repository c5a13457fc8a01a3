package io.ternstream.engine.model;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;

/**
 * {@code config.json} of an HGRN-Bit checkpoint ({@code model_type = hgrn_bit}). JSON names are mapped
 * explicitly; defaults follow the reference {@code HGRNBitConfig}; derived sizes and validation live in
 * the compact constructor, so an instance is always usable.
 */
@JsonIgnoreProperties(ignoreUnknown = true)
public record HgrnBitConfig(
        @JsonProperty("model_type") String modelType,
        @JsonProperty("vocab_size") int vocabSize,
        @JsonProperty("hidden_size") int hiddenSize,
        @JsonProperty("num_hidden_layers") int numHiddenLayers,
        @JsonProperty("num_heads") int numHeads,
        @JsonProperty("expand_ratio") int expandRatio,
        @JsonProperty("hidden_ratio") int hiddenRatio,
        @JsonProperty("intermediate_size") Integer intermediateSizeOrNull,
        @JsonProperty("use_short_conv") boolean useShortConv,
        @JsonProperty("conv_size") int convSize,
        @JsonProperty("share_conv_kernel") boolean shareConvKernel,
        @JsonProperty("use_lower_bound") boolean useLowerBound,
        @JsonProperty("rms_norm_eps") float rmsNormEps,
        @JsonProperty("bos_token_id") Integer bosTokenId,
        @JsonProperty("eos_token_id") Integer eosTokenId,
        @JsonProperty("pad_token_id") Integer padTokenId,
        @JsonProperty("tie_word_embeddings") boolean tieWordEmbeddings) {

    public static final String MODEL_TYPE = "hgrn_bit";
    private static final ObjectMapper JSON = new ObjectMapper()
            .configure(DeserializationFeature.FAIL_ON_NULL_FOR_PRIMITIVES, false)
            .configure(DeserializationFeature.FAIL_ON_TRAILING_TOKENS, true); // text after the object: a damaged file

    public HgrnBitConfig {
        if (!MODEL_TYPE.equals(modelType)) {
            throw new ModelFormatException("config.json: model_type '" + modelType + "' is not supported (expected '" + MODEL_TYPE + "')");
        }
        if (numHeads <= 0) numHeads = 1;
        if (expandRatio <= 0) expandRatio = 1;
        if (hiddenRatio <= 0) hiddenRatio = 4;
        if (convSize <= 0) convSize = 4;
        if (rmsNormEps <= 0) rmsNormEps = 1e-6f;
        require(vocabSize > 0, "vocab_size must be positive, got " + vocabSize);
        require(hiddenSize > 0, "hidden_size must be positive, got " + hiddenSize);
        require(numHiddenLayers > 0, "num_hidden_layers must be positive, got " + numHiddenLayers);
        require(intermediateSizeOrNull == null || intermediateSizeOrNull > 0, "intermediate_size must be positive or null");
        require(Float.isFinite(rmsNormEps), "rms_norm_eps must be a finite number, got " + rmsNormEps);
        long mixer = (long) hiddenSize * expandRatio;
        require(mixer <= MAX_WIDTH, "hidden_size*expand_ratio is " + mixer + ", above " + MAX_WIDTH);
        require(mixer % numHeads == 0, "hidden_size*expand_ratio must be divisible by num_heads");
        long glu = intermediateSizeOrNull != null ? intermediateSizeOrNull : roundedIntermediate(hiddenSize, hiddenRatio);
        require(2 * glu <= MAX_WIDTH, "intermediate_size is " + glu + "; twice that (the GLU's rows) is above " + MAX_WIDTH);
    }

    /** Widths are Java array lengths and int row counts; a config beyond them describes no loadable model. */
    private static final long MAX_WIDTH = Integer.MAX_VALUE;

    /** Builds a config from code (tests, random benchmark models); unset fields take the reference defaults. */
    public static HgrnBitConfig of(int vocab, int hidden, int layers, Integer intermediate) {
        return new HgrnBitConfig(MODEL_TYPE, vocab, hidden, layers, 1, 1, 4, intermediate, false, 4, true, true,
                1e-6f, 1, 2, null, false);
    }

    public static HgrnBitConfig read(Path configJson) throws IOException {
        String text;
        try {
            text = Files.readString(configJson);
        } catch (NoSuchFileException e) {
            throw new ModelFormatException(configJson + ": missing config.json");
        }
        return parse(text, configJson.toString());
    }

    public static HgrnBitConfig parse(String json, String source) {
        try {
            HgrnBitConfig config = JSON.readValue(json, HgrnBitConfig.class);
            if (config == null) throw new ModelFormatException(source + ": invalid config.json: null instead of an object");
            return config;
        } catch (com.fasterxml.jackson.databind.exc.ValueInstantiationException e) {
            Throwable cause = e.getCause() != null ? e.getCause() : e;
            throw new ModelFormatException(source + ": " + cause.getMessage(), e);
        } catch (IOException e) {
            throw new ModelFormatException(source + ": invalid config.json: " + e.getMessage(), e);
        }
    }

    /** Width of the token mixer (recurrent state per layer): hidden_size * expand_ratio. */
    public int mixerDim() {
        return hiddenSize * expandRatio;
    }

    /** GLU width; the reference rounds hidden*hidden_ratio*2/3 up to a multiple of 256 when unset. */
    public int intermediateSize() {
        return intermediateSizeOrNull != null ? intermediateSizeOrNull : (int) roundedIntermediate(hiddenSize, hiddenRatio);
    }

    private static long roundedIntermediate(int hiddenSize, int hiddenRatio) {
        long raw = (long) (hiddenSize * (double) hiddenRatio * 2.0 / 3.0);
        return 256 * ((raw + 255) / 256);
    }

    public String toJson() {
        try {
            return JSON.writeValueAsString(this);
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    private static void require(boolean ok, String message) {
        if (!ok) throw new ModelFormatException("config.json: " + message);
    }
}
