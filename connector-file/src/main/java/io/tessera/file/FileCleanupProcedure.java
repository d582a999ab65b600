package io.tessera.file;

import io.tessera.common.procedures.CleanupProcedure;
import io.tessera.file.log.Snapshot;
import io.tessera.file.log.TableLog;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.List;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.LocatedFileStatus;
import org.apache.hadoop.fs.RemoteIterator;
import org.apache.spark.sql.connector.catalog.Identifier;

/**
 * {@code CALL <catalog>.system.cleanup(table => 'ns.t', older_than_minutes => 60)}: deletes files
 * that crashed or failed writes left in a table folder and returns their paths: staged files, and
 * data files that no committed log entry references. It never deletes a file the latest snapshot
 * references, nor anything younger than the threshold (a write may still be committing it).
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
    String[] parts = table.split("\\.", 2);
    if (parts.length != 2) {
      throw new IllegalArgumentException(
          "cleanup needs table => 'namespace.table', got '" + table + "'");
    }
    TableLog log = catalog.log(Identifier.of(new String[] {parts[0]}, parts[1]));
    return cleanup(log, System.currentTimeMillis() - olderThanMinutes * 60_000L);
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
