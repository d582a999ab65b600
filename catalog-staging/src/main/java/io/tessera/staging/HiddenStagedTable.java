package io.tessera.staging;

import java.util.Map;
import java.util.Set;
import org.apache.spark.sql.connector.catalog.Column;
import org.apache.spark.sql.connector.catalog.Identifier;
import org.apache.spark.sql.connector.catalog.StagedTable;
import org.apache.spark.sql.connector.catalog.SupportsWrite;
import org.apache.spark.sql.connector.catalog.Table;
import org.apache.spark.sql.connector.catalog.TableCapability;
import org.apache.spark.sql.connector.expressions.Transform;
import org.apache.spark.sql.connector.write.LogicalWriteInfo;
import org.apache.spark.sql.connector.write.WriteBuilder;
import org.apache.spark.sql.types.StructType;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A staged table backed by a hidden table: Spark writes into the hidden table (through the
 * connector's own atomic write path), {@link #commitStagedChanges()} publishes it, {@link
 * #abortStagedChanges()} drops it. Subclasses say how publication works and what it guarantees.
 */
abstract class HiddenStagedTable<H> implements StagedTable, SupportsWrite {
  private static final Logger LOG = LoggerFactory.getLogger(HiddenStagedTable.class);

  protected final StagingSpi<H> spi;
  protected final H hidden;
  protected final Identifier ident;
  protected final Publication publication;
  private final String name;
  private final Table writable;

  /** Set when a failed publication left data only in the hidden table: abort must keep it. */
  protected volatile boolean keepHidden;

  HiddenStagedTable(
      StagingSpi<H> spi, H hidden, Identifier ident, Publication publication, String name) {
    this.spi = spi;
    this.hidden = hidden;
    this.ident = ident;
    this.publication = publication;
    this.name = name;
    this.writable = spi.writable(hidden);
  }

  @Override
  public String name() {
    return name;
  }

  @Override
  @SuppressWarnings("deprecation")
  public StructType schema() {
    return writable.schema();
  }

  @Override
  public Column[] columns() {
    return writable.columns();
  }

  @Override
  public Transform[] partitioning() {
    return writable.partitioning();
  }

  @Override
  public Map<String, String> properties() {
    return writable.properties();
  }

  @Override
  public Set<TableCapability> capabilities() {
    return writable.capabilities();
  }

  @Override
  public WriteBuilder newWriteBuilder(LogicalWriteInfo info) {
    return ((SupportsWrite) writable).newWriteBuilder(info);
  }

  /** Drops what was staged; the table named {@link #ident}, if any, was never touched. */
  @Override
  public void abortStagedChanges() {
    if (keepHidden) {
      LOG.error(
          "tessera: {} of {} failed half way; its new table is kept (see the error) so that no"
              + " data is lost",
          publication.sql(),
          name);
      return;
    }
    try {
      spi.dropHidden(hidden);
    } catch (RuntimeException e) {
      LOG.warn(
          "tessera: could not drop the hidden table of an aborted {} of {} ({}); it is invisible"
              + " to readers and the catalog's cleanup procedure removes it",
          publication.sql(),
          name,
          e.toString());
    }
    LOG.info("tessera: {} of {} aborted; the existing table is unchanged", publication.sql(), name);
  }

  @Override
  public String toString() {
    return getClass().getSimpleName() + "(" + name + ", " + publication + ")";
  }
}
