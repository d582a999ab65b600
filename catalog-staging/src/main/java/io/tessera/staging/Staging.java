package io.tessera.staging;

import java.util.Map;
import org.apache.spark.sql.catalyst.analysis.NoSuchNamespaceException;
import org.apache.spark.sql.connector.catalog.Column;
import org.apache.spark.sql.connector.catalog.Identifier;
import org.apache.spark.sql.connector.catalog.StagedTable;
import org.apache.spark.sql.connector.catalog.TableInfo;
import org.apache.spark.sql.connector.expressions.Transform;

/** Builds the staged table that matches what the SPI guarantees. */
final class Staging {
  private Staging() {}

  static <H> StagedTable stage(
      StagingCatalog catalog,
      StagingSpi<H> spi,
      Identifier ident,
      TableInfo info,
      Publication publication)
      throws NoSuchNamespaceException {
    H hidden = spi.createHidden(ident, info, publication);
    String name = catalog.stagedName(ident);
    try {
      return spi.atomicSwap()
          ? new AtomicSwapStagedTable<>(spi, hidden, ident, publication, name)
          : new BestEffortStagedTable<>(spi, hidden, ident, publication, name);
    } catch (RuntimeException e) {
      spi.dropHidden(hidden);
      throw e;
    }
  }

  static TableInfo info(Column[] columns, Transform[] partitions, Map<String, String> properties) {
    return new TableInfo.Builder()
        .withColumns(columns)
        .withPartitions(partitions)
        .withProperties(properties)
        .build();
  }
}
