package io.shadowml.tools.backtest;

import java.io.Closeable;
import java.io.IOException;
import java.io.Serializable;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.NoSuchElementException;
import java.util.Queue;
import java.util.concurrent.CompletableFuture;

import org.apache.avro.specific.SpecificRecord;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.api.connector.source.Boundedness;
import org.apache.flink.api.connector.source.ReaderOutput;
import org.apache.flink.api.connector.source.Source;
import org.apache.flink.api.connector.source.SourceReader;
import org.apache.flink.api.connector.source.SourceReaderContext;
import org.apache.flink.api.connector.source.SourceSplit;
import org.apache.flink.api.connector.source.SplitEnumerator;
import org.apache.flink.api.connector.source.SplitEnumeratorContext;
import org.apache.flink.api.java.typeutils.ResultTypeQueryable;
import org.apache.flink.core.io.InputStatus;
import org.apache.flink.core.io.SimpleVersionedSerializer;
import org.apache.flink.util.InstantiationUtil;

import io.shadowml.avro.Label;
import io.shadowml.avro.Request;
import io.shadowml.jobs.io.AvroDecodingDeserializer;
import io.shadowml.jobs.io.Decoded;
import io.shadowml.jobs.io.KafkaIO;
import io.shadowml.avro.AvroCodec;
import io.shadowml.tools.io.HistoryReader;
import io.shadowml.tools.io.HistoryRecord;
import io.shadowml.tools.io.LabelFileReader;
import io.shadowml.tools.io.RowSpec;

/**
 * A bounded Flink source over one history file, yielding what the Kafka sources yield: {@link Decoded}
 * records. Each good row is encoded to Avro binary and decoded by the job's own
 * {@link AvroDecodingDeserializer}, so the records are the objects a Kafka source would produce. Bad rows
 * become dead letters like undecodable Kafka records: topic = the file name, partition 0, offset = the line
 * number (Avro files: record index), the raw line as bytes. Each record carries the timestamp a Kafka
 * record written by the replay tool would have (event time, label time; bad rows: see
 * {@link HistoryRecord#timestamp}).
 *
 * <p>The file is one split, read by whichever reader asks first; with higher parallelism the other
 * readers finish at once.
 */
public final class HistorySource<T extends SpecificRecord>
        implements Source<Decoded<T>, HistorySource.FileSplit, ArrayList<HistorySource.FileSplit>>, ResultTypeQueryable<Decoded<T>> {
    private static final long serialVersionUID = 1L;

    enum Kind { REQUESTS, CSV_LABELS, AVRO_LABELS }

    private final Kind kind;
    private final String path; // null: no input, the source ends at once
    private final RowSpec spec;
    private final Class<T> type;
    private final TypeInformation<Decoded<T>> producedType;

    private HistorySource(Kind kind, Path path, RowSpec spec, Class<T> type, TypeInformation<Decoded<T>> producedType) {
        this.kind = kind;
        this.path = path == null ? null : path.toString();
        this.spec = spec;
        this.type = type;
        this.producedType = producedType;
    }

    /** Requests from a CSV file (spec required) or an Avro container of Requests. */
    public static HistorySource<Request> requests(Path file, RowSpec spec) {
        return new HistorySource<>(Kind.REQUESTS, file, spec, Request.class, KafkaIO.DECODED_REQUEST);
    }

    /** The labels of a CSV file's rows (bad and unlabelled rows yield none). */
    public static HistorySource<Label> csvLabels(Path file, RowSpec spec) {
        return new HistorySource<>(Kind.CSV_LABELS, file, spec, Label.class, KafkaIO.DECODED_LABEL);
    }

    /** Labels from an Avro container file of Labels. */
    public static HistorySource<Label> avroLabels(Path file) {
        return new HistorySource<>(Kind.AVRO_LABELS, file, null, Label.class, KafkaIO.DECODED_LABEL);
    }

    /** A source without records (no labels). */
    public static HistorySource<Label> noLabels() {
        return new HistorySource<>(Kind.AVRO_LABELS, null, null, Label.class, KafkaIO.DECODED_LABEL);
    }

    @Override
    public Boundedness getBoundedness() {
        return Boundedness.BOUNDED;
    }

    @Override
    public TypeInformation<Decoded<T>> getProducedType() {
        return producedType;
    }

    @Override
    public SourceReader<Decoded<T>, FileSplit> createReader(SourceReaderContext context) {
        return new Reader<>(context, this);
    }

    @Override
    public SplitEnumerator<FileSplit, ArrayList<FileSplit>> createEnumerator(SplitEnumeratorContext<FileSplit> context) {
        ArrayList<FileSplit> splits = new ArrayList<>();
        if (path != null) {
            splits.add(new FileSplit(path, 0));
        }
        return new Enumerator(context, splits);
    }

    @Override
    public SplitEnumerator<FileSplit, ArrayList<FileSplit>> restoreEnumerator(SplitEnumeratorContext<FileSplit> context,
                                                                            ArrayList<FileSplit> checkpoint) {
        return new Enumerator(context, checkpoint);
    }

    @Override
    public SimpleVersionedSerializer<FileSplit> getSplitSerializer() {
        return new JavaSerializer<>();
    }

    @Override
    public SimpleVersionedSerializer<ArrayList<FileSplit>> getEnumeratorCheckpointSerializer() {
        return new JavaSerializer<>();
    }

    /** One file; {@code skip} records of it were already emitted (restored from a checkpoint). */
    public record FileSplit(String path, long skip) implements SourceSplit, Serializable {
        @Override
        public String splitId() {
            return path;
        }
    }

    /** A record and its timestamp. */
    private record Timed<T>(Decoded<T> value, long timestamp) {}

    /** Opens one split's records. */
    private Iterator<Timed<T>> open(FileSplit split, List<Closeable> resources) throws IOException {
        Path file = Path.of(split.path());
        String topic = file.getFileName().toString();
        AvroDecodingDeserializer<T> decoder = new AvroDecodingDeserializer<>(type, producedType, List.of());
        Iterator<Timed<T>> it;
        if (kind == Kind.AVRO_LABELS) {
            LabelFileReader labels = new LabelFileReader(file);
            resources.add(labels);
            it = new MappingIterator<>(labels, new java.util.function.Function<>() {
                long lastTime;

                @Override
                public Timed<T> apply(LabelFileReader.Indexed l) {
                    if (l.label().getLabelTime() != null) {
                        lastTime = l.label().getLabelTime().toEpochMilli();
                    }
                    return new Timed<>(decoder.decode(AvroCodec.encode(l.label()), key(l.label().getRequestId()), topic, 0,
                            l.index(), lastTime), lastTime);
                }
            });
        } else {
            HistoryReader reader = HistoryReader.open(file, spec);
            resources.add(reader);
            if (kind == Kind.REQUESTS) {
                it = new MappingIterator<>(reader, r -> r.isBad()
                        ? new Timed<>(Decoded.failed(r.reason(), topic, 0, r.position, r.timestamp, null, r.raw), r.timestamp)
                        : new Timed<>(decoder.decode(AvroCodec.encode(r.request), key(r.request.getRequestId()), topic, 0,
                                r.position, r.timestamp), r.timestamp));
            } else {
                Iterator<HistoryRecord> labelled = new FilteringIterator<>(reader, r -> !r.isBad() && r.label != null);
                it = new MappingIterator<>(labelled, r -> {
                    long t = r.label.getLabelTime().toEpochMilli();
                    return new Timed<>(decoder.decode(AvroCodec.encode(r.label), key(r.label.getRequestId()), topic, 0,
                            r.position, t), t);
                });
            }
        }
        for (long i = 0; i < split.skip() && it.hasNext(); i++) {
            it.next();
        }
        return it;
    }

    private static byte[] key(CharSequence id) {
        return id == null ? null : id.toString().getBytes(StandardCharsets.UTF_8);
    }

    // ------------------------------------------------------------------------------- reader

    private static final class Reader<T extends SpecificRecord> implements SourceReader<Decoded<T>, FileSplit> {
        private final SourceReaderContext context;
        private final HistorySource<T> source;
        private final Queue<FileSplit> splits = new ArrayDeque<>();
        private final List<Closeable> resources = new ArrayList<>();
        private CompletableFuture<Void> available = new CompletableFuture<>();
        private boolean noMoreSplits;
        private FileSplit current;
        private Iterator<Timed<T>> records;
        private long emitted;

        Reader(SourceReaderContext context, HistorySource<T> source) {
            this.context = context;
            this.source = source;
        }

        @Override
        public void start() {
            if (splits.isEmpty()) {
                context.sendSplitRequest();
            }
        }

        @Override
        public InputStatus pollNext(ReaderOutput<Decoded<T>> output) throws Exception {
            while (true) {
                if (records != null) {
                    if (records.hasNext()) {
                        Timed<T> t = records.next();
                        output.collect(t.value(), t.timestamp());
                        emitted++;
                        return InputStatus.MORE_AVAILABLE;
                    }
                    closeCurrent();
                    context.sendSplitRequest();
                }
                FileSplit next = splits.poll();
                if (next != null) {
                    current = next;
                    emitted = next.skip();
                    records = source.open(next, resources);
                    continue;
                }
                if (noMoreSplits) {
                    return InputStatus.END_OF_INPUT;
                }
                if (available.isDone()) {
                    available = new CompletableFuture<>();
                }
                return InputStatus.NOTHING_AVAILABLE;
            }
        }

        private void closeCurrent() throws IOException {
            for (Closeable c : resources) {
                c.close();
            }
            resources.clear();
            records = null;
            current = null;
        }

        @Override
        public List<FileSplit> snapshotState(long checkpointId) {
            List<FileSplit> state = new ArrayList<>();
            if (current != null) {
                state.add(new FileSplit(current.path(), emitted));
            }
            state.addAll(splits);
            return state;
        }

        @Override
        public CompletableFuture<Void> isAvailable() {
            return available;
        }

        @Override
        public void addSplits(List<FileSplit> newSplits) {
            splits.addAll(newSplits);
            available.complete(null);
        }

        @Override
        public void notifyNoMoreSplits() {
            noMoreSplits = true;
            available.complete(null);
        }

        @Override
        public void close() throws Exception {
            closeCurrent();
        }
    }

    // --------------------------------------------------------------------------- enumerator

    private static final class Enumerator implements SplitEnumerator<FileSplit, ArrayList<FileSplit>> {
        private final SplitEnumeratorContext<FileSplit> context;
        private final ArrayList<FileSplit> remaining;

        Enumerator(SplitEnumeratorContext<FileSplit> context, List<FileSplit> splits) {
            this.context = context;
            this.remaining = new ArrayList<>(splits);
        }

        @Override
        public void start() {}

        @Override
        public void handleSplitRequest(int subtask, String requesterHostname) {
            if (remaining.isEmpty()) {
                context.signalNoMoreSplits(subtask);
            } else {
                context.assignSplit(remaining.remove(0), subtask);
            }
        }

        @Override
        public void addSplitsBack(List<FileSplit> splits, int subtask) {
            remaining.addAll(splits);
        }

        @Override
        public void addReader(int subtask) {}

        @Override
        public ArrayList<FileSplit> snapshotState(long checkpointId) {
            return new ArrayList<>(remaining);
        }

        @Override
        public void close() {}
    }

    // ------------------------------------------------------------------------------ helpers

    private static final class JavaSerializer<S extends Serializable> implements SimpleVersionedSerializer<S> {
        @Override
        public int getVersion() {
            return 1;
        }

        @Override
        public byte[] serialize(S obj) throws IOException {
            return InstantiationUtil.serializeObject(obj);
        }

        @Override
        public S deserialize(int version, byte[] serialized) throws IOException {
            try {
                return InstantiationUtil.deserializeObject(serialized, HistorySource.class.getClassLoader());
            } catch (ClassNotFoundException e) {
                throw new IOException(e);
            }
        }
    }

    private static final class MappingIterator<A, B> implements Iterator<B> {
        private final Iterator<A> in;
        private final java.util.function.Function<A, B> f;

        MappingIterator(Iterator<A> in, java.util.function.Function<A, B> f) {
            this.in = in;
            this.f = f;
        }

        @Override
        public boolean hasNext() {
            return in.hasNext();
        }

        @Override
        public B next() {
            return f.apply(in.next());
        }
    }

    private static final class FilteringIterator<A> implements Iterator<A> {
        private final Iterator<A> in;
        private final java.util.function.Predicate<A> keep;
        private A next;

        FilteringIterator(Iterator<A> in, java.util.function.Predicate<A> keep) {
            this.in = in;
            this.keep = keep;
        }

        @Override
        public boolean hasNext() {
            while (next == null && in.hasNext()) {
                A a = in.next();
                if (keep.test(a)) {
                    next = a;
                }
            }
            return next != null;
        }

        @Override
        public A next() {
            if (!hasNext()) {
                throw new NoSuchElementException();
            }
            A a = next;
            next = null;
            return a;
        }
    }
}
