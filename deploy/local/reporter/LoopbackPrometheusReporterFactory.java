/* Creates LoopbackPrometheusReporter: metrics.reporter.<name>.host (default 127.0.0.1) and .port (a port or range). */
package org.apache.flink.metrics.prometheus;

import java.util.Properties;

import org.apache.flink.metrics.reporter.MetricReporter;
import org.apache.flink.metrics.reporter.MetricReporterFactory;
import org.apache.flink.util.PortRange;

public class LoopbackPrometheusReporterFactory implements MetricReporterFactory {
    @Override
    public MetricReporter createMetricReporter(Properties properties) {
        return new LoopbackPrometheusReporter(
                properties.getProperty("host", "127.0.0.1"), new PortRange(properties.getProperty("port", "9249")));
    }
}
