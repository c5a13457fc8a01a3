package io.ternstream.service.gateway;

import io.ternstream.schemas.ReplyEvent;

/** A reply event as decoded and as received: clients get the original JSON, byte for byte. */
public record Reply(ReplyEvent event, String json) {}
