package io.tessera.file;

import io.tessera.file.log.AddFile;
import io.tessera.file.log.Snapshot;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import org.apache.spark.sql.connector.expressions.filter.Predicate;
import org.apache.spark.sql.connector.read.Scan;
import org.apache.spark.sql.connector.read.ScanBuilder;
import org.apache.spark.sql.connector.read.SupportsPushDownV2Filters;
import org.apache.spark.sql.connector.write.LogicalWriteInfo;
import org.apache.spark.sql.connector.write.RowLevelOperation;
import org.apache.spark.sql.connector.write.WriteBuilder;
import org.apache.spark.sql.util.CaseInsensitiveStringMap;

/**
 * A copy-on-write {@code DELETE}, {@code UPDATE} or {@code MERGE INTO} of a file table. Spark plans
 * the statement: it reads the table through this operation's scan, computes the rows to keep,
 * change and insert, and writes them through this operation's write. The scan reads only the files
 * whose partition values and column statistics allow a row matching the statement's condition, and
 * always whole files (the condition prunes files, never rows: the rows of a read file that do not
 * match are written back). The write's commit is one log entry that removes exactly the files the
 * scan read and adds the rewritten ones; it fails, committing nothing, if a commit since the scan's
 * version removed one of those files or added files to their partitions.
 */
final class FileRowLevelOperation implements RowLevelOperation {
  private final FileTable table;
  private final Command command;

  /** What the scan read: set when Spark builds the scan, before it builds the write. */
  private volatile Read read;

  /** The version read, the files read, and the files the statistics left out. */
  record Read(Snapshot snapshot, List<AddFile> files, int skipped) {}

  FileRowLevelOperation(FileTable table, Command command) {
    this.table = table;
    this.command = command;
  }

  @Override
  public Command command() {
    return command;
  }

  @Override
  public String description() {
    return "tessera-file " + command.name().toLowerCase(Locale.ROOT) + " (copy-on-write)";
  }

  /** What the scan read; null when no scan was built (nothing to rewrite). */
  Read read() {
    return read;
  }

  String operationName() {
    return command.name().toLowerCase(Locale.ROOT);
  }

  @Override
  public ScanBuilder newScanBuilder(CaseInsensitiveStringMap options) {
    return new RewriteScanBuilder(options);
  }

  @Override
  public WriteBuilder newWriteBuilder(LogicalWriteInfo info) {
    return new FileWriteBuilder(table, info, this);
  }

  /**
   * Takes the statement's condition to choose files, and reads every row of the chosen ones: the
   * predicates are never applied to rows here (Spark evaluates them after the scan), or the rows
   * they reject would be lost from the rewritten files.
   */
  private final class RewriteScanBuilder implements ScanBuilder, SupportsPushDownV2Filters {
    private final CaseInsensitiveStringMap options;
    private Predicate[] pushed = new Predicate[0];

    RewriteScanBuilder(CaseInsensitiveStringMap options) {
      this.options = options;
    }

    @Override
    public Predicate[] pushPredicates(Predicate[] predicates) {
      pushed = predicates;
      return predicates; // all of them still to be evaluated by Spark, on every row read
    }

    @Override
    public Predicate[] pushedPredicates() {
      return pushed;
    }

    @Override
    public Scan build() {
      FileTable.ScanSnapshot s = table.scanSnapshot();
      Snapshot snap = s.snapshot();
      List<Predicate> conditions = List.of(pushed);
      List<AddFile> files = new ArrayList<>();
      int skipped = 0;
      for (AddFile f : snap.files()) {
        if (FileStats.mayMatch(conditions, f, snap.metadata().schema())) {
          files.add(f);
        } else {
          skipped++;
        }
      }
      read = new Read(snap, List.copyOf(files), skipped);
      return table.scanBuilder(snap, s.schema(), files, options).build();
    }
  }
}
