package io.tessera.staging;

import org.apache.spark.sql.connector.catalog.Identifier;

/**
 * A staged table published in one atomic step: readers of the name see the old table (or none)
 * until the swap commits and the whole new table after it, never a missing or half-written one.
 */
public final class AtomicSwapStagedTable<H> extends HiddenStagedTable<H> {
  public AtomicSwapStagedTable(
      StagingSpi<H> spi, H hidden, Identifier ident, Publication publication, String name) {
    super(spi, hidden, ident, publication, name);
  }

  @Override
  public void commitStagedChanges() {
    spi.swapIn(hidden, ident, publication);
  }
}
