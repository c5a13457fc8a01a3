package io.ternstream.schemas;

/** Token counts and speed of one turn. */
public record Usage(int promptTokens, int completionTokens, double timeToFirstTokenMs, double tokensPerSecond) {}
