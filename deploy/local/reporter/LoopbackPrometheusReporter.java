/*
 * The local cluster's Prometheus reporter: Flink's own (same metric names and labels), but listening on
 * one address (127.0.0.1) instead of every interface, which Flink's PrometheusReporter cannot be told to
 * do. In Flink's package because the collector registry it serves is package-private there. Compiled and
 * put next to flink-metrics-prometheus in plugins/metrics-prometheus/ by start.sh.
 */
package org.apache.flink.metrics.prometheus;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.util.Iterator;

import org.apache.flink.util.PortRange;

import io.prometheus.client.exporter.HTTPServer;

public class LoopbackPrometheusReporter extends AbstractPrometheusReporter {
    private final HTTPServer httpServer;

    LoopbackPrometheusReporter(String host, PortRange ports) {
        HTTPServer started = null;
        Iterator<Integer> it = ports.getPortsIterator();
        while (started == null && it.hasNext()) {
            int port = it.next();
            try {
                started = new HTTPServer(new InetSocketAddress(host, port), registry);
                log.info("Started the Prometheus reporter's HTTP server on {}:{}.", host, port);
            } catch (IOException e) { // taken: try the next port of the range
                log.debug("Could not start the Prometheus reporter's HTTP server on {}:{}.", host, port, e);
            }
        }
        if (started == null) {
            throw new RuntimeException("Could not start the Prometheus reporter's HTTP server on " + host + " at any of "
                    + ports);
        }
        httpServer = started;
    }

    @Override
    public void close() {
        httpServer.stop();
        super.close();
    }
}
