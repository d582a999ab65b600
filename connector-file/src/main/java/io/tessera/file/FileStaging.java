package io.tessera.file;

import io.tessera.file.log.TableLog;
import io.tessera.file.log.TableMetadata;
import io.tessera.staging.Publication;
import io.tessera.staging.StagingSpi;
import java.io.IOException;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.apache.spark.sql.catalyst.analysis.NoSuchNamespaceException;
import org.apache.spark.sql.connector.catalog.Identifier;
import org.apache.spark.sql.connector.catalog.Table;
import org.apache.spark.sql.connector.catalog.TableInfo;
import org.apache.spark.sql.connector.write.WriterCommitMessage;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * CTAS / RTAS for {@link FileCatalog}. Nothing is created until publication: the query's files are
 * written under the table's hidden {@code _tessera/staging/} folder, and {@code
 * commitStagedChanges()} publishes them with ONE log entry that sets the new schema, partitioning
 * and format, adds the new files and removes every old one (a CTAS entry is version 0, created only
 * if absent). A reader through the connector sees the old table or the new one, never a mix; an
 * abort deletes only the staged files. Removed files are deleted after the entry exists, as for any
 * overwrite.
 */
final class FileStaging implements StagingSpi<FileStaging.Pending> {
  private static final Logger LOG = LoggerFactory.getLogger(FileStaging.class);

  /** One staged CTAS / RTAS: its new metadata, and the finished write waiting for publication. */
  static final class Pending {
    private final TableLog log;
    private final String name;
    private final TableMetadata metadata;
    private final Publication publication;
    private FileCommitter committer;
    private WriterCommitMessage[] messages;

    Pending(TableLog log, String name, TableMetadata metadata, Publication publication) {
      this.log = log;
      this.name = name;
      this.metadata = metadata;
      this.publication = publication;
    }

    FileCommitter.Replacement replacement() {
      return new FileCommitter.Replacement(metadata, publication == Publication.CREATE);
    }

    /** Called by the batch write instead of committing: the staged table publishes it later. */
    synchronized void written(FileCommitter committer, WriterCommitMessage[] messages) {
      if (this.committer != null) {
        committer.abort();
        throw new IllegalStateException(
            "A staged table of " + name + " was written twice; only one write can be published");
      }
      this.committer = committer;
      this.messages = messages;
    }
  }

  private final FileCatalog catalog;

  FileStaging(FileCatalog catalog) {
    this.catalog = catalog;
  }

  @Override
  public String systemName() {
    return "tessera-file";
  }

  @Override
  public boolean atomicSwap() {
    return true;
  }

  @Override
  public Pending createHidden(Identifier ident, TableInfo info, Publication publication)
      throws NoSuchNamespaceException {
    if (!catalog.namespaceExists(ident.namespace())) {
      throw new NoSuchNamespaceException(ident.namespace());
    }
    TableMetadata metadata = FileCatalog.metadataFor(info);
    return new Pending(catalog.log(ident), catalog.stagedName(ident), metadata, publication);
  }

  @Override
  public Table writable(Pending pending) {
    return new FileTable(pending.name, pending.log, pending.metadata, catalog.options(), pending);
  }

  @Override
  public void swapIn(Pending pending, Identifier ident, Publication publication) {
    FileCommitter committer;
    WriterCommitMessage[] messages;
    synchronized (pending) {
      committer = pending.committer;
      messages = pending.messages;
    }
    if (committer == null) {
      throw new IllegalStateException(
          publication.sql() + " of " + pending.name + " has no finished write to publish");
    }
    long version = committer.commit(messages, null);
    LOG.info(
        "tessera-file: {} published {} as version {}", publication.sql(), pending.name, version);
  }

  /**
   * Deletes the staged files. For a table that was never created, also the empty folders the
   * staging made, so a failed CTAS leaves nothing behind (a folder with other content is kept).
   */
  @Override
  public void dropHidden(Pending pending) {
    FileCommitter committer;
    synchronized (pending) {
      committer = pending.committer;
    }
    if (committer != null) {
      committer.abort();
    }
    if (!pending.log.exists()) {
      FileSystem fs = pending.log.fs();
      Path staging = new Path(new Path(pending.log.root(), TableLog.META_DIR), "staging");
      for (Path p : new Path[] {staging, staging.getParent(), pending.log.root()}) {
        try {
          if (fs.exists(p) && fs.listStatus(p).length == 0) {
            fs.delete(p, false);
          }
        } catch (IOException e) {
          LOG.debug("tessera-file: left {} in place: {}", p, e.toString());
          return;
        }
      }
    }
  }
}
