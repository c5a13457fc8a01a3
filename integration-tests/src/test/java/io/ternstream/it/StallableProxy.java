package io.ternstream.it;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.time.Duration;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * A loopback TCP proxy that can stall: for a while it forwards nothing in either direction, holding
 * the bytes it has read, without closing a connection — what a congested or partitioned network
 * does to the client on one side, while TCP itself stays up.
 */
final class StallableProxy implements AutoCloseable {
    private final ServerSocket server;
    private final Set<Socket> sockets = ConcurrentHashMap.newKeySet();
    private final Object gate = new Object();
    /** System.nanoTime() until which nothing is forwarded; guarded by {@link #gate}. */
    private long stalledUntil = System.nanoTime();
    private volatile boolean open = true;

    private StallableProxy(ServerSocket server) {
        this.server = server;
    }

    /** Binds a free loopback port; nothing is accepted before {@link #forwardTo}. */
    static StallableProxy bind() throws IOException {
        return new StallableProxy(new ServerSocket(0, 50, InetAddress.getLoopbackAddress()));
    }

    int port() {
        return server.getLocalPort();
    }

    /** Starts accepting; each connection gets its own connection to the target port. */
    void forwardTo(int targetPort) {
        Thread.ofPlatform().daemon().name("proxy-" + port()).start(() -> {
            while (open) {
                try {
                    Socket client = server.accept();
                    Socket target = new Socket();
                    try {
                        target.connect(new InetSocketAddress(InetAddress.getLoopbackAddress(), targetPort), 5000);
                    } catch (IOException e) {
                        client.close(); // the broker is down: the client sees a refused connection, as without a proxy
                        target.close();
                        continue;
                    }
                    sockets.add(client);
                    sockets.add(target);
                    Thread.ofVirtual().start(() -> pump(client, target));
                    Thread.ofVirtual().start(() -> pump(target, client));
                } catch (IOException e) {
                    if (open) {
                        throw new IllegalStateException("proxy " + port() + " cannot accept", e);
                    }
                }
            }
        });
    }

    /** Forwards nothing for {@code duration} from now; returns at once. */
    void stall(Duration duration) {
        synchronized (gate) {
            stalledUntil = System.nanoTime() + duration.toNanos();
        }
    }

    private void pump(Socket from, Socket to) {
        byte[] buffer = new byte[64 * 1024];
        try (InputStream in = from.getInputStream(); OutputStream out = to.getOutputStream()) {
            int n;
            while ((n = in.read(buffer)) >= 0) {
                awaitFlowing();
                out.write(buffer, 0, n);
                out.flush();
            }
        } catch (IOException e) {
            // one side went away: so does the other
        } finally {
            closeQuietly(from);
            closeQuietly(to);
        }
    }

    private void awaitFlowing() {
        synchronized (gate) {
            long left;
            while ((left = stalledUntil - System.nanoTime()) > 0) {
                try {
                    gate.wait(Math.max(1, left / 1_000_000));
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    return;
                }
            }
        }
    }

    private void closeQuietly(Socket socket) {
        sockets.remove(socket);
        try {
            socket.close();
        } catch (IOException e) {
            // already closed
        }
    }

    @Override
    public void close() {
        open = false;
        try {
            server.close();
        } catch (IOException e) {
            // already closed
        }
        sockets.forEach(this::closeQuietly);
    }
}
