package io.tessera.jdbc;

import io.tessera.jdbc.dialect.JdbcDialect;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import org.apache.spark.sql.catalyst.InternalRow;
import org.apache.spark.sql.catalyst.expressions.GenericInternalRow;
import org.apache.spark.sql.connector.catalog.procedures.BoundProcedure;
import org.apache.spark.sql.connector.catalog.procedures.ProcedureParameter;
import org.apache.spark.sql.connector.catalog.procedures.UnboundProcedure;
import org.apache.spark.sql.connector.read.LocalScan;
import org.apache.spark.sql.connector.read.Scan;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.apache.spark.unsafe.types.UTF8String;

/**
 * {@code CALL <catalog>.system.cleanup(namespace => 'schema', older_than_minutes => 60)}: drops the
 * staging tables that writes whose driver crashed left behind in one schema, and returns their
 * names. A staging table carries its creation time in its name; only tables older than the
 * threshold are dropped, so writes still running are never touched (choose a threshold longer than
 * your longest write). Staging tables never hold published data: dropping them cannot change a
 * target table.
 */
final class CleanupStagingProcedure implements UnboundProcedure, BoundProcedure {
  static final String NAME = "cleanup";
  private static final StructType RESULT =
      new StructType().add("dropped_table", DataTypes.StringType, false);

  private final JdbcCatalog catalog;

  CleanupStagingProcedure(JdbcCatalog catalog) {
    this.catalog = catalog;
  }

  @Override
  public String name() {
    return NAME;
  }

  @Override
  public String description() {
    return "Drops tessera-jdbc staging tables left by crashed writes in one schema";
  }

  @Override
  public BoundProcedure bind(StructType inputType) {
    return this;
  }

  @Override
  public ProcedureParameter[] parameters() {
    return new ProcedureParameter[] {
      ProcedureParameter.in("namespace", DataTypes.StringType)
          .comment("the schema to clean")
          .build(),
      ProcedureParameter.in("older_than_minutes", DataTypes.IntegerType)
          .defaultValue("60")
          .comment("only staging tables created at least this long ago are dropped")
          .build()
    };
  }

  @Override
  public boolean isDeterministic() {
    return false;
  }

  @Override
  public Iterator<Scan> call(InternalRow input) {
    String schema = input.getUTF8String(0).toString();
    int minutes = input.isNullAt(1) ? 60 : input.getInt(1);
    long cutoff = System.currentTimeMillis() / 1000 - minutes * 60L;
    List<String> dropped = new ArrayList<>();
    for (String table : catalog.stagingTables(schema)) {
      Long created = createdEpochSeconds(table);
      if (created != null && created <= cutoff) {
        JdbcDialect d = catalog.dialect();
        catalog.connector().execute(List.of(d.dropTableIfExists(d.qualified(schema, table))));
        dropped.add(table);
      }
    }
    InternalRow[] rows =
        dropped.stream()
            .map(t -> (InternalRow) new GenericInternalRow(new Object[] {UTF8String.fromString(t)}))
            .toArray(InternalRow[]::new);
    Scan result =
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
    return List.of(result).iterator();
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
