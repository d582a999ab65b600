package io.tessera.staging;

import java.util.Map;
import org.apache.spark.sql.catalyst.analysis.NoSuchNamespaceException;
import org.apache.spark.sql.catalyst.analysis.NoSuchTableException;
import org.apache.spark.sql.catalyst.analysis.TableAlreadyExistsException;
import org.apache.spark.sql.connector.catalog.Column;
import org.apache.spark.sql.connector.catalog.Identifier;
import org.apache.spark.sql.connector.catalog.StagedTable;
import org.apache.spark.sql.connector.catalog.StagingTableCatalog;
import org.apache.spark.sql.connector.catalog.TableInfo;
import org.apache.spark.sql.connector.expressions.Transform;

/**
 * A {@link StagingTableCatalog} whose staged tables come from a {@link StagingSpi}. Without
 * staging, Spark runs {@code REPLACE TABLE ... AS SELECT} as drop, create, write: a failed query
 * loses the old table. With it, the new table is written where no reader sees it and published in
 * {@code commitStagedChanges()}; a failure drops only what was staged.
 *
 * <p>Implementing catalogs provide {@link #stagingSpi()} and {@link #stagedName(Identifier)}; the
 * staging entry points below are complete.
 */
public interface StagingCatalog extends StagingTableCatalog {

  /** The connector's staging operations. */
  StagingSpi<?> stagingSpi();

  /** The name Spark shows for a staged table of {@code ident}, e.g. {@code cat.db.t}. */
  String stagedName(Identifier ident);

  @Override
  default StagedTable stageCreate(Identifier ident, TableInfo info)
      throws TableAlreadyExistsException, NoSuchNamespaceException {
    if (tableExists(ident)) {
      throw new TableAlreadyExistsException(ident);
    }
    return Staging.stage(this, stagingSpi(), ident, info, Publication.CREATE);
  }

  @Override
  default StagedTable stageReplace(Identifier ident, TableInfo info)
      throws NoSuchNamespaceException, NoSuchTableException {
    if (!tableExists(ident)) {
      throw new NoSuchTableException(ident);
    }
    return Staging.stage(this, stagingSpi(), ident, info, Publication.REPLACE);
  }

  @Override
  default StagedTable stageCreateOrReplace(Identifier ident, TableInfo info)
      throws NoSuchNamespaceException {
    return Staging.stage(this, stagingSpi(), ident, info, Publication.CREATE_OR_REPLACE);
  }

  @Override
  default StagedTable stageCreate(
      Identifier ident, Column[] columns, Transform[] partitions, Map<String, String> properties)
      throws TableAlreadyExistsException, NoSuchNamespaceException {
    return stageCreate(ident, Staging.info(columns, partitions, properties));
  }

  @Override
  default StagedTable stageReplace(
      Identifier ident, Column[] columns, Transform[] partitions, Map<String, String> properties)
      throws NoSuchNamespaceException, NoSuchTableException {
    return stageReplace(ident, Staging.info(columns, partitions, properties));
  }

  @Override
  default StagedTable stageCreateOrReplace(
      Identifier ident, Column[] columns, Transform[] partitions, Map<String, String> properties)
      throws NoSuchNamespaceException {
    return stageCreateOrReplace(ident, Staging.info(columns, partitions, properties));
  }
}
