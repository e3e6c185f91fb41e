package io.shadowml.jobs.control;

import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

import org.apache.flink.api.common.state.ListState;
import org.apache.flink.api.common.state.ListStateDescriptor;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.metrics.Counter;
import org.apache.flink.runtime.state.StateInitializationContext;
import org.apache.flink.runtime.state.StateSnapshotContext;
import org.apache.flink.streaming.api.operators.AbstractStreamOperator;
import org.apache.flink.streaming.api.operators.OneInputStreamOperator;
import org.apache.flink.streaming.runtime.streamrecord.StreamRecord;
import org.apache.flink.util.OutputTag;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import io.shadowml.avro.DeadLetter;
import io.shadowml.avro.Decision;
import io.shadowml.avro.ModelControl;
import io.shadowml.avro.ModelControlAction;
import io.shadowml.avro.Verdict;
import io.shadowml.jobs.io.Decoded;
import io.shadowml.jobs.metrics.ModelLayout;
import io.shadowml.jobs.validate.DeadLetters;
import io.shadowml.models.ModelDescriptor;
import io.shadowml.models.ModelOptions;
import io.shadowml.models.OnnxModel;

/**
 * Applies the control topic's announcements to the {@link ModelTable}, one at a time (parallelism 1, so
 * there is one order), and emits each change for the scoring and reporting operators to follow. An
 * announced model is checked exactly as at start, by loading it: a descriptor that does not parse, a file
 * whose sha256 or graph is wrong, a model that does not answer the live model's question. Anything it
 * cannot apply is a dead letter with the reason, and a rejected model also gets a REJECT verdict; the job
 * runs on.
 *
 * <p>Restored with another model set in the YAML, it announces the difference itself ({@link
 * ModelTable#reconcile}), as soon as it runs: a stream operator, because no control record may come for
 * weeks.
 */
public class ModelControlValidator extends AbstractStreamOperator<SlotAssignment>
        implements OneInputStreamOperator<Decoded<ModelControl>, SlotAssignment> {
    private static final long serialVersionUID = 1L;
    private static final Logger LOG = LoggerFactory.getLogger(ModelControlValidator.class);

    /** REJECT verdicts of announced models that cannot be compared. */
    public static final OutputTag<Verdict> REJECTED = new OutputTag<>("rejected-models") {};
    /**
     * The changes as each live generation's report assembler sees them ({@link ModelTable#logical}); the
     * main output is the physical table and the switches, for the scoring operator.
     */
    public static final OutputTag<SlotAssignment> LOGICAL = new OutputTag<>("logical-model-changes") {};

    private final String experimentId;
    private final ModelLayout slots;
    private final long horizonMillis;
    private final long windowMillis;
    /** Why this job cannot switch its live model at all (a logged live model, a canary), or null. */
    private String noSwitch;
    /** Per slot of the YAML's models, the share of the traffic it scores (candidate_sample_rates). */
    private double[] sampleRates;
    /** The YAML's candidates, and the event time from which a restore applies a change of them. */
    private List<YamlModel> yamlCandidates = List.of();

    private long yamlEffectiveTime;

    private transient ModelTable table;
    /** What a restore found changed in the YAML, until it is sent. */
    private transient List<ModelTable.Reconciled> reconciled;

    private transient List<SlotAssignment> changes;
    private transient ListState<SlotAssignment> changesState;
    private transient Counter deadLettered;

    public ModelControlValidator(String experimentId, ModelLayout slots, long horizonMillis, long windowMillis) {
        this.experimentId = experimentId;
        this.slots = slots;
        this.horizonMillis = horizonMillis;
        this.windowMillis = windowMillis;
    }

    /**
     * SWITCH_LIVE is refused with {@code noSwitch} when not null. {@code sampleRates} (per slot; null: all
     * alike) is each slot's share of the traffic: a model goes only into a slot that samples as it does,
     * and only one that scores all of the experiment's traffic can become the live model.
     */
    public ModelControlValidator withSwitchLimits(String noSwitch, double[] sampleRates) {
        this.noSwitch = noSwitch;
        this.sampleRates = sampleRates == null ? null : sampleRates.clone();
        return this;
    }

    /**
     * The YAML's candidates ({@code yaml}, in order): a restore whose YAML has other candidates than the
     * saved table's retires the ones gone and adds the new ones from event time {@code effectiveTime}.
     */
    public ModelControlValidator withYaml(List<YamlModel> yaml, long effectiveTime) {
        this.yamlCandidates = List.copyOf(yaml);
        this.yamlEffectiveTime = effectiveTime;
        return this;
    }

    @Override
    public void initializeState(StateInitializationContext context) throws Exception {
        super.initializeState(context);
        changesState = context.getOperatorStateStore()
                .getListState(new ListStateDescriptor<>("model-changes", TypeInformation.of(SlotAssignment.class)));
        changes = new ArrayList<>();
        for (SlotAssignment a : changesState.get()) {
            changes.add(a);
        }
        table = ModelTable.restored(slots, horizonMillis, windowMillis, changes).withSampleRates(sampleRates);
        reconciled = context.isRestored() ? table.reconcile(yamlCandidates, yamlEffectiveTime) : List.of();
    }

    @Override
    public void snapshotState(StateSnapshotContext context) throws Exception {
        super.snapshotState(context);
        // The latest per slot is all the table needs: the list stays as small as the slots.
        changesState.update(table.assignments());
    }

    @Override
    public void open() throws Exception {
        super.open();
        deadLettered = getMetricGroup().addGroup("experiment", experimentId).counter("control_dead_lettered");
        if (!reconciled.isEmpty()) {
            // Sent when the task runs (or before a checkpoint's barrier, if that comes first).
            getProcessingTimeService()
                    .registerTimer(getProcessingTimeService().getCurrentProcessingTime(), t -> sendReconciled());
        }
    }

    @Override
    public void prepareSnapshotPreBarrier(long checkpointId) throws Exception {
        sendReconciled();
        super.prepareSnapshotPreBarrier(checkpointId);
    }

    /** The changes a restore found in the YAML, for the scoring and reporting operators. */
    private void sendReconciled() {
        for (ModelTable.Reconciled r : reconciled) {
            if (r.rejection != null) {
                LOG.warn("{}: {} {}", experimentId, r.modelId, r.rejection);
                output.collect(REJECTED, new StreamRecord<>(rejection(r.modelId, yamlEffectiveTime, r.rejection)));
            } else {
                LOG.info("{}: the restored job's YAML changed: {}", experimentId, r.physical);
                output.collect(new StreamRecord<>(r.physical));
                output.collect(LOGICAL, new StreamRecord<>(r.logical));
            }
        }
        reconciled = List.of();
    }

    @Override
    public void processElement(StreamRecord<Decoded<ModelControl>> record) {
        Decoded<ModelControl> in = record.getValue();
        if (in.deadLetter != null) {
            deadLetter(in.deadLetter);
            return;
        }
        ModelControl c = in.value;
        String id = c.getModelId();
        if (!experimentId.equals(c.getExperimentId())) {
            deadLetter(in.reject(
                    "announcement for experiment '" + c.getExperimentId() + "', this job runs '" + experimentId + "'"));
            return;
        }
        long effective = (c.getEffectiveTime() != null ? c.getEffectiveTime() : c.getIssuedAt()).toEpochMilli();
        try {
            SlotAssignment change;
            switch (c.getAction()) {
                case ADD_CANDIDATE:
                    change = table.add(checkedDescriptor(c), c.getDescriptor(), c.getDescriptorFile(), effective);
                    break;
                case RETIRE_CANDIDATE:
                    change = table.retire(id, effective);
                    break;
                case SWITCH_LIVE:
                    checkSwitchable();
                    ModelTable.LiveSwitch s = table.switchLive(id, effective);
                    LOG.info("{}: SWITCH_LIVE {}", experimentId, s.marker);
                    output.collect(new StreamRecord<>(s.marker));
                    for (SlotAssignment l : s.logical) {
                        output.collect(LOGICAL, new StreamRecord<>(l));
                    }
                    return;
                default:
                    throw new Unsupported(c.getAction() + " is not supported by this version of the job");
            }
            if (change == null) {
                LOG.info(
                        "{}: {} is already a candidate; announcement at offset {} ignored",
                        experimentId,
                        id,
                        in.offset);
                return;
            }
            LOG.info("{}: {} {}", experimentId, c.getAction(), change);
            output.collect(new StreamRecord<>(change));
            output.collect(LOGICAL, new StreamRecord<>(table.logical(change)));
        } catch (ModelTable.Rejected | RuntimeException e) {
            String reason = c.getAction() + " " + id + " rejected: " + e.getMessage();
            deadLetter(in.reject(reason));
            if (c.getAction() == ModelControlAction.ADD_CANDIDATE) {
                output.collect(REJECTED, new StreamRecord<>(rejection(id, effective, reason)));
            }
        } catch (Unsupported e) {
            deadLetter(in.reject(e.getMessage()));
        }
    }

    /** What this job's config rules out for a new live model (the table checks the rest). */
    private void checkSwitchable() throws ModelTable.Rejected {
        if (noSwitch != null) {
            throw new ModelTable.Rejected(noSwitch);
        }
    }

    /** The announced descriptor, parsed and its model loaded as at start (then closed again). */
    private static ModelDescriptor checkedDescriptor(ModelControl c) {
        if (c.getDescriptor() == null || c.getDescriptorFile() == null) {
            throw new IllegalArgumentException("ADD_CANDIDATE needs descriptor and descriptor_file");
        }
        ModelDescriptor d = ModelDescriptor.fromJson(c.getDescriptor(), Path.of(c.getDescriptorFile()));
        if (!d.id().equals(c.getModelId())) {
            throw new IllegalArgumentException(
                    "model_id " + c.getModelId() + " is not the descriptor's name:version " + d.id());
        }
        try (OnnxModel loaded = OnnxModel.load(d, ModelOptions.defaults())) {
            return d;
        }
    }

    private Verdict rejection(String id, long at, String reason) {
        return Verdict.newBuilder()
                .setExperimentId(experimentId)
                .setCandidate(id)
                .setDecidedAt(Instant.ofEpochMilli(at))
                .setDecision(Decision.REJECT)
                .setFirstDecidedAt(Instant.ofEpochMilli(at))
                .setReasons(List.of(reason))
                .build();
    }

    private void deadLetter(DeadLetter d) {
        d.setExperimentId(experimentId);
        deadLettered.inc();
        LOG.warn("{}: control record dead-lettered: {}", experimentId, d.getReason());
        output.collect(DeadLetters.TAG, new StreamRecord<>(d));
    }

    /** An action this version does not apply. */
    private static final class Unsupported extends Exception {
        private static final long serialVersionUID = 1L;

        Unsupported(String message) {
            super(message);
        }
    }
}
