package io.shadowml.local.dashboard;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.BindException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;

/**
 * The demo's built-in dashboard: a JDK {@link HttpServer} on 127.0.0.1 serving one static page (HTML, JS and
 * CSS from the jar, nothing from the internet) and {@code GET /api/summary}, the JSON the page polls. A
 * {@link DashboardFeed} follows the job's output topics into a bounded {@link DashboardState}.
 */
public final class Dashboard implements AutoCloseable {
    private static final String RESOURCES = "/io/shadowml/local/dashboard/";
    private static final Map<String, String> STATIC = Map.of(
            "/", "index.html",
            "/index.html", "index.html",
            "/app.js", "app.js",
            "/style.css", "style.css",
            "/favicon.svg", "favicon.svg");

    private final DashboardState state;
    private final HttpServer server;
    private final ExecutorService executor;
    private final DashboardFeed feed;
    private final Thread feedThread;

    private Dashboard(DashboardState state, HttpServer server, ExecutorService executor, DashboardFeed feed) {
        this.state = state;
        this.server = server;
        this.executor = executor;
        this.feed = feed;
        if (feed != null) {
            feedThread = new Thread(feed, "dashboard-feed");
            feedThread.setDaemon(true);
            feedThread.start();
        } else {
            feedThread = null;
        }
    }

    /** Serves on the preferred port, or the next free one, and follows the default topic names. */
    public static Dashboard start(String bootstrapServers, int preferredPort) throws IOException {
        return start(bootstrapServers, "reports", "verdicts", "scored-events", "dead-letters", preferredPort);
    }

    public static Dashboard start(
            String bootstrapServers,
            String reportsTopic,
            String verdictsTopic,
            String scoredEventsTopic,
            String deadLettersTopic,
            int preferredPort)
            throws IOException {
        DashboardState state = new DashboardState();
        HttpServer server = bind(preferredPort);
        DashboardFeed feed = new DashboardFeed(
                bootstrapServers,
                new DashboardFeed.Topics(reportsTopic, verdictsTopic, scoredEventsTopic, deadLettersTopic),
                state);
        return serve(state, server, feed);
    }

    /** Serves a state fed by the caller (no Kafka). */
    public static Dashboard serve(DashboardState state, int preferredPort) throws IOException {
        return serve(state, bind(preferredPort), null);
    }

    private static Dashboard serve(DashboardState state, HttpServer server, DashboardFeed feed) {
        ExecutorService executor = Executors.newFixedThreadPool(2, r -> {
            Thread t = new Thread(r, "dashboard-http");
            t.setDaemon(true);
            return t;
        });
        server.setExecutor(executor);
        Dashboard d = new Dashboard(state, server, executor, feed);
        server.createContext("/", d::handle);
        server.start();
        return d;
    }

    /** The preferred port if free, else the next free one of the following 20, else any free port. */
    private static HttpServer bind(int preferred) throws IOException {
        InetAddress loopback = InetAddress.getByName("127.0.0.1");
        if (preferred > 0) {
            for (int p = preferred; p < preferred + 20 && p <= 65535; p++) {
                try {
                    return HttpServer.create(new InetSocketAddress(loopback, p), 16);
                } catch (BindException busy) {
                    // try the next one
                }
            }
        }
        return HttpServer.create(new InetSocketAddress(loopback, 0), 16);
    }

    public int port() {
        return server.getAddress().getPort();
    }

    public String url() {
        return "http://localhost:" + port();
    }

    public DashboardState state() {
        return state;
    }

    private void handle(HttpExchange ex) throws IOException {
        try (ex) {
            String path = ex.getRequestURI().getPath();
            if (!ex.getRequestMethod().equals("GET") && !ex.getRequestMethod().equals("HEAD")) {
                send(ex, 405, "text/plain", "method not allowed\n".getBytes(StandardCharsets.UTF_8));
                return;
            }
            if (path.equals("/api/summary")) {
                send(
                        ex,
                        200,
                        "application/json; charset=utf-8",
                        state.summaryJson().getBytes(StandardCharsets.UTF_8));
                return;
            }
            String resource = STATIC.get(path);
            if (resource == null) {
                send(ex, 404, "text/plain", ("not found: " + path + "\n").getBytes(StandardCharsets.UTF_8));
                return;
            }
            try (InputStream in = Dashboard.class.getResourceAsStream(RESOURCES + resource)) {
                if (in == null) {
                    send(
                            ex,
                            500,
                            "text/plain",
                            ("missing resource " + resource + "\n").getBytes(StandardCharsets.UTF_8));
                    return;
                }
                send(ex, 200, contentType(resource), in.readAllBytes());
            }
        }
    }

    private static String contentType(String name) {
        if (name.endsWith(".html")) {
            return "text/html; charset=utf-8";
        } else if (name.endsWith(".js")) {
            return "text/javascript; charset=utf-8";
        } else if (name.endsWith(".css")) {
            return "text/css; charset=utf-8";
        } else if (name.endsWith(".svg")) {
            return "image/svg+xml";
        }
        return "application/octet-stream";
    }

    private static void send(HttpExchange ex, int status, String type, byte[] body) throws IOException {
        ex.getResponseHeaders().set("Content-Type", type);
        ex.getResponseHeaders().set("Cache-Control", "no-store");
        boolean head = ex.getRequestMethod().equals("HEAD");
        ex.sendResponseHeaders(status, head ? -1 : body.length);
        if (!head) {
            try (OutputStream out = ex.getResponseBody()) {
                out.write(body);
            }
        }
    }

    @Override
    public void close() {
        if (feed != null) {
            feed.close();
            try {
                feedThread.join(3_000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        server.stop(0);
        executor.shutdownNow();
    }
}
