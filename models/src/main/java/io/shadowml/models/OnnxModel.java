package io.shadowml.models;

import java.io.IOException;
import java.nio.FloatBuffer;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;

import ai.onnxruntime.NodeInfo;
import ai.onnxruntime.OnnxJavaType;
import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OnnxValue;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import ai.onnxruntime.TensorInfo;
import ai.onnxruntime.ValueInfo;

/**
 * An ONNX model loaded into an ONNX Runtime session, checked against its {@link ModelDescriptor},
 * scoring batches of rows with one {@code OrtSession.run} per batch.
 *
 * <pre>{@code
 * try (OnnxModel model = OnnxModel.load(ModelDescriptor.load(Path.of("live/model.json")))) {
 *   InputBatch batch = model.newInputBatch();
 *   batch.clear();
 *   for (float[] row : rows) batch.addRow(row);
 *   PredictionBatch out = model.score(batch);
 *   for (int i = 0; i < out.rows(); i++) use(out.score(i), out.predictedClass(i));
 * }
 * }</pre>
 *
 * <p><b>Loading checks</b>, each failing with a {@link ModelConfigException} naming the descriptor
 * file and field: the model file exists inside the descriptor's folder, also after resolving
 * symlinks ({@code path}); its bytes hash to {@code sha256}; no tensor of the graph keeps its data
 * in a file outside the model's folder ({@code path}: the ONNX protobuf is read for every
 * {@code external_data} location before ONNX Runtime sees it); the graph has exactly the one
 * input {@code input.tensor}, float32 of shape [N, F] with a dynamic batch dimension and F equal
 * to the descriptor's feature count ({@code input.features} / {@code input.vector_length}); the
 * graph has an output {@code output.tensor}, float32, whose shape fits the task
 * ({@code output.num_classes}, {@code output.positive_class}).
 *
 * <p><b>Threads.</b> An instance, its {@link InputBatch}es and its {@link PredictionBatch} are
 * used by one thread: one model instance per Flink subtask, opened in {@code open()} and closed in
 * {@code close()}. It is not safe for concurrent use. ONNX Runtime's own threads are set by
 * {@link ModelOptions} (default 1 intra-op, 1 inter-op, no spinning).
 *
 * <p><b>One session per process.</b> Instances of the same model bytes and thread settings share one
 * ONNX Runtime session ({@link SharedSessions}): the subtasks of a TaskManager hold a model once. Each
 * instance keeps its own buffers and run options, so scoring and {@link #interrupt()} stay per instance.
 *
 * <p><b>Memory.</b> Per batch, the input tensor wraps the batch's direct buffer (no copy) and the
 * output is copied into the reused {@link PredictionBatch}; the only allocations per {@code score}
 * call are ONNX Runtime's small tensor/result wrappers and its output copy, none per row. Native
 * tensors and results are closed on every call; {@link #close()} gives up this instance's hold on the session.
 */
public final class OnnxModel implements AutoCloseable {
    private final ModelDescriptor descriptor;
    private final ModelOptions options;
    private final OrtEnvironment env;
    private final SharedSessions.Lease lease;
    private final OrtSession session;
    private final String inputName;
    private final Set<String> outputNames;
    private final int featureCount;
    private final int outputColumns;
    private final PredictionBatch prediction;
    /** Every run uses these, so that {@link #interrupt()} from another thread can stop the current one. */
    private final OrtSession.RunOptions runOptions;

    private boolean closed;

    private OnnxModel(
            ModelDescriptor descriptor,
            ModelOptions options,
            OrtEnvironment env,
            SharedSessions.Lease lease,
            int outputColumns,
            int positiveColumn) {
        this.descriptor = descriptor;
        this.options = options;
        this.env = env;
        this.lease = lease;
        this.session = lease.session;
        this.inputName = descriptor.inputTensor();
        this.outputNames = Set.of(descriptor.outputTensor());
        this.featureCount = descriptor.featureCount();
        this.outputColumns = outputColumns;
        this.prediction = new PredictionBatch(
                descriptor.task(),
                outputColumns,
                positiveColumn,
                descriptor.numClasses(),
                descriptor.threshold(),
                options.maxBatchSize());
        try {
            this.runOptions = new OrtSession.RunOptions();
        } catch (OrtException e) {
            throw new IllegalStateException(descriptor.id() + ": cannot create ONNX Runtime run options", e);
        }
    }

    /** Loads with {@link ModelOptions#defaults()}. */
    public static OnnxModel load(ModelDescriptor d) {
        return load(d, ModelOptions.defaults());
    }

    /**
     * Verifies the model file against the descriptor, opens an ONNX Runtime session and checks the
     * graph's input and output against the descriptor.
     *
     * @throws ModelConfigException naming the descriptor file and field on any mismatch
     */
    public static OnnxModel load(ModelDescriptor d, ModelOptions o) {
        String file = d.descriptorFile();
        if ((long) o.maxBatchSize() * d.featureCount() > Integer.MAX_VALUE / Float.BYTES) {
            throw new IllegalArgumentException("maxBatchSize " + o.maxBatchSize() + " x " + d.featureCount()
                    + " features does not fit one direct buffer");
        }

        Path folder = d.modelFolder();
        Path model = d.modelPath();
        Path realFolder;
        Path realModel;
        try {
            realFolder = folder.toRealPath();
            realModel = model.toRealPath();
        } catch (NoSuchFileException e) {
            throw new ModelConfigException(file, "path", "model file " + model + " does not exist", e);
        } catch (IOException e) {
            throw new ModelConfigException(file, "path", "cannot resolve " + model + ": " + e, e);
        }
        if (!realModel.startsWith(realFolder)) {
            throw new ModelConfigException(
                    file,
                    "path",
                    "model file " + model + " is a link to " + realModel + ", outside the model folder " + realFolder);
        }
        if (!Files.isRegularFile(realModel)) {
            throw new ModelConfigException(file, "path", model + " is not a regular file");
        }

        byte[] bytes = readVerified(file, realModel, model, "path", "sha256", d.sha256());

        List<OnnxExternalData.Ref> external;
        try {
            external = OnnxExternalData.find(bytes);
        } catch (OnnxExternalData.MalformedException e) {
            throw new ModelConfigException(
                    file, "path", model + " is not an ONNX model (protobuf): " + e.getMessage(), e);
        }
        // location -> the bytes that were hashed; ORT later reads exactly these (a private copy), never the
        // files again, which could have changed since.
        Map<String, byte[]> externalBytes = new LinkedHashMap<>();
        for (OnnxExternalData.Ref ref : external) {
            Path data = checkExternalData(file, model, realFolder, ref);
            if (!externalBytes.containsKey(ref.location)) {
                externalBytes.put(ref.location, hashedExternalData(d, model, data, ref));
            }
        }

        OrtEnvironment env = OrtEnvironment.getEnvironment();
        // The bytes are verified above on every load; the session of the same bytes is shared (SharedSessions).
        SharedSessions.Key key =
                new SharedSessions.Key(d.sha256(), d.externalDataSha256(), o.intraOpThreads(), o.interOpThreads());
        SharedSessions.Lease lease;
        try {
            lease = SharedSessions.acquire(key, () -> {
                try (OrtSession.SessionOptions so = new OrtSession.SessionOptions()) {
                    so.setIntraOpNumThreads(o.intraOpThreads());
                    so.setInterOpNumThreads(o.interOpThreads());
                    so.setExecutionMode(OrtSession.SessionOptions.ExecutionMode.SEQUENTIAL);
                    so.setOptimizationLevel(OrtSession.SessionOptions.OptLevel.ALL_OPT);
                    so.addConfigEntry("session.intra_op.allow_spinning", "0");
                    so.addConfigEntry("session.inter_op.allow_spinning", "0");
                    // ORT gets the very bytes that were hashed: from memory, or, with external data (which ORT
                    // resolves relative to the model file), from a private copy of the hashed bytes.
                    return external.isEmpty()
                            ? env.createSession(bytes, so)
                            : createFromPrivateCopy(
                                    env, so, realModel.getFileName().toString(), bytes, externalBytes, file);
                }
            });
        } catch (OrtException e) {
            throw new ModelConfigException(
                    file, "path", "ONNX Runtime cannot load " + model + ": " + e.getMessage(), e);
        }

        try {
            int[] out = checkGraph(d, lease.session);
            return new OnnxModel(d, o, env, lease, out[0], out[1]);
        } catch (RuntimeException | OrtException e) {
            try {
                lease.close();
            } catch (OrtException suppressed) {
                e.addSuppressed(suppressed);
            }
            if (e instanceof OrtException) {
                throw new ModelConfigException(
                        file, null, "ONNX Runtime cannot describe the graph of " + model + ": " + e.getMessage(), e);
            }
            throw (RuntimeException) e;
        }
    }

    /** The external-data file's bytes, if the descriptor lists its location with a matching sha256. */
    private static byte[] hashedExternalData(ModelDescriptor d, Path model, Path data, OnnxExternalData.Ref ref) {
        String file = d.descriptorFile();
        String expected = d.externalDataSha256().get(ref.location);
        if (expected == null) {
            throw new ModelConfigException(
                    file,
                    "external_data",
                    "model file " + model + " keeps tensor '" + ref.tensorName + "' in external data '" + ref.location
                            + "', which the descriptor's external_data does not list with its sha256; refusing to"
                            + " load unverified weights");
        }
        return readVerified(file, data, data, "external_data", "external_data." + ref.location, expected);
    }

    /**
     * The bytes of {@code real} if they hash to {@code expected}; errors name {@code readField} (cannot
     * read) or {@code hashField} (another hash), and the file as the descriptor gave it ({@code shown}).
     */
    private static byte[] readVerified(
            String file, Path real, Path shown, String readField, String hashField, String expected) {
        byte[] bytes;
        try {
            bytes = Files.readAllBytes(real);
        } catch (IOException | OutOfMemoryError e) {
            throw new ModelConfigException(file, readField, "cannot read " + shown + ": " + e, e);
        }
        String actual = sha256(bytes);
        if (!actual.equals(expected)) {
            throw new ModelConfigException(
                    file,
                    hashField,
                    "expected " + expected + " but " + shown + " (" + bytes.length + " bytes) hashes to " + actual);
        }
        return bytes;
    }

    /**
     * Writes the hashed model and external-data bytes into a new directory only this user can read, opens
     * the session from there and deletes the copy (ORT has read or mapped the data by then).
     */
    private static OrtSession createFromPrivateCopy(
            OrtEnvironment env,
            OrtSession.SessionOptions so,
            String modelName,
            byte[] modelBytes,
            Map<String, byte[]> externalBytes,
            String file)
            throws OrtException {
        Path dir = null;
        try {
            dir = Files.createTempDirectory(
                    "shadowml-model-",
                    PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
            Path copy = dir.resolve(modelName);
            Files.write(copy, modelBytes);
            for (Map.Entry<String, byte[]> e : externalBytes.entrySet()) {
                Path target = dir.resolve(e.getKey()).normalize();
                Files.createDirectories(target.getParent());
                Files.write(target, e.getValue());
            }
            return env.createSession(copy.toString(), so);
        } catch (IOException e) {
            throw new ModelConfigException(file, "path", "cannot write a private copy of the model: " + e, e);
        } finally {
            if (dir != null) {
                deleteRecursively(dir);
            }
        }
    }

    private static void deleteRecursively(Path dir) {
        try (java.util.stream.Stream<Path> paths = Files.walk(dir)) {
            paths.sorted(java.util.Comparator.reverseOrder())
                    .forEach(p -> p.toFile().delete());
        } catch (IOException e) {
            // a temp directory left behind is harmless
        }
    }

    /** Checks that an external-data location stays inside the model folder; returns the resolved file. */
    private static Path checkExternalData(String file, Path model, Path realFolder, OnnxExternalData.Ref ref) {
        String what = "model file " + model + ": tensor " + ref.where
                + (ref.tensorName.isEmpty() ? "" : " '" + ref.tensorName + "'");
        if (ref.location == null || ref.location.isEmpty()) {
            throw new ModelConfigException(
                    file, "path", what + " is stored as external data but has no external_data location");
        }
        Path loc;
        try {
            loc = Path.of(ref.location);
        } catch (RuntimeException e) {
            throw new ModelConfigException(
                    file, "path", what + " has an invalid external_data location '" + ref.location + "'");
        }
        Path resolved = realFolder.resolve(loc).normalize();
        boolean inside = !loc.isAbsolute() && resolved.startsWith(realFolder) && !resolved.equals(realFolder);
        if (inside && Files.exists(resolved)) {
            try {
                inside = resolved.toRealPath().startsWith(realFolder);
                resolved = resolved.toRealPath();
            } catch (IOException e) {
                inside = false;
            }
        }
        if (!inside) {
            throw new ModelConfigException(
                    file,
                    "path",
                    what + " has external_data location '"
                            + ref.location + "' resolving to " + resolved + ", outside the model folder "
                            + realFolder + "; refusing to load it");
        }
        return resolved;
    }

    /** Checks the session's input and output against the descriptor; returns {columns, posCol}. */
    private static int[] checkGraph(ModelDescriptor d, OrtSession session) throws OrtException {
        String file = d.descriptorFile();
        Map<String, NodeInfo> inputs = session.getInputInfo();
        String inField = d.isVectorInput() ? "input.vector_length" : "input.features";
        NodeInfo in = inputs.get(d.inputTensor());
        if (in == null) {
            throw new ModelConfigException(
                    file,
                    "input.tensor",
                    "graph has no input named '" + d.inputTensor() + "' (inputs: " + new TreeSet<>(inputs.keySet())
                            + ")");
        }
        if (inputs.size() != 1) {
            throw new ModelConfigException(
                    file,
                    "input.tensor",
                    "graph has " + inputs.size()
                            + " inputs " + new TreeSet<>(inputs.keySet()) + "; only one float32 [N, F] input is"
                            + " supported");
        }
        TensorInfo inInfo = tensorInfo(file, "input.tensor", "input", in);
        long[] inShape = inInfo.getShape();
        if (inInfo.type != OnnxJavaType.FLOAT) {
            throw new ModelConfigException(
                    file,
                    "input.tensor",
                    "graph input '" + d.inputTensor() + "' is " + inInfo.onnxType + ", expected float32");
        }
        if (inShape.length != 2) {
            throw new ModelConfigException(
                    file,
                    "input.tensor",
                    "graph input '" + d.inputTensor() + "' has shape " + shape(inShape)
                            + ", expected rank 2 [batch, features]");
        }
        if (inShape[0] > 0) {
            throw new ModelConfigException(
                    file,
                    "input.tensor",
                    "graph input '" + d.inputTensor() + "' has shape " + shape(inShape)
                            + ": the batch dimension must be dynamic");
        }
        if (inShape[1] != d.featureCount()) {
            throw new ModelConfigException(
                    file,
                    inField,
                    "descriptor declares " + d.featureCount()
                            + (d.isVectorInput() ? " vector values" : " features") + " but graph input '"
                            + d.inputTensor() + "' has shape " + shape(inShape)
                            + (inShape[1] < 0 ? " (a dynamic feature dimension cannot be checked)" : ""));
        }

        Map<String, NodeInfo> outputs = session.getOutputInfo();
        NodeInfo out = outputs.get(d.outputTensor());
        if (out == null) {
            throw new ModelConfigException(
                    file,
                    "output.tensor",
                    "graph has no output named '" + d.outputTensor() + "' (outputs: " + new TreeSet<>(outputs.keySet())
                            + ")");
        }
        TensorInfo outInfo = tensorInfo(file, "output.tensor", "output", out);
        long[] outShape = outInfo.getShape();
        String outDesc = "graph output '" + d.outputTensor() + "' has shape " + shape(outShape);
        if (outInfo.type != OnnxJavaType.FLOAT) {
            throw new ModelConfigException(
                    file,
                    "output.tensor",
                    "graph output '" + d.outputTensor() + "' is " + outInfo.onnxType + ", expected float32");
        }
        long last = outShape.length == 0 ? -1 : outShape[outShape.length - 1];
        switch (d.task()) {
            case BINARY:
                if (outShape.length != 2) {
                    throw new ModelConfigException(
                            file,
                            "output.tensor",
                            outDesc + ", a binary model needs [N, 2] probabilities or [N, 1] = P(positive)");
                }
                if (last == 2) {
                    return new int[] {2, d.positiveClass()};
                }
                if (last == 1) {
                    if (d.positiveClassDeclared() && d.positiveClass() != 0) {
                        throw new ModelConfigException(
                                file,
                                "output.positive_class",
                                outDesc
                                        + ": a one-column output is P(positive) itself, so positive_class must be 0 or"
                                        + " absent, got " + d.positiveClass());
                    }
                    return new int[] {1, 0};
                }
                throw new ModelConfigException(
                        file, "output.num_classes", outDesc + ", a binary model needs 2 columns (or 1 = P(positive))");
            case MULTICLASS:
                if (outShape.length != 2) {
                    throw new ModelConfigException(
                            file,
                            "output.tensor",
                            outDesc + ", a multiclass model needs [N, num_classes] probabilities");
                }
                if (last != d.numClasses()) {
                    throw new ModelConfigException(
                            file,
                            "output.num_classes",
                            "descriptor declares " + d.numClasses() + " classes but " + outDesc);
                }
                return new int[] {d.numClasses(), 0};
            default:
                if (!(outShape.length == 1 || (outShape.length == 2 && last == 1))) {
                    throw new ModelConfigException(
                            file, "output.tensor", outDesc + ", a regression model needs [N] or [N, 1]");
                }
                return new int[] {1, 0};
        }
    }

    private static TensorInfo tensorInfo(String file, String field, String kind, NodeInfo node) {
        ValueInfo info = node.getInfo();
        if (!(info instanceof TensorInfo)) {
            throw new ModelConfigException(
                    file, field, "graph " + kind + " '" + node.getName() + "' is not a tensor: " + info);
        }
        return (TensorInfo) info;
    }

    private static String shape(long[] shape) {
        return Arrays.toString(shape);
    }

    static String sha256(byte[] bytes) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("no SHA-256 in this JVM", e);
        }
    }

    // ------------------------------------------------------------------ scoring

    /** A new, empty batch of {@link ModelOptions#maxBatchSize()} rows; keep and reuse it. */
    public InputBatch newInputBatch() {
        ensureOpen();
        return new InputBatch(this, featureCount, options.maxBatchSize());
    }

    /**
     * Scores all finished rows of {@code batch} in one {@code OrtSession.run}. The result is this
     * model's reused {@link PredictionBatch}, valid until the next call.
     *
     * @throws IllegalStateException if the model is closed or the batch has an unfinished row
     * @throws IllegalArgumentException if the batch belongs to another model
     * @throws ModelScoringException if ONNX Runtime fails
     */
    public PredictionBatch score(InputBatch batch) {
        ensureOpen();
        if (batch.owner != this) {
            throw new IllegalArgumentException("the batch was made by another model's newInputBatch()");
        }
        if (batch.hasUnfinishedRow()) {
            throw new IllegalStateException("the batch has a row started with set() but not ended");
        }
        int n = batch.rows();
        prediction.reset();
        if (n == 0) {
            return prediction;
        }
        FloatBuffer in = batch.buffer;
        in.clear().limit(n * featureCount);
        try (OnnxTensor tensor = OnnxTensor.createTensor(env, in, new long[] {n, featureCount});
                OrtSession.Result result = session.run(Map.of(inputName, tensor), outputNames, runOptions)) {
            Optional<OnnxValue> value = result.get(descriptor.outputTensor());
            if (value.isEmpty() || !(value.get() instanceof OnnxTensor)) {
                throw new ModelScoringException(
                        descriptor.id() + ": run returned no tensor '" + descriptor.outputTensor() + "'");
            }
            OnnxTensor output = (OnnxTensor) value.get();
            long elements = output.getInfo().getNumElements();
            long[] shape = output.getInfo().getShape();
            if (elements != (long) n * outputColumns || shape[0] != n) {
                throw new ModelScoringException(descriptor.id() + ": " + n + " rows gave output shape "
                        + Arrays.toString(shape) + ", expected [" + n + ", " + outputColumns + "]");
            }
            prediction.fill(output.getFloatBuffer(), n);
            return prediction;
        } catch (OrtException e) {
            throw new ModelScoringException(
                    descriptor.id() + ": ONNX Runtime failed to score " + n + " rows: " + e.getMessage(), e);
        } finally {
            in.clear();
        }
    }

    /**
     * Asks the {@link #score} running on another thread to stop as soon as possible (ONNX Runtime checks
     * between operators); it then throws {@link ModelScoringException}. Until {@link #clearInterrupt()},
     * every later {@code score} stops at once too. Thread-safe.
     */
    public void interrupt() {
        setTerminate(true);
    }

    /** Lets {@link #score} run again after {@link #interrupt()}. */
    public void clearInterrupt() {
        setTerminate(false);
    }

    private void setTerminate(boolean terminate) {
        try {
            runOptions.setTerminate(terminate);
        } catch (OrtException e) {
            throw new IllegalStateException(descriptor.id() + ": cannot set the run's terminate flag", e);
        }
    }

    // ------------------------------------------------------------------ lifecycle

    public ModelDescriptor descriptor() {
        return descriptor;
    }

    public ModelOptions options() {
        return options;
    }

    /** The most rows one {@link #score} call takes. */
    public int maxBatchSize() {
        return options.maxBatchSize();
    }

    public boolean isClosed() {
        return closed;
    }

    /** Releases the native session; idempotent. Any later use throws IllegalStateException. */
    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        runOptions.close();
        try {
            lease.close();
        } catch (OrtException e) {
            throw new IllegalStateException(descriptor.id() + ": closing the ORT session failed", e);
        }
    }

    private void ensureOpen() {
        if (closed) {
            throw new IllegalStateException(descriptor.id() + " (" + descriptor.descriptorFile() + ") is closed");
        }
    }

    @Override
    public String toString() {
        return "OnnxModel{" + descriptor.id() + ", " + options + (closed ? ", closed" : "") + "}";
    }
}
