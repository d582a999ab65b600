package io.tessera.file.log;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.FileNotFoundException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileContext;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Options;
import org.apache.hadoop.fs.Path;

/**
 * The commit log of one table, under {@code <table>/_tessera/log/}. Version {@code v} is the file
 * {@code <v, 20 digits>.json}; it is created atomically and only if absent, which is the commit
 * point: two writers racing for the same version cannot both win. Every {@code checkpointInterval}
 * versions the whole state is written to {@code <v>.checkpoint.json} and {@code _last_checkpoint}
 * points at it, so loading a snapshot reads one checkpoint and at most {@code checkpointInterval}
 * entries, however long the table's history.
 *
 * <p>Put-if-absent: on the local file system a complete temporary file is hard-linked to the entry
 * name (the link fails if the name exists); on other Hadoop file systems the temporary file is
 * renamed with {@code Options.Rename.NONE}, which is atomic on HDFS. Object stores without an
 * atomic conditional create are not safe for concurrent writers.
 */
public final class TableLog {
  public static final String META_DIR = "_tessera";
  private static final ObjectMapper JSON =
      new ObjectMapper().configure(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES, false);

  private final Path root;
  private final Path logDir;
  private final Configuration conf;
  private final FileSystem fs;

  public TableLog(Path root, Configuration conf) {
    this.conf = conf;
    try {
      this.fs = root.getFileSystem(conf);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    this.root = fs.makeQualified(root);
    this.logDir = new Path(new Path(this.root, META_DIR), "log");
  }

  public Path root() {
    return root;
  }

  public FileSystem fs() {
    return fs;
  }

  public boolean exists() {
    return exists(entryPath(0));
  }

  /** The latest committed state. */
  public Snapshot snapshot() {
    Snapshot s = Snapshot.empty();
    long cp = lastCheckpoint();
    if (cp >= 0) {
      byte[] bytes = read(checkpointPath(cp));
      if (bytes != null) {
        Checkpoint c = parse(bytes, Checkpoint.class);
        Map<String, AddFile> files = new LinkedHashMap<>();
        c.files().forEach(f -> files.put(f.path(), f));
        s = new Snapshot(c.version(), c.metadata(), files, new LinkedHashMap<>(c.streaming()));
      }
    }
    List<LogEntry> entries = new ArrayList<>();
    for (long v = s.version() + 1; ; v++) {
      byte[] bytes = read(entryPath(v));
      if (bytes == null) {
        return s.applyAll(entries);
      }
      entries.add(parse(bytes, LogEntry.class));
    }
  }

  /** Whether version {@code version} has been committed. */
  public boolean hasVersion(long version) {
    return exists(entryPath(version));
  }

  /**
   * The committed state at {@code version} (time travel): the newest checkpoint at or before it,
   * then the entries up to it. Empty when the version does not exist.
   */
  public java.util.Optional<Snapshot> snapshotAt(long version) {
    if (version < 0) {
      return java.util.Optional.empty();
    }
    Snapshot s = Snapshot.empty();
    long cp = checkpointAtOrBefore(version);
    if (cp >= 0) {
      byte[] bytes = read(checkpointPath(cp));
      if (bytes != null) {
        Checkpoint c = parse(bytes, Checkpoint.class);
        Map<String, AddFile> files = new LinkedHashMap<>();
        c.files().forEach(f -> files.put(f.path(), f));
        s = new Snapshot(c.version(), c.metadata(), files, new LinkedHashMap<>(c.streaming()));
      }
    }
    for (long v = s.version() + 1; v <= version; v++) {
      byte[] bytes = read(entryPath(v));
      if (bytes == null) {
        return java.util.Optional.empty();
      }
      s = s.apply(parse(bytes, LogEntry.class));
    }
    return java.util.Optional.of(s);
  }

  /** The newest checkpoint version at or before {@code version}, or -1. */
  private long checkpointAtOrBefore(long version) {
    long best = -1;
    try {
      if (!fs.exists(logDir)) {
        return -1;
      }
      for (org.apache.hadoop.fs.FileStatus st : fs.listStatus(logDir)) {
        String n = st.getPath().getName();
        if (n.matches("\\d{20}\\.checkpoint\\.json")) {
          long v = Long.parseLong(n.substring(0, 20));
          if (v <= version && v > best) {
            best = v;
          }
        }
      }
    } catch (IOException e) {
      throw new UncheckedIOException("Cannot list " + logDir, e);
    }
    return best;
  }

  /** The newest committed version, or -1 when the table has none. */
  public long latestVersion() {
    return snapshot().version();
  }

  /**
   * The newest version committed at or before {@code timestampMillis} (by the entries' commit
   * times), or -1 when the table is younger.
   */
  public long versionAt(long timestampMillis) {
    long latest = latestVersion();
    for (long v = latest; v >= 0; v--) {
      byte[] bytes = read(entryPath(v));
      if (bytes != null && parse(bytes, LogEntry.class).timestamp() <= timestampMillis) {
        return v;
      }
    }
    return -1;
  }

  /** Entries {@code from..to} (inclusive), for conflict checks. */
  public List<LogEntry> entries(long from, long to) {
    List<LogEntry> out = new ArrayList<>();
    for (long v = from; v <= to; v++) {
      byte[] bytes = read(entryPath(v));
      if (bytes == null) {
        throw new IllegalStateException("Commit log entry " + v + " of " + root + " is missing");
      }
      out.add(parse(bytes, LogEntry.class));
    }
    return out;
  }

  /** Faults a test can inject into the next entry create (one shot). */
  public enum CreateFault {
    /** The create fails before anything is written. */
    FAIL_BEFORE,
    /** The create succeeds, then the call fails (e.g. the connection drops before the reply). */
    FAIL_AFTER,
    /** The create succeeds, then reports "already exists" (e.g. a retried create of our entry). */
    EXISTS_AFTER,
    /** The create fails and its outcome cannot be read back (the file system unreachable). */
    FAIL_UNREADABLE,
    /** The create succeeds, then the driver fails with an Error (e.g. out of memory). */
    ERROR_AFTER
  }

  /**
   * The entry create failed and the entry is verifiably absent (read back right after): nothing was
   * committed, so the writer may delete its files. Any other exception from {@link #commit} leaves
   * the outcome unknown.
   */
  public static final class CreateFailed extends UncheckedIOException {
    CreateFailed(UncheckedIOException cause) {
      super(cause.getMessage(), cause.getCause());
    }
  }

  private static final java.util.concurrent.atomic.AtomicReference<CreateFault> FAULT =
      new java.util.concurrent.atomic.AtomicReference<>();

  private static final java.util.concurrent.atomic.AtomicReference<Runnable> BEFORE_CREATE =
      new java.util.concurrent.atomic.AtomicReference<>();

  /** For fault tests only: the next entry create of any table in this JVM behaves as {@code f}. */
  public static void injectFaultForTests(CreateFault f) {
    FAULT.set(f);
  }

  /** For tests: whether an injected fault or hook has not been used yet. */
  public static boolean testHookPending() {
    return FAULT.get() != null || BEFORE_CREATE.get() != null;
  }

  /** For race tests only: runs {@code r} just before the next entry create in this JVM. */
  public static void runBeforeNextCreateForTests(Runnable r) {
    BEFORE_CREATE.set(r);
  }

  /**
   * Commits {@code entry}; false when its version was taken by another writer. When the create's
   * outcome is unclear (it failed, or reported "already exists"), the entry on disk decides: the
   * same bytes as ours mean our create succeeded.
   */
  public boolean commit(LogEntry entry, Snapshot after, int checkpointInterval) {
    byte[] bytes = json(entry);
    Path path = entryPath(entry.version());
    boolean won;
    CreateFault fault = null;
    try {
      Runnable before = BEFORE_CREATE.getAndSet(null);
      if (before != null) {
        before.run();
      }
      fault = FAULT.getAndSet(null);
      if (fault == CreateFault.FAIL_BEFORE || fault == CreateFault.FAIL_UNREADABLE) {
        throw new UncheckedIOException(new IOException("injected: create failed before writing"));
      }
      won = putIfAbsent(path, bytes);
      if (fault == CreateFault.ERROR_AFTER) {
        throw new Error("injected: the driver fails right after the create");
      }
      if (fault == CreateFault.FAIL_AFTER) {
        throw new UncheckedIOException(new IOException("injected: reply lost after the create"));
      }
      if (fault == CreateFault.EXISTS_AFTER) {
        won = false;
      }
      if (!won) {
        won = java.util.Arrays.equals(read(path), bytes);
      }
    } catch (UncheckedIOException e) {
      if (fault == CreateFault.FAIL_UNREADABLE) {
        throw e; // as if the read below failed too: the outcome is unknown
      }
      byte[] existing = read(path);
      if (existing == null) {
        // Proof of absence only where the create is one atomic call that cannot land later (a
        // local hard link); an HDFS rename whose reply was lost may still be carried out.
        throw isLocal() ? new CreateFailed(e) : e;
      }
      won = java.util.Arrays.equals(existing, bytes);
    }
    if (won
        && checkpointInterval > 0
        && entry.version() > 0
        && entry.version() % checkpointInterval == 0) {
      try {
        writeCheckpoint(after);
      } catch (RuntimeException | OutOfMemoryError | StackOverflowError e) {
        // The entry is committed; a missing checkpoint only makes the next read replay more.
        org.slf4j.LoggerFactory.getLogger(TableLog.class)
            .warn(
                "tessera-file: checkpoint {} of {} not written: {}",
                entry.version(),
                root,
                e.toString());
      }
    }
    return won;
  }

  private void writeCheckpoint(Snapshot s) {
    Checkpoint c =
        new Checkpoint(
            s.version(),
            s.metadata(),
            new ArrayList<>(s.files()),
            new LinkedHashMap<>(s.streaming()));
    putIfAbsent(checkpointPath(s.version()), json(c));
    replace(
        new Path(logDir, "_last_checkpoint"),
        Long.toString(s.version()).getBytes(StandardCharsets.UTF_8));
  }

  private long lastCheckpoint() {
    byte[] b = read(new Path(logDir, "_last_checkpoint"));
    try {
      return b == null ? -1 : Long.parseLong(new String(b, StandardCharsets.UTF_8).trim());
    } catch (NumberFormatException e) {
      return -1; // a pointer caught mid-write: replay from the start instead
    }
  }

  Path entryPath(long version) {
    return new Path(logDir, String.format("%020d.json", version));
  }

  private Path checkpointPath(long version) {
    return new Path(logDir, String.format("%020d.checkpoint.json", version));
  }

  private boolean exists(Path p) {
    try {
      return fs.exists(p);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private byte[] read(Path p) {
    try (InputStream in = fs.open(p)) {
      return in.readAllBytes();
    } catch (FileNotFoundException e) {
      return null;
    } catch (IOException e) {
      throw new UncheckedIOException("Cannot read " + p, e);
    }
  }

  private boolean isLocal() {
    return "file".equals(fs.getUri().getScheme());
  }

  private boolean putIfAbsent(Path target, byte[] bytes) {
    try {
      fs.mkdirs(target.getParent());
      if (isLocal()) {
        java.nio.file.Path dest = java.nio.file.Path.of(target.toUri());
        java.nio.file.Path tmp =
            dest.resolveSibling("." + dest.getFileName() + "." + UUID.randomUUID() + ".tmp");
        writeSynced(tmp, bytes);
        try {
          Files.createLink(dest, tmp);
          return true;
        } catch (FileAlreadyExistsException e) {
          return false;
        } finally {
          Files.deleteIfExists(tmp);
        }
      }
      Path tmp =
          new Path(target.getParent(), "." + target.getName() + "." + UUID.randomUUID() + ".tmp");
      try (OutputStream out = fs.create(tmp, false)) {
        out.write(bytes);
      }
      try {
        FileContext.getFileContext(target.toUri(), conf).rename(tmp, target, Options.Rename.NONE);
        return true;
      } catch (org.apache.hadoop.fs.FileAlreadyExistsException e) {
        fs.delete(tmp, false);
        return false;
      }
    } catch (IOException e) {
      throw new UncheckedIOException("Cannot write " + target, e);
    }
  }

  private void replace(Path target, byte[] bytes) {
    try {
      if (isLocal()) {
        java.nio.file.Path dest = java.nio.file.Path.of(target.toUri());
        java.nio.file.Path tmp =
            dest.resolveSibling("." + dest.getFileName() + "." + UUID.randomUUID() + ".tmp");
        Files.write(tmp, bytes);
        Files.move(tmp, dest, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        return;
      }
      Path tmp =
          new Path(target.getParent(), "." + target.getName() + "." + UUID.randomUUID() + ".tmp");
      try (OutputStream out = fs.create(tmp, false)) {
        out.write(bytes);
      }
      FileContext.getFileContext(target.toUri(), conf)
          .rename(tmp, target, Options.Rename.OVERWRITE);
    } catch (IOException e) {
      throw new UncheckedIOException("Cannot write " + target, e);
    }
  }

  /** Writes and forces {@code bytes} to disk, so a linked entry is never empty after a crash. */
  private static void writeSynced(java.nio.file.Path file, byte[] bytes) throws IOException {
    try (java.nio.channels.FileChannel ch =
        java.nio.channels.FileChannel.open(
            file,
            java.nio.file.StandardOpenOption.CREATE_NEW,
            java.nio.file.StandardOpenOption.WRITE)) {
      java.nio.ByteBuffer buf = java.nio.ByteBuffer.wrap(bytes);
      while (buf.hasRemaining()) {
        ch.write(buf);
      }
      ch.force(true);
    }
  }

  private static byte[] json(Object o) {
    try {
      return JSON.writeValueAsBytes(o);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private <T> T parse(byte[] bytes, Class<T> type) {
    try {
      return JSON.readValue(bytes, type);
    } catch (IOException e) {
      throw new UncheckedIOException("Corrupt commit log file of " + root, e);
    }
  }
}
