package io.ternstream.service.engine;

import io.opentelemetry.api.trace.Span;
import io.ternstream.schemas.ErrorCode;
import io.ternstream.schemas.ErrorEvent;
import io.ternstream.schemas.ReplyEvent;
import io.ternstream.service.ops.ServiceMetrics;
import io.ternstream.service.ops.Tracing;
import io.ternstream.service.session.CommandDecoder;
import io.ternstream.service.session.SessionRecord;
import io.ternstream.service.session.SessionRecordCodec;
import io.ternstream.service.session.SessionRecordFormatException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.kafka.streams.KeyValue;
import org.apache.kafka.streams.errors.TaskMigratedException;
import org.apache.kafka.streams.processor.PunctuationType;
import org.apache.kafka.streams.processor.api.Processor;
import org.apache.kafka.streams.processor.api.ProcessorContext;
import org.apache.kafka.streams.processor.api.Record;
import org.apache.kafka.streams.processor.api.RecordMetadata;
import org.apache.kafka.streams.state.KeyValueIterator;
import org.apache.kafka.streams.state.KeyValueStore;
import org.jboss.logging.Logger;

/**
 * One partition of the prompts topic, as a Kafka Streams task. A record is decoded and checked; a
 * bad one is answered and dead-lettered at once. A good one is stored in the pending store (so it
 * survives a crash with the offset that consumed it) and handed to the engine loop with its
 * session's stored record. Every millisecond the task applies what the engine produced for its
 * sessions: reply records, session-store writes, finished work. With exactly-once all of it commits
 * in one transaction with the consumed offsets.
 */
final class PromptTopicProcessor implements Processor<String, byte[], String, byte[]> {
    private static final Logger LOG = Logger.getLogger(PromptTopicProcessor.class);

    private final EngineLoop loop;
    private final CommandDecoder decoder;
    private final SessionRecordCodec records;
    private final ReplyRecords replies;
    private final Duration drainInterval;
    private final Duration ttl;
    private final ServiceMetrics metrics;
    private final String promptsTopic;
    private final GroupLease lease;
    private final FinishedWork finished;
    private ProcessorContext<String, byte[]> context;
    private KeyValueStore<String, byte[]> sessions;
    private KeyValueStore<Long, byte[]> pending;
    private int partition;
    private Outbox outbox;
    /** Delivered-event counts of running work, collected over one drain and written once. */
    private final Map<Long, Integer> progress = new HashMap<>();

    PromptTopicProcessor(EngineLoop loop, CommandDecoder decoder, SessionRecordCodec records, ReplyRecords replies,
                         Duration drainInterval, Duration ttl, ServiceMetrics metrics, String promptsTopic, GroupLease lease,
                         Duration deleteFinishedAfter) {
        this.promptsTopic = promptsTopic;
        this.lease = lease;
        this.finished = new FinishedWork(deleteFinishedAfter);
        this.loop = loop;
        this.decoder = decoder;
        this.records = records;
        this.replies = replies;
        this.drainInterval = drainInterval;
        this.ttl = ttl;
        this.metrics = metrics;
    }

    @Override
    public void init(ProcessorContext<String, byte[]> context) {
        this.context = context;
        this.sessions = context.getStateStore(EngineTopology.SESSIONS_STORE);
        this.pending = context.getStateStore(EngineTopology.PENDING_STORE);
        this.partition = context.taskId().partition();
        this.outbox = loop.register(partition);
        metrics.assignedPartitions.incrementAndGet();
        int redone = resubmitPending();
        LOG.infof("partition %d: serving; %d unfinished records taken up again", partition, redone);
        context.schedule(drainInterval, PunctuationType.WALL_CLOCK_TIME, now -> drain());
        Duration sweep = ttl.dividedBy(4).compareTo(Duration.ofMinutes(1)) > 0 ? Duration.ofMinutes(1) : ttl.dividedBy(4);
        context.schedule(sweep.isZero() ? Duration.ofSeconds(1) : sweep, PunctuationType.WALL_CLOCK_TIME, this::sweepExpired);
    }

    @Override
    public void process(Record<String, byte[]> record) {
        RecordMetadata meta = context.recordMetadata().orElseThrow();
        if (pending.get(meta.offset()) != null) {
            return; // delivered again after a crash, and already taken up from the pending store
        }
        switch (decoder.decode(record.key(), record.value(), Tracing.extract(record.headers()), partition, meta.offset())) {
            case CommandDecoder.Rejected r -> {
                metrics.rejected(r.code());
                LOG.warnf("rejected %s-%d@%d (session %s, request %s): %s: %s", meta.topic(), partition, meta.offset(),
                        r.sessionId(), r.requestId(), r.code().json(), r.reason());
                if (r.sessionId() != null && r.requestId() != null) {
                    forwardReply(null, new ErrorEvent(r.sessionId(), r.requestId(), 0, r.code(), r.reason()), null);
                }
                forwardDeadLetter(new PendingWork(record.key(), record.value(), record.headers(), 0), meta.offset(),
                        r.code(), r.reason());
            }
            case CommandDecoder.Accepted a -> {
                pending.put(meta.offset(), new PendingWork(record.key(), record.value(), record.headers(), 0).encode());
                if (loop.accepting()) {
                    loop.submit(a.work(), sessions.get(a.work().sessionId()), 0);
                }
            }
        }
    }

    /** Work accepted before a crash or a move of this partition, in offset order (the pending store's key order). */
    private int resubmitPending() {
        int count = 0;
        try (KeyValueIterator<Long, byte[]> it = pending.all()) {
            while (it.hasNext()) {
                KeyValue<Long, byte[]> entry = it.next();
                PendingWork work = PendingWork.decode(entry.value);
                switch (decoder.decode(work.key(), work.value(), Tracing.extract(work.headers()), partition, entry.key)) {
                    case CommandDecoder.Accepted a -> loop.submit(a.work(), sessions.get(a.work().sessionId()), work.nextSeq());
                    case CommandDecoder.Rejected r -> // the limits changed since it was accepted
                            outbox.add(List.of(new Outgoing.DeadLetter(entry.key, r.code(), r.reason()), new Outgoing.Done(entry.key)));
                }
                count++;
            }
        }
        return count;
    }

    /** Applies what the engine produced for this partition's sessions, while the group still counts this instance in. */
    private void drain() {
        switch (lease.standing(System.nanoTime())) {
            case LOST -> throw new TaskMigratedException("the process stood still past the group's session timeout:"
                    + " partition " + partition + " may belong to another instance now");
            case SUSPENDED -> {
                return; // kept in the outbox: applied once the group answers, dropped if the partition moved
            }
            case HELD -> outbox.drainTo(this::apply);
        }
        finished.release(System.nanoTime(), offset -> {
            pending.delete(offset);
            progress.remove(offset);
        });
        if (!progress.isEmpty()) {
            recordProgress();
        }
    }

    private void apply(Outgoing effect) {
        switch (effect) {
            case Outgoing.Reply r -> forwardReply(r.topic(), r.event(), r.span());
            case Outgoing.Progress p -> progress.merge(p.offset(), p.nextSeq(), Math::max);
            case Outgoing.Save s -> {
                sessions.put(s.record().sessionId(), records.encode(s.record()));
                loop.written(s.record().sessionId());
            }
            case Outgoing.Remove r -> sessions.delete(r.sessionId());
            // its progress stays: a record whose delete is deferred is written with every event counted,
            // so an owner that takes it up before the delete lands sends nothing of it again
            case Outgoing.Done d -> finished.add(d.offset(), System.nanoTime());
            case Outgoing.DeadLetter d -> {
                byte[] stored = pending.get(d.offset());
                if (stored != null) {
                    forwardDeadLetter(PendingWork.decode(stored), d.offset(), d.code(), d.reason());
                }
            }
            case Outgoing.Import i -> context.forward(replies.importRecord(i.message(), i.trace(), context.currentSystemTimeMs()),
                    EngineTopology.PROMPTS_SINK);
        }
    }

    /** How far each running turn's events went, in the pending store: a redo after a crash skips them. */
    private void recordProgress() {
        progress.forEach((offset, nextSeq) -> {
            byte[] stored = pending.get(offset);
            if (stored != null) {
                pending.put(offset, PendingWork.decode(stored).withNextSeq(nextSeq).encode());
            }
        });
        progress.clear();
    }

    private void forwardReply(String topic, ReplyEvent event, Span span) {
        replies.route(topic);
        context.forward(replies.replyRecord(event, span, context.currentSystemTimeMs()), EngineTopology.REPLIES_SINK);
    }

    private void forwardDeadLetter(PendingWork original, long offset, ErrorCode code, String reason) {
        context.forward(replies.deadLetter(original, partition, offset, code, reason, context.currentSystemTimeMs(),
                promptsTopic), EngineTopology.DEAD_LETTERS_SINK);
    }

    private void sweepExpired(long now) {
        List<String> expired = new ArrayList<>();
        try (KeyValueIterator<String, byte[]> it = sessions.all()) {
            while (it.hasNext()) {
                KeyValue<String, byte[]> entry = it.next();
                try {
                    if (SessionRecord.expired(records.lastActiveMillis(entry.value), now, ttl)) {
                        expired.add(entry.key);
                    }
                } catch (SessionRecordFormatException e) {
                    // kept: its next prompt is told the context was lost (state_lost), then it starts over
                }
            }
        }
        if (!expired.isEmpty()) {
            loop.expire(partition, expired);
        }
    }

    /** What the engine produced and was not applied is dropped: the pending store makes the next owner redo it. */
    @Override
    public void close() {
        loop.unregister(partition, outbox);
        metrics.assignedPartitions.decrementAndGet();
    }
}
