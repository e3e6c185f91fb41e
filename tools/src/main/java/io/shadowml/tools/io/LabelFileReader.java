package io.shadowml.tools.io;

import java.io.Closeable;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Iterator;
import java.util.NoSuchElementException;

import org.apache.avro.file.DataFileReader;
import org.apache.avro.specific.SpecificDatumReader;

import io.shadowml.avro.Label;
import io.shadowml.tools.cli.UsageException;

/** An Avro object container file of {@link Label} records, with each record's 0-based index. */
public final class LabelFileReader implements Iterator<LabelFileReader.Indexed>, Closeable {
    public record Indexed(long index, Label label) {}

    private final String name;
    private final DataFileReader<Label> in;
    private long index;

    public LabelFileReader(Path file) throws IOException {
        this.name = file.getFileName().toString();
        if (HistoryReader.detect(file) != HistoryReader.Format.AVRO) {
            throw new UsageException(file + ": a label file must be an Avro container file of Label records");
        }
        try {
            this.in = new DataFileReader<>(file.toFile(), new SpecificDatumReader<>(Label.class));
        } catch (IOException | RuntimeException e) {
            throw new UsageException(file + ": not a readable Avro container file of Label records: " + e.getMessage());
        }
        if (!in.getSchema().getFullName().equals(Label.getClassSchema().getFullName())) {
            in.close();
            throw new UsageException(file + ": holds " + in.getSchema().getFullName() + " records, expected "
                    + Label.getClassSchema().getFullName());
        }
    }

    public String name() {
        return name;
    }

    @Override
    public boolean hasNext() {
        return in.hasNext();
    }

    @Override
    public Indexed next() {
        if (!in.hasNext()) {
            throw new NoSuchElementException();
        }
        return new Indexed(index++, in.next());
    }

    @Override
    public void close() throws IOException {
        in.close();
    }
}
