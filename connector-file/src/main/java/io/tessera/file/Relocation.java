package io.tessera.file;

import io.tessera.file.log.LogEntry;
import io.tessera.file.log.TableLog;
import java.io.FileNotFoundException;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Where a table's data files are, so that the table folder outside {@code _tessera/} always holds
 * exactly the latest committed version: what plain readers (Hive, Trino, {@code
 * spark.read.parquet}) see.
 *
 * <p>A commit's log entry is written ahead of its file moves: it lists the files it adds (with the
 * staging path each one waits at) and removes. The create of that entry is the commit point; after
 * it the committer moves each added file from staging to its place in the table and each removed
 * file to {@code _tessera/retired/<its path>} (hidden from plain readers, still readable by time
 * travel and by queries planned before the commit), then writes the marker {@code
 * _tessera/log/<version>.moved}. A crash between the create and the marker leaves moves that {@link
 * #rollForward} completes: the next commit does before it creates its own entry, the planning of a
 * read through the connector does, and cleanup does. Every step can be repeated: a file already at
 * its destination is left alone.
 *
 * <p>Invariant: once entry {@code v+1} exists, every entry up to {@code v} has been rolled forward
 * (its committer rolled them forward before creating {@code v+1}), so only the latest entries can
 * be pending and a read checks one marker.
 */
final class Relocation {
  private static final Logger LOG = LoggerFactory.getLogger(Relocation.class);

  static final String RETIRED = TableLog.META_DIR + "/retired/";

  private Relocation() {}

  /** Where a removed file {@code rel} (table-relative) is kept until cleanup deletes it. */
  static String retired(String rel) {
    return RETIRED + rel;
  }

  /** The file a retired path stands for, or null when {@code rel} is not under retired. */
  static String unretired(String rel) {
    return rel.startsWith(RETIRED) ? rel.substring(RETIRED.length()) : null;
  }

  private static Path marker(TableLog log, long version) {
    return new Path(
        new Path(new Path(log.root(), TableLog.META_DIR), "log"),
        String.format("%020d.moved", version));
  }

  private static final java.util.concurrent.atomic.AtomicReference<RuntimeException> CRASH =
      new java.util.concurrent.atomic.AtomicReference<>();

  private static volatile int crashAfter;

  /**
   * For crash tests only: the next roll-forward in this JVM stops with {@code e} after {@code
   * moves} moves (0: before the first), as a driver dying mid-way would.
   */
  static void crashNextRollForwardForTests(int moves, RuntimeException e) {
    crashAfter = moves;
    CRASH.set(e);
  }

  private static void maybeCrash(int done) {
    RuntimeException crash = CRASH.get();
    if (crash != null && done >= crashAfter && CRASH.compareAndSet(crash, null)) {
      throw crash;
    }
  }

  /**
   * Completes the moves of every committed entry up to {@code latest} that has not finished them.
   * Entries written before this protocol (no staging map) have nothing to complete here; cleanup
   * retires the files they removed.
   */
  static void rollForward(TableLog log, long latest) {
    if (latest < 0) {
      return;
    }
    FileSystem fs = log.fs();
    try {
      List<LogEntry> pending = new ArrayList<>();
      for (long v = latest; v >= 0; v--) {
        if (fs.exists(marker(log, v))) {
          break;
        }
        LogEntry e = log.entries(v, v).get(0);
        if (e.staged() == null) {
          break; // written before this protocol: its files were moved before its commit
        }
        pending.add(0, e);
      }
      for (LogEntry e : pending) {
        complete(log, e);
      }
    } catch (IOException e) {
      throw new UncheckedIOException(
          "Could not complete the file moves of a commit to " + log.root(), e);
    }
  }

  /** Completes the moves of committed entry {@code e} and marks it done. */
  static void complete(TableLog log, LogEntry e) throws IOException {
    FileSystem fs = log.fs();
    int done = 0;
    for (Map.Entry<String, String> add : e.staged().entrySet()) {
      maybeCrash(done);
      if (move(
          fs, new Path(log.root(), add.getValue()), new Path(log.root(), add.getKey()), true)) {
        done++;
      }
    }
    for (String removed : e.remove()) {
      maybeCrash(done);
      if (move(fs, new Path(log.root(), removed), new Path(log.root(), retired(removed)), false)) {
        done++;
      }
    }
    maybeCrash(done);
    fs.create(marker(log, e.version()), true).close();
  }

  /**
   * Moves {@code from} to {@code to} unless it is there already; true when this call moved it. An
   * added file must arrive ({@code required}); a removed file may be gone already (deleted by
   * cleanup after the retention period, or never there).
   */
  private static boolean move(FileSystem fs, Path from, Path to, boolean required)
      throws IOException {
    if (fs.exists(to)) {
      if (fs.exists(from) && !required) {
        // A retired copy exists and the file is back in place: never lose either, say so.
        LOG.warn("tessera-file: {} is both in place and retired at {}; left as it is", from, to);
      }
      return false;
    }
    if (!fs.exists(from)) {
      if (required) {
        throw new FileNotFoundException(
            "Committed file "
                + to
                + " is neither in place nor staged at "
                + from
                + "; was the table's _tessera/staging folder deleted by hand?");
      }
      return false;
    }
    fs.mkdirs(to.getParent());
    if (required) {
      // A move keeps the modification time, and cleanup judges age by it: make the file young
      // before it moves, so it is never an old unreferenced file in the table.
      fs.setTimes(from, System.currentTimeMillis(), -1);
    }
    if (!fs.rename(from, to)) {
      if (fs.exists(to) && !fs.exists(from)) {
        return false; // another process moved it meanwhile
      }
      throw new IOException("Could not move " + from + " to " + to);
    }
    return true;
  }
}
