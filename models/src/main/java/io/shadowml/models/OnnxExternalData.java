package io.shadowml.models;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * Finds every tensor of an ONNX model that keeps its data outside the model file, by reading the
 * protobuf wire format of {@code onnx.ModelProto} directly (no generated ONNX classes needed).
 *
 * <p>Walked: {@code ModelProto.graph}, {@code .functions[].node}, {@code .training_info[]} graphs;
 * in each {@code GraphProto}: {@code initializer[]}, {@code sparse_initializer[]}, and every
 * {@code node[].attribute[]} tensor, sparse tensor and subgraph (If/Loop/Scan bodies), recursively.
 * For each {@code TensorProto} the {@code external_data} key/value entries and
 * {@code data_location} are read. Field numbers are those of onnx/onnx.proto (IR version 10).
 */
final class OnnxExternalData {

    /** One tensor whose bytes live in another file. */
    static final class Ref {
        /** Where in the model the tensor sits, e.g. {@code graph.initializer[0]}. */
        final String where;
        /** The tensor's name (may be empty). */
        final String tensorName;
        /** The {@code external_data} "location" value, or {@code null} if it has none. */
        final String location;

        Ref(String where, String tensorName, String location) {
            this.where = where;
            this.tensorName = tensorName;
            this.location = location;
        }

        @Override
        public String toString() {
            return where + (tensorName.isEmpty() ? "" : " '" + tensorName + "'") + " -> "
                    + (location == null ? "(no location)" : "'" + location + "'");
        }
    }

    /** The bytes are not a well-formed protobuf message. */
    static final class MalformedException extends Exception {
        private static final long serialVersionUID = 1L;

        MalformedException(String message) {
            super(message);
        }
    }

    // wire types
    private static final int VARINT = 0;
    private static final int FIXED64 = 1;
    private static final int LEN = 2;
    private static final int FIXED32 = 5;

    // ModelProto
    private static final int MODEL_GRAPH = 7;
    private static final int MODEL_TRAINING_INFO = 20;
    private static final int MODEL_FUNCTIONS = 25;
    // TrainingInfoProto
    private static final int TRAINING_INITIALIZATION = 1;
    private static final int TRAINING_ALGORITHM = 2;
    // FunctionProto
    private static final int FUNCTION_NODE = 7;
    // GraphProto
    private static final int GRAPH_NODE = 1;
    private static final int GRAPH_INITIALIZER = 5;
    private static final int GRAPH_SPARSE_INITIALIZER = 15;
    // NodeProto
    private static final int NODE_ATTRIBUTE = 5;
    // AttributeProto
    private static final int ATTR_T = 5;
    private static final int ATTR_G = 6;
    private static final int ATTR_TENSORS = 10;
    private static final int ATTR_GRAPHS = 11;
    private static final int ATTR_SPARSE_TENSOR = 22;
    private static final int ATTR_SPARSE_TENSORS = 23;
    // SparseTensorProto
    private static final int SPARSE_VALUES = 1;
    private static final int SPARSE_INDICES = 2;
    // TensorProto
    private static final int TENSOR_NAME = 8;
    private static final int TENSOR_EXTERNAL_DATA = 13;
    private static final int TENSOR_DATA_LOCATION = 14;
    private static final int DATA_LOCATION_EXTERNAL = 1;
    // StringStringEntryProto
    private static final int ENTRY_KEY = 1;
    private static final int ENTRY_VALUE = 2;

    private static final int MAX_DEPTH = 64;

    private final byte[] buf;
    private final List<Ref> refs = new ArrayList<>();

    private OnnxExternalData(byte[] buf) {
        this.buf = buf;
    }

    /** All tensors in the serialized ModelProto that reference external data. */
    static List<Ref> find(byte[] modelProto) throws MalformedException {
        OnnxExternalData s = new OnnxExternalData(modelProto);
        s.model(0, modelProto.length);
        return s.refs;
    }

    private void model(int start, int end) throws MalformedException {
        Cursor c = new Cursor(start, end);
        int functions = 0;
        int training = 0;
        while (c.more()) {
            int tag = c.tag();
            int field = tag >>> 3;
            if (field == MODEL_GRAPH && (tag & 7) == LEN) {
                c.len();
                graph(c.fieldStart, c.fieldEnd, "graph", 1);
            } else if (field == MODEL_FUNCTIONS && (tag & 7) == LEN) {
                c.len();
                function(c.fieldStart, c.fieldEnd, "functions[" + functions++ + "]");
            } else if (field == MODEL_TRAINING_INFO && (tag & 7) == LEN) {
                c.len();
                trainingInfo(c.fieldStart, c.fieldEnd, "training_info[" + training++ + "]");
            } else {
                c.skip(tag);
            }
        }
    }

    private void trainingInfo(int start, int end, String where) throws MalformedException {
        Cursor c = new Cursor(start, end);
        while (c.more()) {
            int tag = c.tag();
            int field = tag >>> 3;
            if ((field == TRAINING_INITIALIZATION || field == TRAINING_ALGORITHM) && (tag & 7) == LEN) {
                c.len();
                graph(
                        c.fieldStart,
                        c.fieldEnd,
                        where + (field == TRAINING_INITIALIZATION ? ".initialization" : ".algorithm"),
                        2);
            } else {
                c.skip(tag);
            }
        }
    }

    private void function(int start, int end, String where) throws MalformedException {
        Cursor c = new Cursor(start, end);
        int nodes = 0;
        while (c.more()) {
            int tag = c.tag();
            if ((tag >>> 3) == FUNCTION_NODE && (tag & 7) == LEN) {
                c.len();
                node(c.fieldStart, c.fieldEnd, where + ".node[" + nodes++ + "]", 1);
            } else {
                c.skip(tag);
            }
        }
    }

    private void graph(int start, int end, String where, int depth) throws MalformedException {
        if (depth > MAX_DEPTH) {
            throw new MalformedException("subgraphs nested deeper than " + MAX_DEPTH + " at " + where);
        }
        Cursor c = new Cursor(start, end);
        int nodes = 0;
        int inits = 0;
        int sparse = 0;
        while (c.more()) {
            int tag = c.tag();
            int field = tag >>> 3;
            if ((tag & 7) != LEN) {
                c.skip(tag);
            } else if (field == GRAPH_NODE) {
                c.len();
                node(c.fieldStart, c.fieldEnd, where + ".node[" + nodes++ + "]", depth);
            } else if (field == GRAPH_INITIALIZER) {
                c.len();
                tensor(c.fieldStart, c.fieldEnd, where + ".initializer[" + inits++ + "]");
            } else if (field == GRAPH_SPARSE_INITIALIZER) {
                c.len();
                sparseTensor(c.fieldStart, c.fieldEnd, where + ".sparse_initializer[" + sparse++ + "]");
            } else {
                c.skip(tag);
            }
        }
    }

    private void node(int start, int end, String where, int depth) throws MalformedException {
        Cursor c = new Cursor(start, end);
        int attrs = 0;
        while (c.more()) {
            int tag = c.tag();
            if ((tag >>> 3) == NODE_ATTRIBUTE && (tag & 7) == LEN) {
                c.len();
                attribute(c.fieldStart, c.fieldEnd, where + ".attribute[" + attrs++ + "]", depth);
            } else {
                c.skip(tag);
            }
        }
    }

    private void attribute(int start, int end, String where, int depth) throws MalformedException {
        Cursor c = new Cursor(start, end);
        int tensors = 0;
        int graphs = 0;
        int sparse = 0;
        while (c.more()) {
            int tag = c.tag();
            int field = tag >>> 3;
            if ((tag & 7) != LEN) {
                c.skip(tag);
                continue;
            }
            switch (field) {
                case ATTR_T:
                    c.len();
                    tensor(c.fieldStart, c.fieldEnd, where + ".t");
                    break;
                case ATTR_TENSORS:
                    c.len();
                    tensor(c.fieldStart, c.fieldEnd, where + ".tensors[" + tensors++ + "]");
                    break;
                case ATTR_G:
                    c.len();
                    graph(c.fieldStart, c.fieldEnd, where + ".g", depth + 1);
                    break;
                case ATTR_GRAPHS:
                    c.len();
                    graph(c.fieldStart, c.fieldEnd, where + ".graphs[" + graphs++ + "]", depth + 1);
                    break;
                case ATTR_SPARSE_TENSOR:
                    c.len();
                    sparseTensor(c.fieldStart, c.fieldEnd, where + ".sparse_tensor");
                    break;
                case ATTR_SPARSE_TENSORS:
                    c.len();
                    sparseTensor(c.fieldStart, c.fieldEnd, where + ".sparse_tensors[" + sparse++ + "]");
                    break;
                default:
                    c.skip(tag);
            }
        }
    }

    private void sparseTensor(int start, int end, String where) throws MalformedException {
        Cursor c = new Cursor(start, end);
        while (c.more()) {
            int tag = c.tag();
            int field = tag >>> 3;
            if ((field == SPARSE_VALUES || field == SPARSE_INDICES) && (tag & 7) == LEN) {
                c.len();
                tensor(c.fieldStart, c.fieldEnd, where + (field == SPARSE_VALUES ? ".values" : ".indices"));
            } else {
                c.skip(tag);
            }
        }
    }

    private void tensor(int start, int end, String where) throws MalformedException {
        Cursor c = new Cursor(start, end);
        String name = "";
        String location = null;
        boolean hasExternalEntries = false;
        long dataLocation = 0;
        while (c.more()) {
            int tag = c.tag();
            int field = tag >>> 3;
            if (field == TENSOR_NAME && (tag & 7) == LEN) {
                c.len();
                name = c.string();
            } else if (field == TENSOR_DATA_LOCATION && (tag & 7) == VARINT) {
                dataLocation = c.varint();
            } else if (field == TENSOR_EXTERNAL_DATA && (tag & 7) == LEN) {
                c.len();
                hasExternalEntries = true;
                String[] kv = entry(c.fieldStart, c.fieldEnd);
                if ("location".equals(kv[0])) {
                    location = kv[1];
                }
            } else {
                c.skip(tag);
            }
        }
        if (dataLocation == DATA_LOCATION_EXTERNAL || hasExternalEntries || location != null) {
            refs.add(new Ref(where, name, location));
        }
    }

    private String[] entry(int start, int end) throws MalformedException {
        Cursor c = new Cursor(start, end);
        String key = "";
        String value = "";
        while (c.more()) {
            int tag = c.tag();
            int field = tag >>> 3;
            if ((field == ENTRY_KEY || field == ENTRY_VALUE) && (tag & 7) == LEN) {
                c.len();
                if (field == ENTRY_KEY) {
                    key = c.string();
                } else {
                    value = c.string();
                }
            } else {
                c.skip(tag);
            }
        }
        return new String[] {key, value};
    }

    /** A read position inside one message's bytes [pos, end). */
    private final class Cursor {
        private int pos;
        private final int end;
        /** Bounds of the length-delimited field just read by {@link #len()}. */
        int fieldStart;

        int fieldEnd;

        Cursor(int start, int end) {
            this.pos = start;
            this.end = end;
        }

        boolean more() {
            return pos < end;
        }

        int tag() throws MalformedException {
            long t = varint();
            if (t <= 0 || t > 0xFFFF_FFFFL || (t >>> 3) == 0) {
                throw new MalformedException("bad field tag " + t + " at byte " + pos);
            }
            return (int) t;
        }

        long varint() throws MalformedException {
            long result = 0;
            for (int shift = 0; shift < 64; shift += 7) {
                if (pos >= end) {
                    throw new MalformedException("truncated varint at byte " + pos);
                }
                byte b = buf[pos++];
                result |= (long) (b & 0x7F) << shift;
                if ((b & 0x80) == 0) {
                    return result;
                }
            }
            throw new MalformedException("varint longer than 10 bytes at byte " + pos);
        }

        /** Reads a length prefix and steps over the field, recording its bounds. */
        void len() throws MalformedException {
            long n = varint();
            if (n < 0 || n > end - pos) {
                throw new MalformedException("length " + n + " at byte " + pos + " runs past its message");
            }
            fieldStart = pos;
            fieldEnd = pos + (int) n;
            pos = fieldEnd;
        }

        String string() {
            return new String(buf, fieldStart, fieldEnd - fieldStart, StandardCharsets.UTF_8);
        }

        void skip(int tag) throws MalformedException {
            switch (tag & 7) {
                case VARINT:
                    varint();
                    break;
                case FIXED64:
                    advance(8);
                    break;
                case LEN:
                    len();
                    break;
                case FIXED32:
                    advance(4);
                    break;
                default:
                    // groups (3, 4) are not used by onnx.proto; anything else is not protobuf
                    throw new MalformedException("unsupported wire type " + (tag & 7) + " at byte " + pos);
            }
        }

        private void advance(int n) throws MalformedException {
            if (end - pos < n) {
                throw new MalformedException("truncated fixed-width field at byte " + pos);
            }
            pos += n;
        }
    }
}
