package io.ternstream.service.ops;

import io.opentelemetry.api.OpenTelemetry;
import io.opentelemetry.api.trace.Span;
import io.opentelemetry.api.trace.SpanKind;
import io.opentelemetry.api.trace.Tracer;
import io.opentelemetry.api.trace.propagation.W3CTraceContextPropagator;
import io.opentelemetry.context.Context;
import io.opentelemetry.context.propagation.TextMapGetter;
import io.opentelemetry.context.propagation.TextMapPropagator;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.header.Headers;

/**
 * OpenTelemetry context in Kafka headers (W3C traceparent/tracestate). A turn's span is a child of
 * the prompt's context and its context goes on every reply and state record. The W3C propagator
 * is used directly so the context is carried even when no SDK exporter is configured.
 */
public final class Tracing {
    private static final TextMapPropagator PROPAGATOR = W3CTraceContextPropagator.getInstance();

    private static final TextMapGetter<Headers> GETTER = new TextMapGetter<>() {
        @Override
        public Iterable<String> keys(Headers headers) {
            List<String> keys = new ArrayList<>();
            for (Header h : headers) {
                keys.add(h.key());
            }
            return keys;
        }

        @Override
        public String get(Headers headers, String key) {
            if (headers == null) {
                return null;
            }
            Header h = headers.lastHeader(key);
            return h == null || h.value() == null ? null : new String(h.value(), StandardCharsets.UTF_8);
        }
    };

    private final Tracer tracer;

    public Tracing(OpenTelemetry openTelemetry) {
        this.tracer = openTelemetry.getTracer("io.ternstream.service");
    }

    public static Context extract(Headers headers) {
        return PROPAGATOR.extract(Context.root(), headers, GETTER);
    }

    public Span startTurn(Context parent, String sessionId, String requestId) {
        return tracer.spanBuilder("ternstream turn").setParent(parent).setSpanKind(SpanKind.CONSUMER)
                .setAttribute("ternstream.session_id", sessionId)
                .setAttribute("ternstream.request_id", requestId)
                .startSpan();
    }

    /** Writes the span's context (or, for a non-recording span, the parent's) into the headers. */
    public static void inject(Span span, Headers headers) {
        PROPAGATOR.inject(Context.root().with(span), headers,
                (h, k, v) -> h.remove(k).add(k, v.getBytes(StandardCharsets.UTF_8)));
    }

    public static void inject(Context context, Headers headers) {
        PROPAGATOR.inject(context, headers, (h, k, v) -> h.remove(k).add(k, v.getBytes(StandardCharsets.UTF_8)));
    }
}
