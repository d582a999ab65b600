package io.tessera.file;

import io.tessera.common.errors.TesseraError;
import io.tessera.common.errors.TesseraException;
import io.tessera.common.write.WriteMode;
import io.tessera.file.log.AddFile;
import io.tessera.file.log.LogEntry;
import io.tessera.file.log.Snapshot;
import io.tessera.file.log.TableLog;
import io.tessera.file.log.TableMetadata;
import java.io.IOException;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.apache.hadoop.fs.Path;
import org.apache.spark.sql.connector.expressions.filter.Predicate;
import org.apache.spark.sql.connector.write.WriterCommitMessage;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The driver-side commit shared by batch and streaming writes.
 *
 * <p>Why it is atomic: tasks only ever write under {@code _tessera/staging/<write>/}. The commit
 * creates the next log entry, which lists the added files (with the staging path each waits at) and
 * the removed ones, with an atomic create-if-absent. That single create is the commit point: before
 * it readers see the old state, after it the new one. Only then are the files moved (see {@link
 * Relocation}): added files from staging into their partition folders, removed files to {@code
 * _tessera/retired/}, so the folder outside {@code _tessera/} holds exactly the committed table
 * when {@code commit} returns, for plain readers too. Nothing of a write whose entry does not exist
 * is ever in the table folder. Removed files are never deleted by the writer: cleanup deletes them
 * from {@code retired/} once the retention period has passed.
 *
 * <p>If the create fails and the entry is not there, the staged files are deleted. If the outcome
 * cannot be read back, the staged files stay: the next commit, read or cleanup completes the moves
 * if the entry exists, and cleanup deletes them once old if it does not.
 *
 * <p>Concurrency: an append that loses the race for a version simply retries on the new state. Any
 * other mode fails with a conflict only if a commit since the write started added or removed files
 * in a partition it replaces (serializable for readers, never a silent lost update); commits to
 * other partitions do not conflict.
 */
final class FileCommitter {
  private static final Logger LOG = LoggerFactory.getLogger(FileCommitter.class);
  private static final int MAX_ATTEMPTS = 20;

  private final TableLog log;
  private final String tableName;
  private final WriteMode mode;
  private final long readVersion;
  private final Path stagingDir;
  private final int checkpointInterval;
  private final Replacement replacement;
  private final TableMetadata writeMetadata;
  private final Heartbeat heartbeat;
  private final FileRowLevelOperation rewrite;
  private String operationName;

  /**
   * For an overwrite whose condition uses other than partition columns: rewrites the given files
   * without their matching rows (into this write's staging folder); null otherwise.
   */
  private java.util.function.BiFunction<Snapshot, List<AddFile>, List<StagedFile>> matchRewriter;

  /** The files such an overwrite rewrote, removed by its commit. */
  private List<String> rewrittenForCondition = List.of();

  /**
   * A staged CTAS / RTAS: the entry also sets the table's new {@code metadata} (schema,
   * partitioning, format); with {@code mustCreate} the table must not exist yet.
   */
  record Replacement(TableMetadata metadata, boolean mustCreate, boolean replacesAll) {
    Replacement(TableMetadata metadata, boolean mustCreate) {
      this(metadata, mustCreate, true);
    }

    /** An ordinary write that also adds columns ({@code mergeSchema}): it replaces no files. */
    static Replacement schemaChange(TableMetadata evolved) {
      return new Replacement(evolved, false, false);
    }
  }

  FileCommitter(
      TableLog log,
      String tableName,
      WriteMode mode,
      long readVersion,
      Path stagingDir,
      int checkpointInterval,
      Replacement replacement,
      TableMetadata writeMetadata,
      FileRowLevelOperation rewrite) {
    this.rewrite = rewrite;
    this.writeMetadata = writeMetadata;
    this.log = log;
    this.tableName = tableName;
    this.mode = mode;
    this.readVersion = readVersion;
    this.stagingDir = stagingDir;
    this.checkpointInterval = checkpointInterval;
    this.replacement = replacement;
    this.heartbeat = Heartbeat.start(log.fs(), stagingDir);
  }

  Path stagingDir() {
    return stagingDir;
  }

  /** Publishes the committed attempts' files; returns the new version, or -1 if already done. */
  long commit(WriterCommitMessage[] messages, LogEntry.StreamingEpoch epoch) {
    List<StagedFile> staged = new ArrayList<>();
    Set<Integer> partitions = new HashSet<>();
    for (WriterCommitMessage m : messages) {
      if (m instanceof FileCommitMessage f && partitions.add(f.partitionId())) {
        staged.addAll(f.files());
      }
    }
    boolean entryAttempted = false;
    try {
      if (matchRewriter != null) {
        Snapshot base = log.snapshot();
        Relocation.rollForward(log, base.version());
        List<Predicate> conditions = List.of(conditions());
        List<AddFile> affected =
            base.files().stream()
                .filter(f -> FileStats.mayMatch(conditions, f, base.metadata().schema()))
                .toList();
        if (base.version() > readVersion) {
          checkConflicts(base, staged); // before the work of the rewrite
        }
        staged.addAll(matchRewriter.apply(base, affected));
        rewrittenForCondition = affected.stream().map(AddFile::path).toList();
      }
      for (int attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
        Snapshot snap = log.snapshot();
        // Earlier commits' moves first (a committer that died after its create left them): the
        // table folder must show version v before v + 1 is created on top of it.
        Relocation.rollForward(log, snap.version());
        if (epoch != null && snap.committed(epoch.queryId(), epoch.epochId())) {
          LOG.info(
              "tessera-file: epoch {} of query {} is already in {}; not writing it again",
              epoch.epochId(),
              epoch.queryId(),
              tableName);
          dropStaging();
          return -1;
        }
        if (replacement != null && replacement.mustCreate() && snap.version() >= 0) {
          throw new TesseraException(
              TesseraError.COMMIT_FAILED,
              "Table "
                  + tableName
                  + " was created by someone else while this CREATE TABLE AS SELECT ran;"
                  + " nothing was published and the other table is unchanged");
        }
        checkConflicts(snap, staged);
        List<String> removed =
            replacement == null || !replacement.replacesAll()
                ? removals(snap, staged)
                : allFiles(snap);
        if ((rewrite != null || operationName != null) && removed.isEmpty() && staged.isEmpty()) {
          // The statement matched no file (or its rewrite wrote and removed nothing).
          LOG.info("tessera-file: {} of {} changed nothing", operation(), tableName);
          dropStaging();
          return -1;
        }
        List<AddFile> added =
            staged.stream()
                .map(s -> new AddFile(s.tablePath(), s.partition(), s.size(), s.rows(), s.stats()))
                .toList();
        Map<String, String> stagedAt = new java.util.LinkedHashMap<>();
        for (StagedFile s : staged) {
          stagedAt.put(s.tablePath(), relative(new Path(s.stagedPath())));
        }
        LogEntry entry =
            new LogEntry(
                snap.version() + 1,
                System.currentTimeMillis(),
                operation(),
                replacement == null ? null : replacement.metadata(),
                added,
                removed,
                epoch,
                stagedAt);
        requireStaged(staged);
        if (heartbeat.staleFor(Heartbeat.LIVE.toMillis() / 2)) {
          throw new TesseraException(
              TesseraError.COMMIT_FAILED,
              "This write to "
                  + tableName
                  + " could not mark itself as running for over "
                  + Heartbeat.LIVE.toMinutes() / 2
                  + " minutes (a paused driver, or its heartbeat file could not be written), so"
                  + " cleanup may have taken its staged files; nothing was committed, run the"
                  + " write again");
        }
        boolean won;
        // From the create on, the staged files may belong to a committed entry: nothing (not even
        // an Error and Spark's abort after it) may delete them unless the create verifiably
        // failed or lost the race.
        keepStaged = true;
        try {
          won = log.commit(entry, snap.apply(entry), checkpointInterval);
          if (!won) {
            keepStaged = false;
          }
        } catch (TableLog.CreateFailed e) {
          keepStaged = false;
          throw e; // verifiably not committed: the staged files may go
        } catch (RuntimeException e) {
          entryAttempted = true; // the create failed in a way that may hide a success
          throw e;
        }
        if (won) {
          // Committed: from here on nothing may undo it, not even Spark's abort after an error.
          // Move the files (added ones into the table, removed ones to _tessera/retired/, where
          // queries still reading an older version and time travel find them until cleanup); a
          // failure here leaves the moves to the next commit, read or cleanup, and the staged
          // files in place for them.
          Throwable failed = null;
          for (int tries = 0; tries < 3; tries++) {
            if (tries > 0) {
              try {
                Thread.sleep(tries == 1 ? 200 : 2000);
              } catch (InterruptedException interrupted) {
                Thread.currentThread().interrupt();
                break;
              }
            }
            try {
              Relocation.complete(log, entry);
              failed = null;
              break;
            } catch (Throwable e) {
              failed = e;
              if (e instanceof Error && !(e instanceof OutOfMemoryError)) {
                break;
              }
            }
          }
          if (failed != null) {
            heartbeat.stopAndForget();
            LOG.error(
                "tessera-file: version {} of {} is committed, but moving its files failed;"
                    + " until the next commit, read through the connector or cleanup of the"
                    + " table completes the moves, plain readers of its folder see a mix of the"
                    + " old and new files",
                entry.version(),
                tableName,
                failed);
            return entry.version();
          }
          dropStaging();
          LOG.info(
              "tessera-file: committed version {} of {}: {} ({} files added, {} removed)",
              entry.version(),
              tableName,
              entry.operation(),
              added.size(),
              removed.size());
          return entry.version();
        }
        LOG.info(
            "tessera-file: version {} of {} was taken by another writer; retrying",
            entry.version(),
            tableName);
      }
      throw new TesseraException(
          TesseraError.COMMIT_FAILED,
          "Could not commit to "
              + tableName
              + " after "
              + MAX_ATTEMPTS
              + " attempts: too many concurrent writers");
    } catch (RuntimeException e) {
      undo(entryAttempted);
      throw e;
    }
  }

  /**
   * Every staged file is still there: a driver paused for longer than the heartbeat's life (a long
   * GC, a frozen container) may find that cleanup took its files for a dead write's. Checked just
   * before the commit point, so such a commit fails with nothing committed instead of committing
   * files that are gone.
   */
  private void requireStaged(List<StagedFile> staged) {
    org.apache.hadoop.fs.FileSystem fs = log.fs();
    boolean local = "file".equals(fs.getUri().getScheme());
    for (StagedFile s : staged) {
      Path p = new Path(s.stagedPath());
      boolean present;
      try {
        // One existence check per file (on the local file system through java.nio: Hadoop's
        // local listings fork an `ls` per file for its permissions without the native library).
        present =
            local
                ? java.nio.file.Files.exists(java.nio.file.Path.of(fs.makeQualified(p).toUri()))
                : fs.exists(p);
      } catch (IOException e) {
        throw new java.io.UncheckedIOException("Cannot check the staged file " + p, e);
      }
      if (!present) {
        throw new TesseraException(
            TesseraError.COMMIT_FAILED,
            "The staged file "
                + relative(p)
                + " of this write to "
                + tableName
                + " is gone (was the driver paused for longer than "
                + Heartbeat.LIVE.toMinutes()
                + " minutes, so that cleanup took it for a dead write's?); nothing was committed,"
                + " run the write again");
      }
    }
  }

  /** A path under the table root, relative to it. */
  private String relative(Path p) {
    String root = log.root().toUri().getPath();
    String path = log.fs().makeQualified(p).toUri().getPath();
    if (!path.startsWith(root + "/")) {
      throw new IllegalStateException("Staged file " + p + " is not under " + log.root());
    }
    return path.substring(root.length() + 1);
  }

  /**
   * Set when the entry create was attempted and its outcome is unknown: the staged files may belong
   * to a committed entry, so nothing (not even Spark's abort that follows) may delete them.
   */
  private volatile boolean keepStaged;

  private void undo(boolean entryAttempted) {
    if (entryAttempted) {
      keepStaged = true;
      LOG.warn(
          "tessera-file: the commit to {} failed after its log entry create was attempted and"
              + " its outcome could not be read back; the staged files are left in place: the"
              + " next commit, read or cleanup moves them if the entry exists, and cleanup"
              + " (CALL <catalog>.system.cleanup) deletes them once old if it does not",
          tableName);
      heartbeat.stopAndForget();
      return;
    }
    dropStaging();
  }

  /**
   * Drops this write's staged files (abort). Never touches committed files, nor staged files a
   * committed entry may name (after a create whose outcome is unknown).
   */
  void abort() {
    if (keepStaged) {
      heartbeat.stopAndForget();
      return;
    }
    dropStaging();
  }

  /** The write is over: stop marking it as running, then remove its staging folder. */
  private void dropStaging() {
    heartbeat.stop();
    deleteQuietly(stagingDir);
  }

  /** Makes this overwrite rewrite the files that may hold matching rows (see field). */
  void rewritingMatches(
      java.util.function.BiFunction<Snapshot, List<AddFile>, List<StagedFile>> rewriter) {
    this.matchRewriter = rewriter;
  }

  private Predicate[] conditions() {
    return ((WriteMode.OverwriteByFilter) mode).predicates().toArray(Predicate[]::new);
  }

  /** Names the operation in the log and in messages (instead of the write mode's name). */
  FileCommitter named(String operation) {
    this.operationName = operation;
    return this;
  }

  private String operation() {
    if (operationName != null) {
      return operationName;
    }
    if (rewrite != null) {
      return rewrite.operationName();
    }
    if (replacement != null && !replacement.replacesAll()) {
      return mode.describe() + " adding columns";
    }
    if (replacement != null) {
      return replacement.mustCreate() ? "create table as select" : "replace table as select";
    }
    return mode.describe();
  }

  private static List<String> allFiles(Snapshot snap) {
    return snap.files().stream().map(AddFile::path).toList();
  }

  private List<String> removals(Snapshot snap, List<StagedFile> staged) {
    if (matchRewriter != null) {
      return rewrittenForCondition;
    }
    if (rewrite != null) {
      // Every file the scan read is replaced by the rows written (checkConflicts made sure that
      // each is still in the table).
      return rewrite.read().files().stream().map(AddFile::path).toList();
    }
    List<String> out = new ArrayList<>();
    for (AddFile f : snap.files()) {
      if (replaces(f.partition(), snap.metadata(), staged)) {
        out.add(f.path());
      }
    }
    return out;
  }

  /** Whether this write replaces data in a partition with {@code values}. */
  private boolean replaces(
      Map<String, String> values, TableMetadata meta, List<StagedFile> staged) {
    if (mode instanceof WriteMode.Truncate) {
      return true;
    } else if (mode instanceof WriteMode.OverwriteByFilter o) {
      return PartitionValues.matches(
          o.predicates().toArray(Predicate[]::new), values, meta.schema());
    } else if (mode instanceof WriteMode.DynamicOverwrite) {
      return meta.partitionColumns().isEmpty()
          || staged.stream().anyMatch(s -> s.partition().equals(values));
    }
    return false;
  }

  private void checkConflicts(Snapshot snap, List<StagedFile> staged) {
    // Files are written for the schema, format and partitioning the write was planned with; a
    // table replaced meanwhile (REPLACE TABLE AS SELECT) has other ones, whatever the mode. A
    // streaming query resolves its table once, so this also stops a stream started before the
    // replace.
    if ((replacement == null || !replacement.replacesAll())
        && !java.util.Objects.equals(snap.metadata(), writeMetadata)) {
      throw new TesseraException(
          TesseraError.COMMIT_FAILED,
          "Concurrent write to "
              + tableName
              + ": the table was replaced or altered (new schema, partitioning, format or properties) after this "
              + operation()
              + " started at version "
              + readVersion
              + "; nothing was committed, run the write again");
    }
    if (rewrite != null) {
      checkRewriteConflicts(snap);
      return;
    }
    if (matchRewriter != null) {
      checkConditionConflicts(snap);
      return;
    }
    if (mode instanceof WriteMode.Append || snap.version() <= readVersion) {
      return;
    }
    // Only what this write replaces matters: a commit that added or removed files in other
    // partitions (an append elsewhere, an overwrite of another partition) does not conflict.
    TableMetadata meta = snap.metadata();
    for (LogEntry e : log.entries(readVersion + 1, snap.version())) {
      boolean touched =
          e.add().stream().anyMatch(a -> replaces(a.partition(), meta, staged))
              || e.remove().stream()
                  .anyMatch(
                      r ->
                          replaces(PartitionPaths.parse(meta.partitionColumns(), r), meta, staged));
      if (touched) {
        throw conflict(
            e,
            "changed data that this ",
            " replaces, after this write started at version ",
            "write");
      }
    }
  }

  /**
   * A DELETE, UPDATE or MERGE rewrote the files it read at {@code readVersion}: it conflicts with
   * any later commit that removed one of them (the rows it rewrote are gone or changed) or added
   * files to their partitions (rows the statement did not see; on an unpartitioned table, any added
   * file). Commits to other partitions do not conflict.
   */
  private void checkRewriteConflicts(Snapshot snap) {
    FileRowLevelOperation.Read read = rewrite.read();
    if (read == null) {
      // Without the scan's read set, rows written here could sit beside the ones they replace.
      throw new IllegalStateException(
          "The " + operation() + " of " + tableName + " has no scan to replace; nothing committed");
    }
    if (snap.version() <= readVersion) {
      return;
    }
    Set<String> paths = new HashSet<>();
    Set<Map<String, String>> partitions = new HashSet<>();
    for (AddFile f : read.files()) {
      paths.add(f.path());
      partitions.add(f.partition());
    }
    boolean unpartitioned = snap.metadata().partitionColumns().isEmpty();
    org.apache.spark.sql.types.StructType schema = snap.metadata().schema();
    for (LogEntry e : log.entries(readVersion + 1, snap.version())) {
      // An added file that may hold rows the condition matches conflicts wherever it is: the
      // statement did not see them (two MERGEs inserting one new key would both insert it).
      boolean touched =
          e.remove().stream().anyMatch(paths::contains)
              || e.add().stream()
                  .anyMatch(
                      a ->
                          (!paths.isEmpty()
                                  && (unpartitioned || partitions.contains(a.partition())))
                              || FileStats.mayMatch(read.conditions(), a, schema));
      if (touched) {
        throw conflict(
            e,
            "changed files or partitions that this ",
            " rewrites, after it read version ",
            "statement");
      }
    }
  }

  /**
   * An overwrite by a condition on other than partition columns conflicts with any commit since the
   * write started that added a file which may hold matching rows (by its partition and statistics),
   * or removed a file from a partition that may hold them: its rows would be kept or lost without
   * this write having seen them.
   */
  private void checkConditionConflicts(Snapshot snap) {
    if (snap.version() <= readVersion) {
      return;
    }
    List<Predicate> conditions = List.of(conditions());
    org.apache.spark.sql.types.StructType schema = snap.metadata().schema();
    List<String> partitionColumns = snap.metadata().partitionColumns();
    for (LogEntry e : log.entries(readVersion + 1, snap.version())) {
      boolean touched =
          e.add().stream().anyMatch(a -> FileStats.mayMatch(conditions, a, schema))
              || e.remove().stream()
                  .anyMatch(
                      r ->
                          FileStats.mayMatch(
                              conditions,
                              new AddFile(r, PartitionPaths.parse(partitionColumns, r), 0, 1),
                              schema));
      if (touched) {
        throw conflict(
            e,
            "changed files that may hold rows this ",
            " replaces, after this write started at version ",
            "write");
      }
    }
  }

  /** The failure of a commit that {@code e} conflicts with: nothing was committed. */
  private TesseraException conflict(LogEntry e, String changed, String since, String again) {
    return new TesseraException(
        TesseraError.COMMIT_FAILED,
        "Concurrent write to "
            + tableName
            + ": version "
            + e.version()
            + " ("
            + e.operation()
            + ") "
            + changed
            + operation()
            + since
            + readVersion
            + "; nothing was committed, run the "
            + again
            + " again");
  }

  private void deleteQuietly(Path p) {
    try {
      log.fs().delete(p, true);
    } catch (IOException e) {
      LOG.warn("tessera-file: could not delete {} ({}); cleanup will remove it", p, e.getMessage());
    }
  }
}
