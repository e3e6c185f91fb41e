package io.shadowml.jobs.metrics;

import java.io.DataInput;
import java.io.DataOutput;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

import io.shadowml.models.ModelDescriptor.Task;

/**
 * Canary / A-B figures of one window (jobs/METRICS.md, "Canary and A/B"): per serving arm, the requests
 * it served, the outcomes of what it served (as labels arrived, and matured), and the parity of the
 * logged output with the arm's model as the job ran it; the requests whose served_by is no configured
 * arm; the entities seen and those seen in more than one arm. Arms are identified by served_by value and
 * model, so evidence kept across a change of canary.arms never mixes two models. Mergeable; not
 * thread-safe.
 */
public final class ArmEvidence {
    private static final int FORMAT_VERSION = 1;

    final List<Arm> arms = new ArrayList<>();
    long unmapped;
    long entities;
    long multiArmEntities;

    ArmEvidence() {}

    ArmEvidence(ArmLayout layout) {
        for (int a = 0; a < layout.arms(); a++) {
            arms.add(new Arm(layout.arm(a), layout.modelId(a), a == 0));
        }
    }

    /** A scored request: counted for its arm, its parity with the arm's model too. */
    void addScored(MetricEvent e, ModelLayout layout) {
        if (e.arm == MetricEvent.UNMAPPED_ARM) {
            unmapped++;
        }
        if (e.arm < 0) {
            return;
        }
        ArmLayout armLayout = layout.arms();
        Arm arm = arm(e.arm, armLayout);
        arm.scored++;
        if (e.failed(armLayout.model(e.arm))) {
            arm.errors++;
        }
        if (e.parity != MetricEvent.PARITY_NONE) {
            arm.parity.add(e.parity == MetricEvent.PARITY_FLIPPED, e.parityDifference);
        }
    }

    /** A labelled request, into the outcomes as they arrive or, when it matured, into the matured ones. */
    void addLabelled(MetricEvent e, ModelLayout layout, boolean matured) {
        if (e.arm < 0) {
            return;
        }
        ArmLayout armLayout = layout.arms();
        int model = armLayout.model(e.arm);
        if (e.failed(model) || e.absent(model)) {
            return; // the job has no output of the serving model to score the outcome with
        }
        Arm arm = arm(e.arm, armLayout);
        Outcomes into = matured ? arm.matured : arm.soFar;
        boolean correct = layout.task() != Task.REGRESSION && layout.correct(e.outputs, model, e.label);
        double business = armLayout.businessFeature() == null || Float.isNaN(e.businessValue)
                ? Double.NaN
                : armLayout.businessOutcome(layout, e.outputs, model, e.label, e.businessValue);
        into.add(correct, layout.loss(e.outputs, model, e.label), business);
    }

    /** An entity first served ({@link MetricEvent#ENTITY_SEEN}, with its arm) or served by a second arm. */
    void addEntity(MetricEvent e, ModelLayout layout) {
        if (e.kind == MetricEvent.ENTITY_MULTI_ARM) {
            multiArmEntities++;
            return;
        }
        entities++;
        if (e.arm >= 0) {
            arm(e.arm, layout.arms()).entities++;
        }
    }

    /** The arm at index {@code a} of {@code layout}: where it usually is, else found by identity or added. */
    private Arm arm(int a, ArmLayout layout) {
        String name = layout.arm(a);
        String model = layout.modelId(a);
        if (a < arms.size() && arms.get(a).is(name, model)) {
            return arms.get(a);
        }
        Arm found = find(name, model);
        if (found == null) {
            found = new Arm(name, model, a == 0);
            arms.add(found);
        }
        return found;
    }

    private Arm find(String name, String model) {
        for (Arm arm : arms) {
            if (arm.is(name, model)) {
                return arm;
            }
        }
        return null;
    }

    void merge(ArmEvidence o) {
        unmapped += o.unmapped;
        entities += o.entities;
        multiArmEntities += o.multiArmEntities;
        for (Arm theirs : o.arms) {
            Arm mine = find(theirs.arm, theirs.model);
            if (mine == null) {
                arms.add(theirs.copy());
            } else {
                mine.merge(theirs);
            }
        }
    }

    ArmEvidence copy() {
        ArmEvidence c = new ArmEvidence();
        c.unmapped = unmapped;
        c.entities = entities;
        c.multiArmEntities = multiArmEntities;
        for (Arm a : arms) {
            c.arms.add(a.copy());
        }
        return c;
    }

    public List<Arm> arms() {
        return arms;
    }

    /** The arm serving {@code name} with {@code model}, or null when it has no evidence here. */
    public Arm arm(String name, String model) {
        return find(name, model);
    }

    /** Scored requests whose served_by is not a configured arm. */
    public long unmapped() {
        return unmapped;
    }

    /** Entities first seen in an arm (within canary.sticky_ttl). */
    public long entities() {
        return entities;
    }

    /** Entities seen in a second arm. */
    public long multiArmEntities() {
        return multiArmEntities;
    }

    void writeTo(DataOutput out) throws IOException {
        out.writeByte(FORMAT_VERSION);
        MetricsIO.writeVarLong(out, unmapped);
        MetricsIO.writeVarLong(out, entities);
        MetricsIO.writeVarLong(out, multiArmEntities);
        MetricsIO.writeVarLong(out, arms.size());
        for (Arm a : arms) {
            out.writeUTF(a.arm);
            out.writeUTF(a.model);
            out.writeBoolean(a.control);
            MetricsIO.writeVarLong(out, a.scored);
            MetricsIO.writeVarLong(out, a.errors);
            MetricsIO.writeVarLong(out, a.entities);
            a.soFar.writeTo(out);
            a.matured.writeTo(out);
            a.parity.writeTo(out);
        }
    }

    static ArmEvidence readFrom(DataInput in) throws IOException {
        MetricsIO.checkVersion(in, FORMAT_VERSION, "ArmEvidence");
        ArmEvidence e = new ArmEvidence();
        e.unmapped = MetricsIO.readNonNegativeVarLong(in, "unmapped arm");
        e.entities = MetricsIO.readNonNegativeVarLong(in, "entities");
        e.multiArmEntities = MetricsIO.readNonNegativeVarLong(in, "multi-arm entities");
        long n = MetricsIO.readNonNegativeVarLong(in, "arms");
        if (n > 64) {
            throw new IOException("corrupt ArmEvidence: " + n + " arms");
        }
        for (int i = 0; i < n; i++) {
            Arm a = new Arm(in.readUTF(), in.readUTF(), in.readBoolean());
            a.scored = MetricsIO.readNonNegativeVarLong(in, "arm scored");
            a.errors = MetricsIO.readNonNegativeVarLong(in, "arm errors");
            a.entities = MetricsIO.readNonNegativeVarLong(in, "arm entities");
            a.soFar.readFrom(in);
            a.matured.readFrom(in);
            a.parity = DisagreementAccumulator.readFrom(in);
            e.arms.add(a);
        }
        return e;
    }

    @Override
    public boolean equals(Object o) {
        if (!(o instanceof ArmEvidence)) {
            return false;
        }
        ArmEvidence that = (ArmEvidence) o;
        return unmapped == that.unmapped
                && entities == that.entities
                && multiArmEntities == that.multiArmEntities
                && arms.equals(that.arms);
    }

    @Override
    public int hashCode() {
        return Objects.hash(unmapped, entities, multiArmEntities, arms);
    }

    /** One serving arm: a served_by value and the model that served it. */
    public static final class Arm {
        final String arm;
        final String model;
        final boolean control;
        long scored;
        /** Of scored, those the serving model had no usable output for when the job ran it. */
        long errors;
        /** Entities first served by this arm (within canary.sticky_ttl). */
        long entities;

        final Outcomes soFar = new Outcomes();
        final Outcomes matured = new Outcomes();
        DisagreementAccumulator parity = new DisagreementAccumulator();

        Arm(String arm, String model, boolean control) {
            this.arm = arm;
            this.model = model;
            this.control = control;
        }

        boolean is(String name, String modelId) {
            return arm.equals(name) && model.equals(modelId);
        }

        void merge(Arm o) {
            scored += o.scored;
            errors += o.errors;
            entities += o.entities;
            soFar.merge(o.soFar);
            matured.merge(o.matured);
            parity.merge(o.parity);
        }

        Arm copy() {
            Arm c = new Arm(arm, model, control);
            c.merge(this);
            return c;
        }

        public String arm() {
            return arm;
        }

        public String model() {
            return model;
        }

        public boolean control() {
            return control;
        }

        public long scored() {
            return scored;
        }

        public long errors() {
            return errors;
        }

        public long entities() {
            return entities;
        }

        /** Outcomes as their labels arrived: descriptive. */
        public Outcomes soFar() {
            return soFar;
        }

        /** Outcomes of the matured requests (label_maturity): what the canary verdict decides on. */
        public Outcomes matured() {
            return matured;
        }

        /** The logged outputs of the arm's requests against the arm's model as the job ran it. */
        public DisagreementAccumulator parity() {
            return parity;
        }

        @Override
        public boolean equals(Object o) {
            if (!(o instanceof Arm)) {
                return false;
            }
            Arm a = (Arm) o;
            return arm.equals(a.arm)
                    && model.equals(a.model)
                    && control == a.control
                    && scored == a.scored
                    && errors == a.errors
                    && entities == a.entities
                    && soFar.equals(a.soFar)
                    && matured.equals(a.matured)
                    && parity.equals(a.parity);
        }

        @Override
        public int hashCode() {
            return Objects.hash(arm, model, scored);
        }
    }

    /**
     * The labelled outcomes of what one arm served: how many, how many correct (classification), the
     * sum and sum of squares of the per-request loss ({@link Loss}) and of the business value (over the
     * requests that carry the business feature).
     */
    public static final class Outcomes {
        long labelled;
        long correct;
        double lossSum;
        double lossSquares;
        long businessCount;
        double businessSum;
        double businessSquares;

        /** None yet. */
        public Outcomes() {}

        void add(boolean isCorrect, double loss, double business) {
            labelled++;
            if (isCorrect) {
                correct++;
            }
            lossSum += loss;
            lossSquares += loss * loss;
            if (!Double.isNaN(business)) {
                businessCount++;
                businessSum += business;
                businessSquares += business * business;
            }
        }

        void merge(Outcomes o) {
            labelled += o.labelled;
            correct += o.correct;
            lossSum += o.lossSum;
            lossSquares += o.lossSquares;
            businessCount += o.businessCount;
            businessSum += o.businessSum;
            businessSquares += o.businessSquares;
        }

        public long labelled() {
            return labelled;
        }

        public long correct() {
            return correct;
        }

        /** correct / labelled; NaN without outcomes. */
        public double accuracy() {
            return MetricsIO.ratio(correct, labelled);
        }

        public double meanLoss() {
            return MetricsIO.mean(lossSum, labelled);
        }

        /** Sample variance (n − 1) of correct-or-not; NaN below two outcomes. */
        public double accuracyVariance() {
            return variance(correct, correct, labelled);
        }

        /** Sample variance (n − 1) of the per-request loss; NaN below two outcomes. */
        public double lossVariance() {
            return variance(lossSum, lossSquares, labelled);
        }

        public long businessCount() {
            return businessCount;
        }

        public double businessMean() {
            return MetricsIO.mean(businessSum, businessCount);
        }

        public double businessVariance() {
            return variance(businessSum, businessSquares, businessCount);
        }

        private static double variance(double sum, double squares, long n) {
            if (n < 2) {
                return Double.NaN;
            }
            double mean = sum / n;
            return Math.max(0.0, (squares - n * mean * mean) / (n - 1));
        }

        void writeTo(DataOutput out) throws IOException {
            MetricsIO.writeVarLong(out, labelled);
            MetricsIO.writeVarLong(out, correct);
            out.writeDouble(lossSum);
            out.writeDouble(lossSquares);
            MetricsIO.writeVarLong(out, businessCount);
            out.writeDouble(businessSum);
            out.writeDouble(businessSquares);
        }

        void readFrom(DataInput in) throws IOException {
            labelled = MetricsIO.readNonNegativeVarLong(in, "arm labelled");
            correct = MetricsIO.readNonNegativeVarLong(in, "arm correct");
            lossSum = in.readDouble();
            lossSquares = in.readDouble();
            businessCount = MetricsIO.readNonNegativeVarLong(in, "arm business count");
            businessSum = in.readDouble();
            businessSquares = in.readDouble();
        }

        @Override
        public boolean equals(Object o) {
            if (!(o instanceof Outcomes)) {
                return false;
            }
            Outcomes x = (Outcomes) o;
            return labelled == x.labelled
                    && correct == x.correct
                    && lossSum == x.lossSum
                    && lossSquares == x.lossSquares
                    && businessCount == x.businessCount
                    && businessSum == x.businessSum
                    && businessSquares == x.businessSquares;
        }

        @Override
        public int hashCode() {
            return Objects.hash(labelled, correct, lossSum, businessSum);
        }
    }
}
