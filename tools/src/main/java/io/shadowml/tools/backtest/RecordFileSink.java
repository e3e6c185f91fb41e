package io.shadowml.tools.backtest;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

import org.apache.avro.file.DataFileWriter;
import org.apache.avro.specific.SpecificDatumWriter;
import org.apache.avro.specific.SpecificRecord;
import org.apache.flink.api.connector.sink2.Sink;
import org.apache.flink.api.connector.sink2.SinkWriter;
import org.apache.flink.api.connector.sink2.WriterInitContext;

/**
 * A Flink (Sink v2) sink that appends records to an Avro container part file per subtask,
 * {@code DIR/NAME.part-<subtask>.avro}. For bounded (backtest) jobs without restarts: after the job,
 * {@link RecordFiles#finish} merges the parts into NAME.avro and NAME.jsonl.
 */
public final class RecordFileSink<T extends SpecificRecord> implements Sink<T> {
    private static final long serialVersionUID = 1L;

    private final String dir;
    private final String name;
    private final Class<T> type;

    public RecordFileSink(Path dir, String name, Class<T> type) {
        this.dir = dir.toAbsolutePath().toString();
        this.name = name;
        this.type = type;
    }

    @Override
    public SinkWriter<T> createWriter(WriterInitContext context) throws IOException {
        Path file = Path.of(
                dir, RecordFiles.partPrefix(name) + context.getTaskInfo().getIndexOfThisSubtask() + ".avro");
        Files.createDirectories(file.getParent());
        DataFileWriter<T> writer = new DataFileWriter<>(new SpecificDatumWriter<>(type));
        writer.create(RecordFiles.schemaOf(type), file.toFile());
        return new SinkWriter<>() {
            @Override
            public void write(T element, Context ctx) throws IOException {
                writer.append(element);
            }

            @Override
            public void flush(boolean endOfInput) throws IOException {
                writer.flush();
            }

            @Override
            public void close() throws IOException {
                writer.close();
            }
        };
    }
}
