package io.tessera.testing;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.atomic.AtomicReference;

/**
 * A TCP proxy in front of a database server that can cut one connection exactly at its COMMIT, to
 * test what a writer does when it cannot know whether its COMMIT happened. A connection is watched
 * once it has sent a statement naming {@code marker} (e.g. the ledger table only the publish
 * transaction writes); its next {@code COMMIT} is then either never delivered ({@link
 * Cut#BEFORE_COMMIT}: the server rolls back) or delivered while the client's side is closed before
 * the answer arrives ({@link Cut#AFTER_COMMIT}: the server commits, the client sees a broken
 * connection). Other connections pass untouched.
 *
 * <p>PostgreSQL and MariaDB send statement text as UTF-8 and run {@code COMMIT} from one message.
 * H2's TCP protocol sends text as UTF-16 and its {@code commit()} first prepares {@code COMMIT}
 * (one round trip) and then executes it by id in the next message: for such a connection the cut is
 * applied to the message after the one holding the text.
 */
public final class CommitCuttingProxy implements AutoCloseable {
  /** Where to cut the watched connection. */
  public enum Cut {
    NONE,
    BEFORE_COMMIT,
    AFTER_COMMIT
  }

  private final ServerSocket server;
  private final String targetHost;
  private final int targetPort;
  private final byte[] marker;
  private final byte[] marker16;
  private static final byte[] COMMIT = "COMMIT".getBytes(StandardCharsets.US_ASCII);
  private static final byte[] COMMIT16 = "COMMIT".getBytes(StandardCharsets.UTF_16BE);
  private final AtomicReference<Cut> cut = new AtomicReference<>(Cut.NONE);
  private volatile boolean cutDone;
  private final java.util.concurrent.atomic.AtomicInteger refuseAfterCut =
      new java.util.concurrent.atomic.AtomicInteger();

  public CommitCuttingProxy(String targetHost, int targetPort, String marker) throws IOException {
    this.server = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
    this.targetHost = targetHost;
    this.targetPort = targetPort;
    this.marker = marker.getBytes(StandardCharsets.UTF_8);
    this.marker16 = marker.getBytes(StandardCharsets.UTF_16BE);
    Thread accept = new Thread(this::acceptLoop, "commit-cutting-proxy");
    accept.setDaemon(true);
    accept.start();
  }

  public int port() {
    return server.getLocalPort();
  }

  /** Cuts the next watched COMMIT as {@code how}; one cut per call. */
  public void arm(Cut how) {
    arm(how, 0);
  }

  /** As {@link #arm(Cut)}, and then closes the next {@code refuse} new connections at once. */
  public void arm(Cut how, int refuse) {
    refuseAfterCut.set(refuse);
    cutDone = false;
    cut.set(how);
  }

  /** Whether the armed cut has happened. */
  public boolean cutDone() {
    return cutDone;
  }

  private void acceptLoop() {
    while (!server.isClosed()) {
      try {
        Socket client = server.accept();
        if (cutDone && refuseAfterCut.getAndUpdate(n -> Math.max(0, n - 1)) > 0) {
          client.close(); // the database looks down: even the outcome cannot be looked up
          continue;
        }
        Socket upstream = new Socket(targetHost, targetPort);
        client.setTcpNoDelay(true);
        upstream.setTcpNoDelay(true);
        Connection c = new Connection(client, upstream);
        daemon(c::clientToServer);
        daemon(c::serverToClient);
      } catch (IOException e) {
        return;
      }
    }
  }

  private static void daemon(Runnable r) {
    Thread t = new Thread(r, "commit-cutting-proxy-pump");
    t.setDaemon(true);
    t.start();
  }

  private final class Connection {
    private final Socket client;
    private final Socket upstream;
    private boolean watched;
    private boolean utf16;
    private boolean commitPrepared;
    private volatile boolean clientCut;

    Connection(Socket client, Socket upstream) {
      this.client = client;
      this.upstream = upstream;
    }

    void clientToServer() {
      byte[] buf = new byte[1 << 16];
      try (InputStream in = client.getInputStream();
          OutputStream out = upstream.getOutputStream()) {
        int n;
        while ((n = in.read(buf)) > 0) {
          if (!watched && contains(buf, n, marker16)) {
            watched = true;
            utf16 = true;
          }
          watched |= contains(buf, n, marker);
          Cut how = cut.get();
          boolean commitNow;
          if (utf16) {
            commitNow = commitPrepared;
            commitPrepared = watched && how != Cut.NONE && contains(buf, n, COMMIT16);
          } else {
            commitNow = contains(buf, n, COMMIT);
          }
          if (watched && how != Cut.NONE && commitNow) {
            cut.set(Cut.NONE);
            // Marked before the client's side closes: the writer may reconnect (to look the
            // outcome up) the moment it sees the close, and that connection must count as after
            // the cut.
            cutDone = true;
            if (how == Cut.AFTER_COMMIT) {
              // Before the COMMIT goes out: a fast server's answer must never reach the client.
              clientCut = true;
              out.write(buf, 0, n);
              out.flush();
              client.close(); // the server's answer is read and dropped by the other pump
            } else {
              client.close();
              upstream.close();
            }
            return;
          }
          out.write(buf, 0, n);
          out.flush();
        }
      } catch (IOException e) {
        // either side went away
      } finally {
        if (!clientCut) {
          closeQuietly(upstream);
        }
        closeQuietly(client);
      }
    }

    void serverToClient() {
      byte[] buf = new byte[1 << 16];
      try (InputStream in = upstream.getInputStream()) {
        int n;
        while ((n = in.read(buf)) > 0) {
          if (clientCut) {
            break; // the COMMIT's answer arrived: the server committed; drop it and hang up
          }
          client.getOutputStream().write(buf, 0, n);
          client.getOutputStream().flush();
        }
      } catch (IOException e) {
        // either side went away
      } finally {
        closeQuietly(upstream);
        closeQuietly(client);
      }
    }
  }

  private static boolean contains(byte[] buf, int n, byte[] needle) {
    outer:
    for (int i = 0; i + needle.length <= n; i++) {
      for (int j = 0; j < needle.length; j++) {
        if (buf[i + j] != needle[j]) {
          continue outer;
        }
      }
      return true;
    }
    return false;
  }

  private static void closeQuietly(Socket s) {
    try {
      s.close();
    } catch (IOException ignored) {
      // closing
    }
  }

  @Override
  public void close() throws IOException {
    server.close();
  }
}
