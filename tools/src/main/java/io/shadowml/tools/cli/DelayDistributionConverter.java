package io.shadowml.tools.cli;

import picocli.CommandLine.ITypeConverter;
import picocli.CommandLine.TypeConversionException;

import io.shadowml.tools.io.DelayDistribution;

/** {@code --label-delay fixed:7d | lognormal:median=3d,sigma=0.8[,never=0.05]}, read by {@link DelayDistribution}. */
public final class DelayDistributionConverter implements ITypeConverter<DelayDistribution> {
    @Override
    public DelayDistribution convert(String value) {
        try {
            return DelayDistribution.parse(value);
        } catch (IllegalArgumentException e) {
            throw new TypeConversionException(e.getMessage());
        }
    }
}
