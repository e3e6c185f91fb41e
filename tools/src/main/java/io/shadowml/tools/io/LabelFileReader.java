package io.shadowml.tools.io;

import java.io.BufferedInputStream;
import java.io.Closeable;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Iterator;
import java.util.NoSuchElementException;

import org.apache.avro.file.DataFileStream;
import org.apache.avro.specific.SpecificDatumReader;

import io.shadowml.avro.Label;
import io.shadowml.tools.cli.UsageException;

/** An Avro object container file of {@link Label} records, with each record's 0-based index. */
public final class LabelFileReader implements Iterator<LabelFileReader.Indexed>, Closeable {
    public record Indexed(long index, Label label) {}

    private final String name;
    private final DataFileStream<Label> in;
    private long index;

    public LabelFileReader(Path file) throws IOException {
        this(file.toString(), file.getFileName().toString(), open(file));
    }

    private static InputStream open(Path file) throws IOException {
        if (HistoryReader.detect(file) != HistoryReader.Format.AVRO) {
            throw new UsageException(file + ": a label file must be an Avro container file of Label records");
        }
        return Files.newInputStream(file);
    }

    /**
     * Reads a container file's stream (and closes it).
     *
     * @param where how errors name the input (its path)
     * @param name  the file's name
     */
    public LabelFileReader(String where, String name, InputStream stream) throws IOException {
        this.name = name;
        try {
            this.in = new DataFileStream<>(
                    new BufferedInputStream(stream, 1 << 16), new SpecificDatumReader<>(Label.class));
        } catch (IOException | RuntimeException e) {
            stream.close();
            throw new UsageException(
                    where + ": not a readable Avro container file of Label records: " + e.getMessage());
        }
        if (!in.getSchema().getFullName().equals(Label.getClassSchema().getFullName())) {
            in.close();
            throw new UsageException(where + ": holds " + in.getSchema().getFullName() + " records, expected "
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
