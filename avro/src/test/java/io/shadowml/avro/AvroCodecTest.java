package io.shadowml.avro;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.IOException;
import java.util.stream.Stream;

import org.apache.avro.specific.SpecificRecord;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

class AvroCodecTest {

    static Stream<SpecificRecord> records() {
        return SampleRecords.all().stream();
    }

    @ParameterizedTest
    @MethodSource("records")
    void encodesExactlyLikeAFreshWriterAndDecodesBack(SpecificRecord record) throws IOException {
        byte[] reference = ContractRoundTripTest.write(record);
        // Twice: the second call reuses the thread's writer and encoder, which must not carry anything over.
        assertArrayEquals(reference, AvroCodec.encode(record));
        assertArrayEquals(reference, AvroCodec.encode(record));
        assertEquals(record, AvroCodec.decode(reference, record.getClass()));
    }

    @Test
    void aCodecOfItsOwnReusesItsBufferWithoutMixingRecords() throws IOException {
        AvroCodec<Label> codec = AvroCodec.of(Label.class);
        Label a = new Label("a-much-longer-request-id-than-the-next", SampleRecords.T0, 1.0);
        Label b = new Label("b", SampleRecords.T0.plusSeconds(5), 0.0);
        byte[] first = codec.write(a);
        byte[] second = codec.write(b);
        assertArrayEquals(ContractRoundTripTest.write(a), first);
        assertArrayEquals(ContractRoundTripTest.write(b), second);
        assertEquals(a, codec.read(first));
        assertEquals(b, codec.read(second));
    }
}
