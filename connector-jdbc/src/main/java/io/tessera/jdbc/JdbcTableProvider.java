package io.tessera.jdbc;

import io.tessera.common.errors.TesseraErrors;
import java.util.Map;
import org.apache.spark.sql.catalyst.analysis.NoSuchTableException;
import org.apache.spark.sql.connector.catalog.Identifier;
import org.apache.spark.sql.connector.catalog.Table;
import org.apache.spark.sql.connector.catalog.TableProvider;
import org.apache.spark.sql.connector.expressions.Transform;
import org.apache.spark.sql.sources.DataSourceRegister;
import org.apache.spark.sql.types.StructType;
import org.apache.spark.sql.util.CaseInsensitiveStringMap;

/**
 * {@code format("tessera-jdbc")}, for users of Spark's {@code format("jdbc")}: {@code
 * df.write.format("tessera-jdbc").option("url", ...).option("dbtable", ...).mode("append" |
 * "overwrite").save()}, {@code spark.read.format("tessera-jdbc")...load()} and {@code
 * writeStream.format("tessera-jdbc")...start()}. The options are Spark's JDBC names ({@link
 * JdbcProviderOptions}); behind them is the same table and write path as {@link JdbcCatalog}'s, so
 * the guarantees are the same (atomic by default, exactly-once streaming).
 */
public class JdbcTableProvider implements TableProvider, DataSourceRegister {
  @Override
  public String shortName() {
    return "tessera-jdbc";
  }

  @Override
  public StructType inferSchema(CaseInsensitiveStringMap options) {
    return table(options.asCaseSensitiveMap(), null).schema();
  }

  /** Writes pass the data's schema: a missing table is then created by the first write. */
  @Override
  public boolean supportsExternalMetadata() {
    return true;
  }

  @Override
  public Table getTable(
      StructType schema, Transform[] partitioning, Map<String, String> properties) {
    return table(properties, schema);
  }

  private static JdbcTable table(Map<String, String> properties, StructType schemaIfMissing) {
    CaseInsensitiveStringMap options = new CaseInsensitiveStringMap(properties);
    String dbtable = options.get(JdbcProviderOptions.DBTABLE.name());
    if (dbtable == null || dbtable.isBlank()) {
      throw TesseraErrors.missingOption(
          "tessera-jdbc", "dbtable", JdbcProviderOptions.DBTABLE.doc());
    }
    if (options.get(JdbcWriteOptions.URL.name()) == null) {
      throw TesseraErrors.missingOption("tessera-jdbc", "url", JdbcWriteOptions.URL.doc());
    }
    JdbcCatalog catalog = new JdbcCatalog();
    catalog.initialize(
        "tessera-jdbc",
        new CaseInsensitiveStringMap(JdbcProviderOptions.tesseraOptions(connection(options))));
    Identifier ident = catalog.resolveDbtable(dbtable);
    String createOptions = options.get(JdbcProviderOptions.CREATE_TABLE_OPTIONS.name());
    try {
      return ((JdbcTable) catalog.loadTable(ident))
          .pathless(new JdbcTable.Pathless(catalog, createOptions, false));
    } catch (NoSuchTableException e) {
      if (schemaIfMissing == null) {
        throw new io.tessera.common.errors.TesseraException(
            io.tessera.common.errors.TesseraError.INVALID_OPTION_VALUE,
            "Option 'dbtable' names "
                + ident.namespace()[0]
                + "."
                + ident.name()
                + ", which does not exist; check the name (schema.table), or write to it first");
      }
      return new JdbcTable(
              "tessera-jdbc:" + ident.namespace()[0] + "." + ident.name(),
              ident,
              schemaIfMissing,
              java.util.List.of(),
              catalog.catalogOptions(),
              catalog.dialect(),
              catalog.connector())
          .pathless(new JdbcTable.Pathless(catalog, createOptions, true));
    }
  }

  /**
   * What the table's catalog needs: connection and Tessera options. Spark's read options stay out
   * (the scan gets them itself) and so do Spark's JDBC options Tessera does not honour: a write
   * refuses those by name.
   */
  private static Map<String, String> connection(CaseInsensitiveStringMap options) {
    Map<String, String> out = new java.util.LinkedHashMap<>();
    options
        .asCaseSensitiveMap()
        .forEach(
            (k, v) -> {
              if (JdbcProviderOptions.OPTIONS.specs().stream()
                  .anyMatch(spec -> spec.name().equalsIgnoreCase(k))) {
                out.put(k, v);
              }
            });
    return out;
  }
}
