package io.tessera.file;

import io.tessera.common.procedures.CleanupProcedure;
import io.tessera.file.log.Snapshot;
import io.tessera.file.log.TableLog;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.LocatedFileStatus;
import org.apache.hadoop.fs.Path;
import org.apache.hadoop.fs.RemoteIterator;
import org.apache.spark.sql.connector.catalog.Identifier;

/**
 * {@code CALL <catalog>.system.cleanup(table => 'ns.t', older_than_minutes => 60)}: deletes files
 * that crashed or failed writes left in a table folder and returns their paths: staged files, and
 * data files that no committed log entry references. It never deletes a file the latest snapshot
 * references, nothing younger than the threshold, and no file of a write that is still running (its
 * {@link Heartbeat} is recent), however old: a long write's staged files and a commit's moved files
 * are safe. Candidates are re-checked against the latest log just before each delete.
 */
final class FileCleanupProcedure extends CleanupProcedure {
  private final FileCatalog catalog;

  FileCleanupProcedure(FileCatalog catalog) {
    super(
        "table",
        "namespace.table",
        "deleted_file",
        "Deletes files of failed tessera-file writes that no commit references");
    this.catalog = catalog;
  }

  @Override
  protected List<String> cleanup(String table, int olderThanMinutes) {
    if (olderThanMinutes < 0) {
      throw new io.tessera.common.errors.TesseraException(
          io.tessera.common.errors.TesseraError.INVALID_OPTION_VALUE,
          "Argument 'older_than_minutes' has value " + olderThanMinutes + " but must be 0 or more");
    }
    String[] parts = table.split("\\.", 2);
    if (parts.length != 2) {
      throw new IllegalArgumentException(
          "cleanup needs table => 'namespace.table', got '" + table + "'");
    }
    TableLog log = catalog.log(Identifier.of(new String[] {parts[0]}, parts[1]));
    if (retentionHours < 0) {
      retentionHours = tableRetentionHours(log, table);
    }
    long now = System.currentTimeMillis();
    return cleanup(log, now - olderThanMinutes * 60_000L, now - retentionHours * 3_600_000L);
  }

  private static final java.util.concurrent.atomic.AtomicReference<Runnable> AFTER_CANDIDATES =
      new java.util.concurrent.atomic.AtomicReference<>();

  /** For race tests only: runs {@code r} once the next cleanup has chosen its candidates. */
  static void runAfterNextCandidatesForTests(Runnable r) {
    AFTER_CANDIDATES.set(r);
  }

  /** How long files that a commit removed stay readable by older versions (time travel). */
  static final int DEFAULT_RETENTION_HOURS = 168;

  private int retentionHours = DEFAULT_RETENTION_HOURS;

  @Override
  public org.apache.spark.sql.connector.catalog.procedures.ProcedureParameter[] parameters() {
    var base = super.parameters();
    var out = java.util.Arrays.copyOf(base, base.length + 1);
    out[base.length] =
        org.apache.spark.sql.connector.catalog.procedures.ProcedureParameter.in(
                "retention_hours", org.apache.spark.sql.types.DataTypes.IntegerType)
            .defaultValue("NULL")
            .comment(
                "files that a commit removed are kept this long after their removal, so older"
                    + " versions stay readable; default: the table's retentionHours property,"
                    + " else 168")
            .build();
    return out;
  }

  @Override
  public java.util.Iterator<org.apache.spark.sql.connector.read.Scan> call(
      org.apache.spark.sql.catalyst.InternalRow input) {
    retentionHours = -1;
    if (input.numFields() > 2 && !input.isNullAt(2)) {
      retentionHours = input.getInt(2);
      if (retentionHours < 0) {
        throw new io.tessera.common.errors.TesseraException(
            io.tessera.common.errors.TesseraError.INVALID_OPTION_VALUE,
            "Argument 'retention_hours' has value "
                + retentionHours
                + " but must be 0 or more (hours that removed files stay readable by older"
                + " versions); leave it out to use the table's retentionHours property, else "
                + DEFAULT_RETENTION_HOURS);
      }
    }
    return super.call(input);
  }

  /** The table property that sets how long removed files are kept, in hours. */
  static final String RETENTION_PROPERTY = "retentionHours";

  private static int tableRetentionHours(TableLog log, String table) {
    Snapshot snap = log.snapshot();
    String value =
        snap.metadata() == null ? null : snap.metadata().properties().get(RETENTION_PROPERTY);
    if (value == null) {
      return DEFAULT_RETENTION_HOURS;
    }
    try {
      int hours = Integer.parseInt(value.trim());
      if (hours >= 0) {
        return hours;
      }
    } catch (NumberFormatException e) {
      // reported below
    }
    throw new IllegalArgumentException(
        "Table property '"
            + RETENTION_PROPERTY
            + "' of "
            + table
            + " is '"
            + value
            + "' but must be a whole number of hours, 0 or more; fix it with ALTER TABLE ... SET"
            + " TBLPROPERTIES");
  }

  /** {@link #cleanup(TableLog, long, long)} keeping removed files for the default retention. */
  static List<String> cleanup(TableLog log, long cutoffMillis) {
    return cleanup(
        log, cutoffMillis, System.currentTimeMillis() - DEFAULT_RETENTION_HOURS * 3_600_000L);
  }

  /** The write id in a data file's name ({@code part-<n>-<write id>-t<task>-<n>.<ext>}). */
  private static final java.util.regex.Pattern WRITE_ID =
      java.util.regex.Pattern.compile("part-\\d+-([0-9a-f]{32})-t\\d+-\\d+.*");

  /**
   * Deletes unreferenced files last changed before {@code cutoffMillis}; a file that a commit
   * removed is deleted only if that commit was before {@code removedBeforeMillis} too.
   */
  static List<String> cleanup(TableLog log, long cutoffMillis, long removedBeforeMillis) {
    FileSystem fs = log.fs();
    String root = log.root().toUri().getPath();
    Path stagingRoot = new Path(new Path(log.root(), TableLog.META_DIR), "staging");
    String stagingPrefix = TableLog.META_DIR + "/staging/";
    List<String> deleted = new ArrayList<>();
    try {
      // A commit whose file moves were cut short (its driver died) is completed first.
      Relocation.rollForward(log, log.latestVersion());
      RemoteIterator<LocatedFileStatus> files = fs.listFiles(log.root(), true);
      List<LocatedFileStatus> all = new ArrayList<>();
      while (files.hasNext()) {
        all.add(files.next());
      }
      // Read the state after listing, so a file committed during the listing is known.
      Snapshot snap = log.snapshot();
      // When each file that a commit removed was removed (the latest removal counts).
      Map<String, Long> removedAt = new HashMap<>();
      if (snap.version() >= 0) {
        for (io.tessera.file.log.LogEntry e : log.entries(0, snap.version())) {
          e.remove().forEach(r -> removedAt.put(r, e.timestamp()));
          e.add().forEach(a -> removedAt.remove(a.path()));
        }
      }
      List<String> candidates = new ArrayList<>();
      List<String> toRetire = new ArrayList<>();
      for (LocatedFileStatus f : all) {
        String rel = relative(f.getPath(), root);
        if (rel.startsWith(TableLog.META_DIR + "/log/")) {
          continue;
        }
        String data = dataPath(rel);
        Long removed = removedAt.get(data);
        if (removed != null && removed > removedBeforeMillis) {
          // An older version still needs it (retention). A removed file still in the table
          // folder (left in place by Tessera before it retired files at commit) leaves the
          // plain readers' view now.
          if (Relocation.unretired(rel) == null
              && !rel.startsWith(TableLog.META_DIR + "/")
              && !snap.contains(data)
              && !rel.substring(rel.lastIndexOf('/') + 1).startsWith(".")) {
            toRetire.add(rel);
          }
          continue;
        }
        if (f.getModificationTime() > cutoffMillis) {
          continue;
        }
        if (rel.startsWith(stagingPrefix) || !snap.contains(data)) {
          candidates.add(rel);
        }
      }
      if (!toRetire.isEmpty()) {
        Snapshot now = log.snapshot();
        for (String rel : toRetire) {
          if (!now.contains(rel)) {
            Relocation.retireLeftover(log, rel);
          }
        }
      }
      if (candidates.isEmpty()) {
        return deleted;
      }
      // Re-check each candidate just before deleting it. Order matters: first the write's
      // heartbeat (a writer stops it only after its log entry exists), then the log (reloaded
      // when a newer version appeared), then the file's time.
      Runnable hook = AFTER_CANDIDATES.getAndSet(null);
      if (hook != null) {
        hook.run();
      }
      // A commit whose entry exists but whose moves failed (its committer stopped its heartbeat)
      // names staged files: complete it before any staged file is judged.
      Snapshot latest = log.snapshot();
      Relocation.rollForward(log, latest.version());
      for (String rel : candidates) {
        Path p = new Path(log.root(), rel);
        String writeId = writeId(rel, stagingPrefix);
        if (writeId != null
            && Heartbeat.isLive(fs, new Path(stagingRoot, writeId), System.currentTimeMillis())) {
          continue;
        }
        if (log.hasVersion(latest.version() + 1)) {
          latest = log.snapshot();
          // A commit since the listing may name staged files: it moves them first.
          Relocation.rollForward(log, latest.version());
        }
        if (!rel.startsWith(stagingPrefix) && latest.contains(dataPath(rel))) {
          continue;
        }
        try {
          if (fs.getFileStatus(p).getModificationTime() > cutoffMillis) {
            continue;
          }
        } catch (java.io.FileNotFoundException gone) {
          continue;
        }
        if (fs.delete(p, false)) {
          deleted.add(rel);
        }
      }
    } catch (IOException e) {
      throw new UncheckedIOException("Cleanup of " + log.root() + " failed", e);
    }
    deleted.sort(null);
    return deleted;
  }

  private static String relative(Path p, String root) {
    return p.toUri().getPath().substring(root.length() + 1);
  }

  /**
   * The table file a path stands for: itself, the file a {@code .x.crc} side file belongs to, and
   * for a file under {@code _tessera/retired/} the table path it was retired from.
   */
  private static String dataPath(String rel) {
    String orig = Relocation.unretired(rel);
    return orig != null ? sideFileOwner(orig) : sideFileOwner(rel);
  }

  private static String sideFileOwner(String rel) {
    String name = rel.contains("/") ? rel.substring(rel.lastIndexOf('/') + 1) : rel;
    if (name.startsWith(".") && name.endsWith(".crc")) {
      String parent = rel.contains("/") ? rel.substring(0, rel.lastIndexOf('/') + 1) : "";
      return parent + name.substring(1, name.length() - 4);
    }
    return rel;
  }

  /** The write a file belongs to: its staging folder, or the id in a data file's name. */
  private static String writeId(String rel, String stagingPrefix) {
    if (rel.startsWith(stagingPrefix)) {
      String rest = rel.substring(stagingPrefix.length());
      int slash = rest.indexOf('/');
      return slash < 0 ? null : rest.substring(0, slash);
    }
    String name = dataPath(rel);
    name = name.contains("/") ? name.substring(name.lastIndexOf('/') + 1) : name;
    java.util.regex.Matcher m = WRITE_ID.matcher(name);
    return m.matches() ? m.group(1) : null;
  }
}
