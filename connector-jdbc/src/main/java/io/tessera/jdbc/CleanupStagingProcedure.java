package io.tessera.jdbc;

import io.tessera.common.errors.TesseraError;
import io.tessera.common.errors.TesseraException;
import io.tessera.common.procedures.CleanupProcedure;
import io.tessera.jdbc.dialect.JdbcDialect;
import java.util.ArrayList;
import java.util.List;

/**
 * {@code CALL <catalog>.system.cleanup(namespace => 'schema', older_than_minutes => 60)}: drops the
 * staging tables that writes whose driver crashed left behind in one schema, and returns their
 * names. Only tables whose name carries Tessera's checksum marker are dropped (see {@link
 * JdbcDialect#stagingTableName}); thresholds below one minute are refused. A staging table carries
 * its creation time in its name; only tables older than the threshold are dropped, so writes still
 * running are never touched (choose a threshold longer than your longest write). Staging tables
 * never hold published data: dropping them cannot change a target table.
 *
 * <p>It also completes {@code commit=two-phase} writes of the catalog's user into the schema: a
 * prepared transaction whose decision the ledger holds is committed, one without a decision whose
 * write started before the threshold is rolled back (one line per transaction in the result).
 */
final class CleanupStagingProcedure extends CleanupProcedure {
  private final JdbcCatalog catalog;

  CleanupStagingProcedure(JdbcCatalog catalog) {
    super(
        "namespace",
        "the schema to clean",
        "dropped_table",
        "Drops tessera-jdbc staging tables left by crashed writes in one schema");
    this.catalog = catalog;
  }

  @Override
  protected List<String> cleanup(String schema, int olderThanMinutes) {
    if (olderThanMinutes < 1) {
      throw new TesseraException(
          TesseraError.INVALID_OPTION_VALUE,
          "Argument 'older_than_minutes' has value "
              + olderThanMinutes
              + " but must be at least 1: a shorter threshold could drop the staging table of a"
              + " write that is still running; use a threshold longer than your longest write");
    }
    if (!catalog.namespaceExists(new String[] {schema})) {
      throw new TesseraException(
          TesseraError.INVALID_OPTION_VALUE,
          "Argument 'namespace' has value '"
              + schema
              + "' but the database has no such schema; SHOW NAMESPACES lists them");
    }
    long cutoff = System.currentTimeMillis() / 1000 - olderThanMinutes * 60L;
    List<String> dropped = new ArrayList<>();
    JdbcDialect d = catalog.dialect();
    for (String table : catalog.stagingTables(schema)) {
      Long created = createdEpochSeconds(table);
      if (created != null && created <= cutoff && JdbcDialect.isStagingTableName(table)) {
        catalog.connector().execute(List.of(d.dropTableIfExists(d.qualified(schema, table))));
        dropped.add(table);
      }
    }
    // Prepared transactions of commit=two-phase: decided ones are committed (at any age),
    // undecided ones of writes older than the threshold rolled back.
    for (String done :
        catalog.completeTwoPhase(schema, TwoPhaseCommit.nowSeconds() - olderThanMinutes * 60L)) {
      dropped.add("prepared transaction " + done);
    }
    return dropped;
  }

  /** The creation time encoded in a staging table's name, or null for other names. */
  static Long createdEpochSeconds(String table) {
    if (!table.startsWith(JdbcDialect.STAGING_PREFIX)) {
      return null;
    }
    String rest = table.substring(JdbcDialect.STAGING_PREFIX.length());
    int sep = rest.indexOf('_');
    try {
      return Long.parseLong(sep < 0 ? rest : rest.substring(0, sep));
    } catch (NumberFormatException e) {
      return null;
    }
  }
}
