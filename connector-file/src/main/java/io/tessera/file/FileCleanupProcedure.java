package io.tessera.file;

import io.tessera.file.log.Snapshot;
import io.tessera.file.log.TableLog;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.LocatedFileStatus;
import org.apache.hadoop.fs.RemoteIterator;
import org.apache.spark.sql.catalyst.InternalRow;
import org.apache.spark.sql.catalyst.expressions.GenericInternalRow;
import org.apache.spark.sql.connector.catalog.Identifier;
import org.apache.spark.sql.connector.catalog.procedures.BoundProcedure;
import org.apache.spark.sql.connector.catalog.procedures.ProcedureParameter;
import org.apache.spark.sql.connector.catalog.procedures.UnboundProcedure;
import org.apache.spark.sql.connector.read.LocalScan;
import org.apache.spark.sql.connector.read.Scan;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.apache.spark.unsafe.types.UTF8String;

/**
 * {@code CALL <catalog>.system.cleanup(table => 'ns.t', older_than_minutes => 60)}: deletes files
 * that crashed or failed writes left in a table folder and returns their paths: staged files, and
 * data files that no committed log entry references. It never deletes a file the latest snapshot
 * references, nor anything younger than the threshold (a write may still be committing it).
 */
final class FileCleanupProcedure implements UnboundProcedure, BoundProcedure {
  static final String NAME = "cleanup";
  private static final StructType RESULT =
      new StructType().add("deleted_file", DataTypes.StringType, false);

  private final FileCatalog catalog;

  FileCleanupProcedure(FileCatalog catalog) {
    this.catalog = catalog;
  }

  @Override
  public String name() {
    return NAME;
  }

  @Override
  public String description() {
    return "Deletes files of failed tessera-file writes that no commit references";
  }

  @Override
  public BoundProcedure bind(StructType inputType) {
    return this;
  }

  @Override
  public ProcedureParameter[] parameters() {
    return new ProcedureParameter[] {
      ProcedureParameter.in("table", DataTypes.StringType).comment("namespace.table").build(),
      ProcedureParameter.in("older_than_minutes", DataTypes.IntegerType)
          .defaultValue("60")
          .comment("only files last modified at least this long ago are deleted")
          .build()
    };
  }

  @Override
  public boolean isDeterministic() {
    return false;
  }

  @Override
  public Iterator<Scan> call(InternalRow input) {
    String[] parts = input.getUTF8String(0).toString().split("\\.", 2);
    int minutes = input.isNullAt(1) ? 60 : input.getInt(1);
    TableLog log = catalog.log(Identifier.of(new String[] {parts[0]}, parts[1]));
    List<String> deleted = cleanup(log, System.currentTimeMillis() - minutes * 60_000L);
    InternalRow[] rows =
        deleted.stream()
            .map(p -> (InternalRow) new GenericInternalRow(new Object[] {UTF8String.fromString(p)}))
            .toArray(InternalRow[]::new);
    Scan scan =
        new LocalScan() {
          @Override
          public InternalRow[] rows() {
            return rows;
          }

          @Override
          public StructType readSchema() {
            return RESULT;
          }
        };
    return List.of(scan).iterator();
  }

  static List<String> cleanup(TableLog log, long cutoffMillis) {
    FileSystem fs = log.fs();
    String root = log.root().toUri().getPath();
    List<String> deleted = new ArrayList<>();
    try {
      RemoteIterator<LocatedFileStatus> files = fs.listFiles(log.root(), true);
      List<LocatedFileStatus> all = new ArrayList<>();
      while (files.hasNext()) {
        all.add(files.next());
      }
      // Read the state after listing, so a file committed during the listing is known.
      Snapshot snap = log.snapshot();
      for (LocatedFileStatus f : all) {
        String rel = f.getPath().toUri().getPath().substring(root.length() + 1);
        if (rel.startsWith(TableLog.META_DIR + "/log/") || f.getModificationTime() > cutoffMillis) {
          continue;
        }
        String name = f.getPath().getName();
        String dataRel = rel;
        if (name.startsWith(".") && name.endsWith(".crc")) {
          String parent = rel.contains("/") ? rel.substring(0, rel.lastIndexOf('/') + 1) : "";
          dataRel = parent + name.substring(1, name.length() - 4);
        }
        if (rel.startsWith(TableLog.META_DIR + "/staging/") || !snap.contains(dataRel)) {
          if (fs.delete(f.getPath(), false)) {
            deleted.add(rel);
          }
        }
      }
    } catch (IOException e) {
      throw new UncheckedIOException("Cleanup of " + log.root() + " failed", e);
    }
    deleted.sort(null);
    return deleted;
  }
}
