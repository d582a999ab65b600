package io.tessera.file;

import java.io.IOException;
import java.time.Duration;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Marks a write as running: while the write is in progress the driver touches {@code
 * _tessera/staging/<write id>/_heartbeat} every {@link #INTERVAL}. Cleanup never deletes a file of
 * a write whose heartbeat is younger than {@link #LIVE}, however old the file itself is, so a long
 * write's staged files and a commit's moved files survive {@code older_than_minutes}. A driver that
 * dies stops beating, and its files become cleanup's after {@link #LIVE}.
 */
final class Heartbeat {
  private static final Logger LOG = LoggerFactory.getLogger(Heartbeat.class);

  static final String FILE = "_heartbeat";
  static final Duration INTERVAL = Duration.ofSeconds(10);

  /** Generous against clock differences between hosts and file system stalls. */
  static final Duration LIVE = Duration.ofMinutes(10);

  private static final ScheduledExecutorService BEATS =
      Executors.newSingleThreadScheduledExecutor(
          r -> {
            Thread t = new Thread(r, "tessera-file-heartbeat");
            t.setDaemon(true);
            return t;
          });

  private final FileSystem fs;
  private final Path file;
  private final ScheduledFuture<?> beats;
  private boolean stopped;

  private Heartbeat(FileSystem fs, Path file) {
    this.fs = fs;
    this.file = file;
    beat();
    this.beats =
        BEATS.scheduleWithFixedDelay(
            this::beat, INTERVAL.toMillis(), INTERVAL.toMillis(), TimeUnit.MILLISECONDS);
  }

  /** Starts beating for the write staged in {@code stagingDir}. */
  static Heartbeat start(FileSystem fs, Path stagingDir) {
    return new Heartbeat(fs, new Path(stagingDir, FILE));
  }

  /** When the heartbeat file was last touched successfully. */
  private volatile long lastBeat;

  /**
   * Whether the last successful beat is older than {@code millis}: a write whose heartbeat went
   * stale may have lost its staged files to cleanup, and must not commit.
   */
  boolean staleFor(long millis) {
    return System.currentTimeMillis() - lastBeat > millis;
  }

  private synchronized void beat() {
    if (stopped) {
      return;
    }
    try {
      if (!fs.exists(file)) {
        fs.mkdirs(file.getParent());
        fs.create(file, true).close();
      }
      long now = System.currentTimeMillis();
      fs.setTimes(file, now, -1);
      lastBeat = now;
    } catch (IOException e) {
      LOG.warn("tessera-file: heartbeat {} not written: {}", file, e.toString());
    }
  }

  /** Stops beating; the caller removes the staging folder with the file. Idempotent. */
  synchronized void stop() {
    stopped = true;
    beats.cancel(false);
  }

  /**
   * Stops beating and deletes the heartbeat file, for a write whose staged files stay behind:
   * cleanup may take them from now on (it first completes any commit that names them).
   */
  synchronized void stopAndForget() {
    stop();
    try {
      fs.delete(file, false);
    } catch (IOException e) {
      LOG.warn("tessera-file: heartbeat {} not deleted: {}", file, e.toString());
    }
  }

  /** Whether the write staged in {@code stagingDir} is running (its heartbeat is recent). */
  static boolean isLive(FileSystem fs, Path stagingDir, long now) throws IOException {
    try {
      return fs.getFileStatus(new Path(stagingDir, FILE)).getModificationTime()
          > now - LIVE.toMillis();
    } catch (java.io.FileNotFoundException e) {
      return false;
    }
  }
}
