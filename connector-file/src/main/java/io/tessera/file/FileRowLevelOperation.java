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

  /**
   * The version read, the files read, the files left out, and the statement's condition as pushed
   * to the scan (what a concurrently added file is checked against).
   */
  record Read(Snapshot snapshot, List<AddFile> files, int skipped, List<Predicate> conditions) {}

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

  /**
   * The {@code _file} column, so that Spark can first find the files that hold affected rows (a
   * query of the condition, or for MERGE a join with the source) and then hand them to the scan
   * ({@link RewriteScan#filter}): only those are read and rewritten.
   */
  @Override
  public org.apache.spark.sql.connector.expressions.NamedReference[] requiredMetadataAttributes() {
    return table.hasFileColumn()
        ? new org.apache.spark.sql.connector.expressions.NamedReference[] {
          org.apache.spark.sql.connector.expressions.Expressions.column(
              RetiredFileFallback.FILE_COLUMN)
        }
        : new org.apache.spark.sql.connector.expressions.NamedReference[0];
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
      if (read != null) {
        // One statement, one read: the commit replaces what this scan read.
        throw new IllegalStateException(
            "the scan of " + table.name() + " for this " + operationName() + " was built twice");
      }
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
      read = new Read(snap, List.copyOf(files), skipped, conditions);
      boolean withFile = table.hasFileColumn();
      if (files.isEmpty()) {
        org.apache.spark.sql.types.StructType schema =
            withFile
                ? s.schema()
                    .add(
                        RetiredFileFallback.FILE_COLUMN,
                        org.apache.spark.sql.types.DataTypes.StringType,
                        false)
                : s.schema();
        return new org.apache.spark.sql.connector.read.LocalScan() {
          @Override
          public org.apache.spark.sql.catalyst.InternalRow[] rows() {
            return new org.apache.spark.sql.catalyst.InternalRow[0];
          }

          @Override
          public org.apache.spark.sql.types.StructType readSchema() {
            return schema;
          }
        };
      }
      RetiredFileFallback.Builder builder =
          (RetiredFileFallback.Builder) table.scanBuilder(snap, s.schema(), files, options);
      if (withFile) {
        builder.withFileColumn();
      }
      return new RewriteScan((RetiredFileFallback.WrappedScan) builder.build(), withFile);
    }
  }

  /**
   * The rewrite's scan: Spark's file scan of the chosen files, which Spark may narrow at run time
   * to the files that hold affected rows (an IN list of {@code _file} values). Whatever it ends up
   * reading is exactly what the commit replaces.
   */
  private final class RewriteScan
      implements org.apache.spark.sql.connector.read.SupportsRuntimeV2Filtering,
          org.apache.spark.sql.connector.read.Batch {
    private final RetiredFileFallback.WrappedScan scan;
    private final boolean withFile;
    private boolean filtered;

    RewriteScan(RetiredFileFallback.WrappedScan scan, boolean withFile) {
      this.scan = scan;
      this.withFile = withFile;
    }

    @Override
    public org.apache.spark.sql.types.StructType readSchema() {
      return scan.readSchema();
    }

    @Override
    public String description() {
      Read r = read;
      return scan.description() + " [rewrites " + r.files().size() + " files]";
    }

    @Override
    public org.apache.spark.sql.connector.read.Batch toBatch() {
      return this;
    }

    @Override
    public ColumnarSupportMode columnarSupportMode() {
      return scan.columnarSupportMode();
    }

    @Override
    public org.apache.spark.sql.connector.metric.CustomMetric[] supportedCustomMetrics() {
      return scan.supportedCustomMetrics();
    }

    @Override
    public org.apache.spark.sql.connector.expressions.NamedReference[] filterAttributes() {
      return withFile
          ? new org.apache.spark.sql.connector.expressions.NamedReference[] {
            org.apache.spark.sql.connector.expressions.Expressions.column(
                RetiredFileFallback.FILE_COLUMN)
          }
          : new org.apache.spark.sql.connector.expressions.NamedReference[0];
    }

    /** Keeps only the files named by an IN list of {@code _file} values; ignores the rest. */
    @Override
    public void filter(Predicate[] predicates) {
      for (Predicate p : predicates) {
        org.apache.spark.sql.connector.expressions.Expression[] c = p.children();
        if (!p.name().equals("IN")
            || c.length == 0
            || !(c[0] instanceof org.apache.spark.sql.connector.expressions.NamedReference ref)
            || ref.fieldNames().length != 1
            || !ref.fieldNames()[0].equals(RetiredFileFallback.FILE_COLUMN)) {
          continue;
        }
        java.util.Set<String> wanted = new java.util.HashSet<>();
        boolean understood = true;
        for (int i = 1; i < c.length; i++) {
          if (c[i] instanceof org.apache.spark.sql.connector.expressions.Literal<?> l
              && l.value() != null) {
            wanted.add(l.value().toString());
          } else {
            understood = false;
          }
        }
        if (!understood) {
          continue;
        }
        Read r = read;
        String root = table.log().root().toUri().toString();
        boolean again = filtered;
        filtered = true;
        List<AddFile> kept =
            r.files().stream()
                .filter(f -> wanted.contains(LogFileIndex.uri(root, f.path())))
                .toList();
        if (again && kept.size() != r.files().size()) {
          // A second, narrower filter after the first (a plan reading this scan twice): one read
          // could already have planned the wider set, whose rows the commit would then not
          // replace. Fail rather than duplicate them.
          throw new IllegalStateException(
              "the files of this "
                  + operationName()
                  + " of "
                  + table.name()
                  + " were narrowed twice differently; nothing was committed");
        }
        read =
            new Read(
                r.snapshot(), kept, r.skipped() + r.files().size() - kept.size(), r.conditions());
      }
    }

    @Override
    public org.apache.spark.sql.connector.read.InputPartition[] planInputPartitions() {
      java.util.Set<String> files = new java.util.HashSet<>();
      String root = table.log().root().toUri().toString();
      read.files().forEach(f -> files.add(LogFileIndex.uri(root, f.path())));
      List<org.apache.spark.sql.connector.read.InputPartition> out = new ArrayList<>();
      for (org.apache.spark.sql.connector.read.InputPartition p : scan.planInputPartitions()) {
        org.apache.spark.sql.execution.datasources.FilePartition fp =
            (org.apache.spark.sql.execution.datasources.FilePartition) p;
        org.apache.spark.sql.execution.datasources.PartitionedFile[] kept =
            java.util.Arrays.stream(fp.files())
                .filter(f -> files.contains(f.urlEncodedPath()))
                .toArray(org.apache.spark.sql.execution.datasources.PartitionedFile[]::new);
        if (kept.length > 0) {
          out.add(org.apache.spark.sql.execution.datasources.FilePartition.apply(out.size(), kept));
        }
      }
      return out.toArray(org.apache.spark.sql.connector.read.InputPartition[]::new);
    }

    @Override
    public org.apache.spark.sql.connector.read.PartitionReaderFactory createReaderFactory() {
      return scan.createReaderFactory();
    }
  }
}
