package io.shadowml.models;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;

/**
 * Writes small ONNX models for tests, straight in protobuf wire format (field numbers from
 * onnx/onnx.proto): {@code y = act(x W + b)} with one Gemm node and an optional Softmax or
 * Sigmoid, input float32 [N, F], output float32 [N, K] (or [N] with {@link #flatten}).
 * Independent of the production code: the tests compute the expected outputs of these models
 * with plain double arithmetic.
 */
final class TinyOnnx {
    enum Activation {
        NONE,
        SOFTMAX,
        SIGMOID
    }

    String inputName = "features";
    String outputName = "probabilities";
    Activation activation = Activation.SOFTMAX;
    /** Output [N] instead of [N, K] (K must be 1): adds a Flatten-free Reshape to [-1]. */
    boolean flatten;
    /** When set, W is stored as external data at this location (relative to the model file). */
    String externalWeightsLocation;
    /** Fixed batch dimension instead of the dynamic "N" (0 = dynamic). */
    long fixedBatch;

    final float[][] w;
    final float[] b;

    TinyOnnx(float[][] w, float[] b) {
        this.w = w;
        this.b = b;
    }

    int features() {
        return w.length;
    }

    int outputs() {
        return b.length;
    }

    /** Expected output row for {@code x}, computed in double precision. */
    double[] expected(float[] x) {
        int k = outputs();
        double[] z = new double[k];
        for (int j = 0; j < k; j++) {
            double s = b[j];
            for (int i = 0; i < x.length; i++) {
                s += (double) x[i] * w[i][j];
            }
            z[j] = s;
        }
        switch (activation) {
            case SIGMOID:
                for (int j = 0; j < k; j++) {
                    z[j] = 1.0 / (1.0 + Math.exp(-z[j]));
                }
                return z;
            case SOFTMAX:
                double max = Double.NEGATIVE_INFINITY;
                for (double v : z) {
                    max = Math.max(max, v);
                }
                double sum = 0;
                for (int j = 0; j < k; j++) {
                    z[j] = Math.exp(z[j] - max);
                    sum += z[j];
                }
                for (int j = 0; j < k; j++) {
                    z[j] /= sum;
                }
                return z;
            default:
                return z;
        }
    }

    /** Little-endian float32 bytes of W, row-major [F, K]. */
    byte[] weightBytes() {
        ByteBuffer bb = ByteBuffer.allocate(features() * outputs() * 4).order(ByteOrder.LITTLE_ENDIAN);
        for (float[] row : w) {
            for (float v : row) {
                bb.putFloat(v);
            }
        }
        return bb.array();
    }

    private static byte[] floatBytes(float[] v) {
        ByteBuffer bb = ByteBuffer.allocate(v.length * 4).order(ByteOrder.LITTLE_ENDIAN);
        for (float f : v) {
            bb.putFloat(f);
        }
        return bb.array();
    }

    byte[] build() {
        int f = features();
        int k = outputs();
        Proto graph = new Proto();
        String gemmOut = activation == Activation.NONE && !flatten ? outputName : "z";
        graph.message(1, node("gemm", "Gemm", gemmOut, inputName, "W", "B"));
        String last = gemmOut;
        if (activation != Activation.NONE) {
            String out = flatten ? "a" : outputName;
            graph.message(1, node("act", activation == Activation.SOFTMAX ? "Softmax" : "Sigmoid", out, last));
            last = out;
        }
        if (flatten) {
            graph.message(1, node("reshape", "Reshape", outputName, last, "flat_shape"));
        }
        graph.string(2, "tiny");

        Proto wt = new Proto().varint(1, f).varint(1, k).varint(2, 1).string(8, "W");
        if (externalWeightsLocation == null) {
            wt.bytes(9, weightBytes());
        } else {
            wt.message(13, new Proto().string(1, "location").string(2, externalWeightsLocation));
            wt.message(13, new Proto().string(1, "offset").string(2, "0"));
            wt.message(13, new Proto().string(1, "length").string(2, String.valueOf(f * k * 4)));
            wt.varint(14, 1);
        }
        graph.message(5, wt);
        graph.message(5, new Proto().varint(1, k).varint(2, 1).string(8, "B").bytes(9, floatBytes(b)));
        if (flatten) {
            // int64 tensor [1] = {-1}
            graph.message(
                    5,
                    new Proto()
                            .varint(1, 1)
                            .varint(2, 7)
                            .string(8, "flat_shape")
                            .bytes(
                                    9,
                                    ByteBuffer.allocate(8)
                                            .order(ByteOrder.LITTLE_ENDIAN)
                                            .putLong(-1)
                                            .array()));
        }
        graph.message(11, valueInfo(inputName, fixedBatch, f));
        graph.message(12, flatten ? valueInfo(outputName, fixedBatch) : valueInfo(outputName, fixedBatch, k));

        return new Proto()
                .varint(1, 8) // ir_version
                .string(2, "shadowml-tests") // producer_name
                .message(8, new Proto().string(1, "").varint(2, 13)) // opset_import
                .message(7, graph)
                .toBytes();
    }

    private static Proto node(String name, String op, String output, String... inputs) {
        Proto n = new Proto();
        for (String in : inputs) {
            n.string(1, in);
        }
        return n.string(2, output).string(3, name).string(4, op);
    }

    /** ValueInfoProto of a float tensor; batch 0 means the dynamic dimension "N". */
    private static Proto valueInfo(String name, long batch, long... dims) {
        Proto shape = new Proto();
        shape.message(1, batch > 0 ? new Proto().varint(1, batch) : new Proto().string(2, "N"));
        for (long d : dims) {
            shape.message(1, new Proto().varint(1, d));
        }
        Proto tensorType = new Proto().varint(1, 1).message(2, shape);
        return new Proto().string(1, name).message(2, new Proto().message(1, tensorType));
    }

    /** A protobuf message being written. */
    static final class Proto {
        private final ByteArrayOutputStream out = new ByteArrayOutputStream();

        private void rawVarint(long v) {
            while ((v & ~0x7FL) != 0) {
                out.write((int) ((v & 0x7F) | 0x80));
                v >>>= 7;
            }
            out.write((int) v);
        }

        Proto varint(int field, long v) {
            rawVarint((long) field << 3);
            rawVarint(v);
            return this;
        }

        Proto bytes(int field, byte[] b) {
            rawVarint(((long) field << 3) | 2);
            rawVarint(b.length);
            out.write(b, 0, b.length);
            return this;
        }

        Proto string(int field, String s) {
            return bytes(field, s.getBytes(StandardCharsets.UTF_8));
        }

        Proto message(int field, Proto m) {
            return bytes(field, m.toBytes());
        }

        byte[] toBytes() {
            return out.toByteArray();
        }
    }
}
