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

  /** Commits with at least this many moves make them a few at a time. */
  private static final int PARALLEL_FROM = 64;

  private static final java.util.concurrent.ExecutorService MOVERS =
      java.util.concurrent.Executors.newFixedThreadPool(
          4,
          r -> {
            Thread t = new Thread(r, "tessera-file-mover");
            t.setDaemon(true);
            return t;
          });

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

  private static final java.util.concurrent.atomic.AtomicReference<Error> CRASH =
      new java.util.concurrent.atomic.AtomicReference<>();

  private static volatile int crashAfter;

  /**
   * For crash tests only: the next roll-forward in this JVM stops with {@code e} after {@code
   * moves} moves (0: before the first), as a driver dying mid-way would (an Error: the committer
   * does not retry it).
   */
  static void crashNextRollForwardForTests(int moves, Error e) {
    crashAfter = moves;
    CRASH.set(e);
  }

  private static void maybeCrash(int done) {
    Error crash = CRASH.get();
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
        if (e.staged().isEmpty() && e.remove().isEmpty()) {
          continue; // moves nothing (create, alter table): complete without a marker
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
    List<Path[]> moves = new ArrayList<>();
    for (Map.Entry<String, String> add : e.staged().entrySet()) {
      moves.add(
          new Path[] {new Path(log.root(), add.getValue()), new Path(log.root(), add.getKey())});
    }
    int adds = moves.size();
    for (String removed : e.remove()) {
      moves.add(new Path[] {new Path(log.root(), removed), new Path(log.root(), retired(removed))});
    }
    java.util.Set<Path> folders = new java.util.LinkedHashSet<>();
    moves.forEach(m -> folders.add(m[1].getParent()));
    for (Path folder : folders) {
      mkdirs(fs, folder);
    }
    int done = 0;
    try {
      done = moveAll(fs, moves, adds);
    } catch (IOException failed) {
      // Fine if another process completed this commit meanwhile (an added file may then be
      // retired by a later commit already); otherwise report it.
      if (!fs.exists(marker(log, e.version()))) {
        throw failed;
      }
      return;
    }
    maybeCrash(done);
    Path marker = marker(log, e.version());
    if ("file".equals(fs.getUri().getScheme())) {
      // As mkdirs below: Hadoop's local create would fork a chmod without its native library.
      java.nio.file.Path m = java.nio.file.Path.of(fs.makeQualified(marker).toUri());
      if (!java.nio.file.Files.exists(m)) {
        try {
          java.nio.file.Files.createFile(m);
        } catch (java.nio.file.FileAlreadyExistsException raced) {
          // another process completed the same commit
        }
      }
    } else if (!fs.exists(marker)) {
      try {
        fs.create(marker, false).close();
      } catch (IOException raced) {
        if (!fs.exists(marker)) {
          throw raced;
        } // another process completed the same commit
      }
    }
  }

  /**
   * Renames a data file with its checksum side file. On a checksummed file system (the local one)
   * the two renames are made on the raw file system: the checksummed rename first asks whether
   * source and destination are folders, which costs two more lookups per file.
   */
  private static boolean rename(FileSystem fs, Path from, Path to) throws IOException {
    if (!"file".equals(fs.getUri().getScheme())
        || !(fs instanceof org.apache.hadoop.fs.ChecksumFileSystem cfs)) {
      return fs.rename(from, to);
    }
    // An atomic rename(2), never Hadoop's copy-and-delete fallback (a plain reader could see a
    // half-copied file, and a crash mid-copy would block the move for good).
    if (!atomicMove(fs, from, to)) {
      return false;
    }
    atomicMove(fs, cfs.getChecksumFile(from), cfs.getChecksumFile(to));
    return true;
  }

  private static boolean atomicMove(FileSystem fs, Path from, Path to) throws IOException {
    try {
      java.nio.file.Files.move(
          java.nio.file.Path.of(fs.makeQualified(from).toUri()),
          java.nio.file.Path.of(fs.makeQualified(to).toUri()),
          java.nio.file.StandardCopyOption.ATOMIC_MOVE);
      return true;
    } catch (java.nio.file.NoSuchFileException gone) {
      return false;
    }
  }

  /** Makes the moves (the first {@code adds} are required); returns how many this call made. */
  private static int moveAll(FileSystem fs, List<Path[]> moves, int adds) throws IOException {
    int done = 0;
    if (CRASH.get() != null || moves.size() < PARALLEL_FROM) {
      for (int i = 0; i < moves.size(); i++) {
        maybeCrash(done);
        if (move(fs, moves.get(i)[0], moves.get(i)[1], i < adds)) {
          done++;
        }
      }
      return done;
    }
    // Renames are independent and each is a round trip (a syscall, an RPC on HDFS): a few run
    // at once. All of them are attempted; the first failure is reported after.
    List<java.util.concurrent.Future<Boolean>> results = new ArrayList<>();
    for (int i = 0; i < moves.size(); i++) {
      Path[] m = moves.get(i);
      boolean required = i < adds;
      results.add(MOVERS.submit(() -> move(fs, m[0], m[1], required)));
    }
    IOException first = null;
    for (java.util.concurrent.Future<Boolean> r : results) {
      try {
        r.get();
      } catch (java.util.concurrent.ExecutionException x) {
        if (first == null) {
          first = x.getCause() instanceof IOException io ? io : new IOException(x.getCause());
        }
      } catch (InterruptedException x) {
        Thread.currentThread().interrupt();
        throw new java.io.InterruptedIOException("Interrupted while moving files");
      }
    }
    if (first != null) {
      throw first;
    }
    return moves.size();
  }

  /** Retires file {@code rel} of the table (cleanup's migration of files older code left). */
  static void retireLeftover(TableLog log, String rel) throws IOException {
    Path to = new Path(log.root(), retired(rel));
    mkdirs(log.fs(), to.getParent());
    move(log.fs(), new Path(log.root(), rel), to, false);
  }

  /**
   * Creates a folder and its parents. On the local file system through java.nio: Hadoop's local
   * mkdirs sets each new folder's permission, which without Hadoop's native library forks a {@code
   * chmod} process per folder (a commit retiring files of 100 partitions spent 250 ms so).
   */
  static void mkdirs(FileSystem fs, Path dir) throws IOException {
    if ("file".equals(fs.getUri().getScheme())) {
      java.nio.file.Files.createDirectories(java.nio.file.Path.of(fs.makeQualified(dir).toUri()));
    } else {
      fs.mkdirs(dir);
    }
  }

  /**
   * Moves {@code from} to {@code to}; true when this call moved it. The common case costs one
   * rename (and one folder creation per folder): only when it fails is the state examined. A file
   * already at {@code to} (moved by another process completing the same commit) is fine; an added
   * file ({@code required}) that is neither staged nor in place fails the roll-forward, while a
   * removed file may be gone already (deleted by cleanup after the retention period).
   */
  private static boolean move(FileSystem fs, Path from, Path to, boolean required)
      throws IOException {
    boolean moved;
    try {
      // Straight to the rename: when another process completed this move already, the source is
      // gone and the rename fails. Destinations are unique names (a write id in each), so a
      // rename never meets an existing file unless that file is this one, moved before.
      moved = rename(fs, from, to);
    } catch (FileNotFoundException gone) {
      moved = false;
    }
    if (moved) {
      return true;
    }
    boolean there = fs.exists(to);
    boolean staged = fs.exists(from);
    if (there) {
      if (staged && !required) {
        // A retired copy exists and the file is back in place: never lose either, say so.
        LOG.warn("tessera-file: {} is both in place and retired at {}; left as it is", from, to);
      }
      return false;
    }
    if (staged) {
      throw new IOException("Could not move " + from + " to " + to);
    }
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
}
