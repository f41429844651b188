package dev.weir.agent.cni;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Function;
import jdk.net.ExtendedSocketOptions;
import jdk.net.UnixDomainPrincipal;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The agent's side of weir-cni: a Unix socket in a directory only root can enter, answering one
 * CNI call per connection. The peer must be root (checked with SO_PEERCRED, not only by the file
 * mode); a request is bounded in size and in time; a few calls run at once and the rest are told
 * to try again, so a runtime's burst of pod starts cannot queue without bound.
 */
public final class CniServer implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(CniServer.class);
    static final int WORKERS = 4;
    static final int QUEUE = 64;
    /** A request must arrive whole within this; weir-cni sends it in one go. */
    static final long READ_TIMEOUT_MS = 10_000;

    private final Path socket;
    private final Function<CniRequest, CniAnswer> handler;
    private final ServerSocketChannel server;
    private final ThreadPoolExecutor workers;
    private final ScheduledExecutorService timeouts = Executors.newSingleThreadScheduledExecutor(daemon("weir-cni-timeout"));
    private final Thread acceptor;
    private final AtomicLong refused = new AtomicLong();
    private final AtomicLong handled = new AtomicLong();
    private volatile boolean closed;

    private CniServer(Path socket, Function<CniRequest, CniAnswer> handler) throws IOException {
        this.socket = socket;
        this.handler = handler;
        Path dir = socket.getParent();
        Files.createDirectories(dir);
        Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwx------"));
        // A socket file an earlier run left behind would make bind fail; nobody listens on it any more.
        Files.deleteIfExists(socket);
        this.server = ServerSocketChannel.open(StandardProtocolFamily.UNIX);
        server.bind(UnixDomainSocketAddress.of(socket));
        Files.setPosixFilePermissions(socket, PosixFilePermissions.fromString("rw-------"));
        this.workers = new ThreadPoolExecutor(WORKERS, WORKERS, 0, TimeUnit.MILLISECONDS, new ArrayBlockingQueue<>(QUEUE),
                daemon("weir-cni"));
        this.acceptor = daemon("weir-cni-accept").newThread(this::accept);
    }

    public static CniServer start(Path socket, Function<CniRequest, CniAnswer> handler) throws IOException {
        CniServer s = new CniServer(socket, handler);
        s.acceptor.start();
        LOG.info("CNI requests on {}", socket);
        return s;
    }

    public Path socket() {
        return socket;
    }

    /** Calls answered, and calls refused (not root, malformed, too many at once). */
    public long handled() {
        return handled.get();
    }

    public long refused() {
        return refused.get();
    }

    /** Whether calls are being accepted: false once the accept loop has given up (health says so). */
    public boolean healthy() {
        return !closed && acceptor.isAlive() && server.isOpen();
    }

    private void accept() {
        long backoff = 10;
        while (!closed) {
            SocketChannel connection;
            try {
                connection = server.accept();
                backoff = 10;
            } catch (java.nio.channels.ClosedChannelException e) {
                return;
            } catch (IOException e) {
                // Out of file descriptors, say: wait and go on, a pod start is retried by its runtime.
                LOG.warn("CNI socket: {}; accepting again in {} ms", e.toString(), backoff);
                try {
                    Thread.sleep(backoff);
                } catch (InterruptedException interrupted) {
                    return;
                }
                backoff = Math.min(2000, backoff * 2);
                continue;
            }
            try {
                workers.execute(() -> serve(connection));
            } catch (RejectedExecutionException e) {
                refused.incrementAndGet();
                answer(connection, CniAnswer.error(null, CniAnswer.TRY_AGAIN_LATER,
                        "the weir agent is busy with other pods; try again later"));
            }
        }
    }

    private void serve(SocketChannel connection) {
        var timeout = timeouts.schedule(() -> closeQuietly(connection), READ_TIMEOUT_MS, TimeUnit.MILLISECONDS);
        try (connection) {
            UnixDomainPrincipal peer = connection.getOption(ExtendedSocketOptions.SO_PEERCRED);
            if (!"root".equals(peer.user().getName())) {
                refused.incrementAndGet();
                LOG.warn("CNI call from {} refused: only root may attach pods", peer.user().getName());
                return;
            }
            byte[] wire = readAll(connection);
            timeout.cancel(false);
            CniRequest request;
            try {
                request = CniRequest.parse(wire);
            } catch (IllegalArgumentException e) {
                refused.incrementAndGet();
                answer(connection, CniAnswer.error(null, CniAnswer.DECODE_FAILURE, e.getMessage()));
                return;
            }
            CniAnswer answer;
            try {
                answer = handler.apply(request);
            } catch (RuntimeException e) {
                LOG.warn("CNI {} for {} failed", request.command(), request.containerId(), e);
                answer = CniAnswer.error(null, CniAnswer.DATAPATH_FAILURE, "the weir agent failed: " + e.getMessage());
            }
            handled.incrementAndGet();
            answer(connection, answer);
        } catch (IOException e) {
            refused.incrementAndGet();
            LOG.debug("CNI connection: {}", e.toString());
        } finally {
            timeout.cancel(false);
        }
    }

    private static byte[] readAll(SocketChannel connection) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteBuffer buffer = ByteBuffer.allocate(16 * 1024);
        int limit = CniRequest.MAX_CONFIG + CniRequest.MAX_HEADER;
        while (connection.read(buffer) >= 0) {
            buffer.flip();
            out.write(buffer.array(), 0, buffer.limit());
            buffer.clear();
            if (out.size() > limit) {
                throw new IOException("request larger than " + limit + " bytes");
            }
        }
        return out.toByteArray();
    }

    private static void answer(SocketChannel connection, CniAnswer answer) {
        try (connection) {
            ByteBuffer out = ByteBuffer.wrap(answer.wire());
            while (out.hasRemaining()) {
                connection.write(out);
            }
        } catch (IOException e) {
            LOG.debug("answering a CNI call: {}", e.toString());
        }
    }

    private static void closeQuietly(SocketChannel connection) {
        try {
            connection.close();
        } catch (IOException ignored) {
            // The read it bounds fails and reports.
        }
    }

    private static java.util.concurrent.ThreadFactory daemon(String name) {
        return r -> {
            Thread t = new Thread(r, name);
            t.setDaemon(true);
            return t;
        };
    }

    @Override
    public void close() {
        closed = true;
        try {
            server.close();
        } catch (IOException ignored) {
            // Closing; nothing to report.
        }
        workers.shutdownNow();
        timeouts.shutdownNow();
        try {
            Files.deleteIfExists(socket);
        } catch (IOException e) {
            LOG.debug("removing {}: {}", socket, e.toString());
        }
    }
}
