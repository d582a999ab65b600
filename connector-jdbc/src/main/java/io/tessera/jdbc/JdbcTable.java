package io.tessera.jdbc;

import io.tessera.jdbc.dialect.JdbcDialect;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.apache.spark.sql.connector.catalog.Column;
import org.apache.spark.sql.connector.catalog.Identifier;
import org.apache.spark.sql.connector.catalog.SupportsRead;
import org.apache.spark.sql.connector.catalog.SupportsWrite;
import org.apache.spark.sql.connector.catalog.TableCapability;
import org.apache.spark.sql.connector.expressions.Expressions;
import org.apache.spark.sql.connector.expressions.Transform;
import org.apache.spark.sql.connector.read.ScanBuilder;
import org.apache.spark.sql.connector.write.LogicalWriteInfo;
import org.apache.spark.sql.connector.write.WriteBuilder;
import org.apache.spark.sql.execution.datasources.jdbc.JDBCOptions;
import org.apache.spark.sql.execution.datasources.v2.jdbc.JDBCTable;
import org.apache.spark.sql.types.StructType;
import org.apache.spark.sql.util.CaseInsensitiveStringMap;
import scala.jdk.javaapi.CollectionConverters;

/**
 * A database table seen through {@link JdbcCatalog}. Reads are Spark's own JDBC scan; writes go
 * through {@link JdbcWriteBuilder}, which publishes each job atomically.
 */
public class JdbcTable
    implements SupportsRead,
        SupportsWrite,
        org.apache.spark.sql.connector.catalog.SupportsRowLevelOperations,
        org.apache.spark.sql.connector.catalog.SupportsDeleteV2,
        org.apache.spark.sql.connector.catalog.SupportsMetadataColumns {
  private static final Set<TableCapability> CAPABILITIES =
      Set.of(
          TableCapability.BATCH_READ,
          TableCapability.BATCH_WRITE,
          TableCapability.STREAMING_WRITE,
          TableCapability.TRUNCATE,
          TableCapability.OVERWRITE_BY_FILTER,
          TableCapability.OVERWRITE_DYNAMIC);

  private final String name;
  private final Identifier ident;
  private final StructType schema;
  private final List<String> partitionKeys;
  private final Map<String, String> catalogOptions;
  private final JdbcDialect dialect;
  private final JdbcConnector connector;
  private final boolean staged;

  /**
   * @param name the name shown in plans and messages (a staged table shows the name it will get)
   */
  JdbcTable(
      String name,
      Identifier ident,
      StructType schema,
      List<String> partitionKeys,
      Map<String, String> catalogOptions,
      JdbcDialect dialect,
      JdbcConnector connector) {
    this(name, ident, schema, partitionKeys, catalogOptions, dialect, connector, false);
  }

  /**
   * @param staged the hidden table of a CTAS / RTAS, which is always written atomically
   */
  JdbcTable(
      String name,
      Identifier ident,
      StructType schema,
      List<String> partitionKeys,
      Map<String, String> catalogOptions,
      JdbcDialect dialect,
      JdbcConnector connector,
      boolean staged) {
    this.staged = staged;
    this.name = name;
    this.ident = ident;
    this.schema = schema;
    this.partitionKeys = List.copyOf(partitionKeys);
    this.catalogOptions = catalogOptions;
    this.dialect = dialect;
    this.connector = connector;
  }

  /**
   * How a table reached through {@code format("tessera-jdbc")} came about: its catalog (made from
   * the options), the SQL to append when creating it, and whether it did not exist yet (the first
   * write creates it).
   */
  record Pathless(JdbcCatalog catalog, String createTableOptions, boolean missing) {}

  private Pathless pathless;

  JdbcTable pathless(Pathless how) {
    this.pathless = how;
    return this;
  }

  /** Null for a catalog's table. */
  Pathless pathless() {
    return pathless;
  }

  Identifier ident() {
    return ident;
  }

  @Override
  public String name() {
    return name;
  }

  /** The table name quoted for SQL. */
  String qualifiedName() {
    return dialect.qualified(ident.namespace()[0], ident.name());
  }

  /** The table's own name in its schema. */
  String tableName() {
    return ident.name();
  }

  String schemaName() {
    return ident.namespace()[0];
  }

  @Override
  @SuppressWarnings("deprecation")
  public StructType schema() {
    return schema;
  }

  @Override
  public Column[] columns() {
    return org.apache.spark.sql.connector.catalog.CatalogV2Util.structTypeToV2Columns(
        schema, false);
  }

  @Override
  public Transform[] partitioning() {
    return partitionKeys.stream().map(Expressions::identity).toArray(Transform[]::new);
  }

  List<String> partitionKeys() {
    return partitionKeys;
  }

  @Override
  public Map<String, String> properties() {
    Map<String, String> p = new HashMap<>();
    p.put("provider", "tessera-jdbc");
    p.put("dialect", dialect.name());
    if (!partitionKeys.isEmpty()) {
      p.put(TableProperties.PARTITION_KEYS, String.join(",", partitionKeys));
    }
    return p;
  }

  @Override
  public Set<TableCapability> capabilities() {
    return CAPABILITIES;
  }

  boolean staged() {
    return staged;
  }

  Map<String, String> catalogOptions() {
    return catalogOptions;
  }

  JdbcDialect dialect() {
    return dialect;
  }

  JdbcConnector connector() {
    return connector;
  }

  /** Reads with Spark's own JDBC scan (column pruning, filter push-down, partitioned reads). */
  @Override
  public ScanBuilder newScanBuilder(CaseInsensitiveStringMap options) {
    return scanBuilder(qualifiedName(), schema, options);
  }

  /**
   * The scan of a row-level operation: Spark's JDBC scan of the table with each row's version (see
   * {@link JdbcDialect#rowVersion}) as the metadata column {@link JdbcDialect#rowVersionColumn}.
   */
  ScanBuilder rowLevelScanBuilder(CaseInsensitiveStringMap options) {
    // One query, so one snapshot of the table: a read split into key ranges, each its own
    // query, could miss a row that another write moved between ranges meanwhile.
    return new RowLevelScanBuilder(
        scanBuilder(
            dialect.rowVersionSource(qualifiedName(), JdbcDialect.withPlainStrings(schema)),
            schema.add(dialect.rowVersionColumn(), dialect.rowVersionType(), false),
            options),
        schema);
  }

  private ScanBuilder scanBuilder(
      String dbtable, StructType readSchema, CaseInsensitiveStringMap options) {
    if (pathless != null && pathless.missing()) {
      throw new io.tessera.common.errors.TesseraException(
          io.tessera.common.errors.TesseraError.INVALID_OPTION_VALUE,
          "Option 'dbtable' names "
              + name
              + ", which does not exist (yet); check the name, or write to it first");
    }
    Map<String, String> params = new HashMap<>();
    params.put("url", dialect.sparkReaderUrl(connector.url()));
    params.put("dbtable", dbtable);
    // Without it Spark asks DriverManager, which misses drivers brought by --packages.
    params.put("driver", connector.driverClass());
    params.putAll(dialect.sparkReaderOptions());
    if (connector.user() != null) {
      params.put("user", connector.user());
    }
    if (connector.password() != null) {
      params.put("password", connector.password());
    }
    params.put(
        "fetchsize",
        String.valueOf(
            JdbcWriteOptions.OPTIONS.parse(catalogOptions).get(JdbcWriteOptions.FETCH_SIZE)));
    JDBCOptions jdbcOptions =
        new JDBCOptions(
            scala.collection.immutable.Map$.MODULE$.from(CollectionConverters.asScala(params)));
    // A path-less read's options hold the user's url, dbtable and credentials too: the ones set
    // above (quoted name, the dialect's reader URL) must win over them.
    Map<String, String> readOptions = new HashMap<>();
    options
        .asCaseSensitiveMap()
        .forEach(
            (k, v) -> {
              if (!params.containsKey(k.toLowerCase(java.util.Locale.ROOT))
                  && !k.equalsIgnoreCase("dbtable")
                  && !k.equalsIgnoreCase("url")
                  && !k.equalsIgnoreCase("user")
                  && !k.equalsIgnoreCase("password")
                  && !k.equalsIgnoreCase("driver")) {
                readOptions.put(k, v);
              }
            });
    return JDBCTable.apply(ident, readSchema, jdbcOptions, JDBCTable.apply$default$4())
        .newScanBuilder(new CaseInsensitiveStringMap(readOptions));
  }

  @Override
  public WriteBuilder newWriteBuilder(LogicalWriteInfo info) {
    return new JdbcWriteBuilder(this, info);
  }

  /**
   * The row version a row-level operation reads with each row it changes; hidden from {@code SELECT
   * *}.
   */
  @Override
  public org.apache.spark.sql.connector.catalog.MetadataColumn[] metadataColumns() {
    String column = dialect.rowVersionColumn();
    org.apache.spark.sql.types.DataType type = dialect.rowVersionType();
    return new org.apache.spark.sql.connector.catalog.MetadataColumn[] {
      new org.apache.spark.sql.connector.catalog.MetadataColumn() {
        @Override
        public String name() {
          return column;
        }

        @Override
        public org.apache.spark.sql.types.DataType dataType() {
          return type;
        }

        @Override
        public boolean isNullable() {
          return false;
        }

        @Override
        public String comment() {
          return "the row's version, which tessera-jdbc's UPDATE and MERGE check before they commit";
        }
      }
    };
  }

  /**
   * UPDATE, MERGE INTO, and DELETE with conditions that do not translate to SQL: delta-based row
   * level operations keyed by the table's primary key (see {@link JdbcRowLevelOperation}).
   */
  @Override
  public org.apache.spark.sql.connector.write.RowLevelOperationBuilder newRowLevelOperationBuilder(
      org.apache.spark.sql.connector.write.RowLevelOperationInfo info) {
    return () -> JdbcRowLevelOperation.of(this, info.command());
  }

  /**
   * A DELETE whose condition translates to SQL runs as one SQL DELETE (see {@link #deleteWhere}).
   */
  @Override
  public boolean canDeleteWhere(
      org.apache.spark.sql.connector.expressions.filter.Predicate[] predicates) {
    if (staged) {
      return false;
    }
    try {
      new io.tessera.jdbc.dialect.SqlPredicates(dialect, JdbcDialect.withPlainStrings(schema))
          .translate(predicates);
      return true;
    } catch (io.tessera.jdbc.dialect.SqlPredicates.Untranslatable e) {
      return false; // Spark deletes row by row instead (JdbcRowLevelOperation)
    }
  }

  /**
   * {@code DELETE FROM t WHERE <condition>}: one SQL DELETE in one transaction, with the write
   * lock, ledger and lost-COMMIT lookup of every atomic write. Strings compare as Spark compares
   * them.
   */
  @Override
  public void deleteWhere(
      org.apache.spark.sql.connector.expressions.filter.Predicate[] predicates) {
    refuseNonTransactional("DELETE FROM " + name);
    new JdbcBatchWrite(
            this,
            JdbcDialect.withPlainStrings(schema),
            JdbcWriteOptions.OPTIONS.parse(catalogOptions),
            io.tessera.common.write.WriteMode.OverwriteByFilter.of(predicates),
            List.of(),
            new java.util.concurrent.atomic.AtomicLong(-1))
        .deleteOnly()
        .deleteWhere();
  }

  /**
   * The foreign keys of other tables that a delete of this table's rows would change ({@code ON
   * DELETE CASCADE / SET NULL / SET DEFAULT}), as "table.column (rule)".
   */
  List<String> cascadingReferences(java.sql.Connection c) throws java.sql.SQLException {
    List<String> cascading = new java.util.ArrayList<>();
    try (java.sql.ResultSet rs =
        dialect.schemasAreCatalogs()
            ? c.getMetaData().getExportedKeys(schemaName(), null, tableName())
            : c.getMetaData().getExportedKeys(null, schemaName(), tableName())) {
      while (rs.next()) {
        int rule = rs.getInt("DELETE_RULE");
        if (rule == java.sql.DatabaseMetaData.importedKeyCascade
            || rule == java.sql.DatabaseMetaData.importedKeySetNull
            || rule == java.sql.DatabaseMetaData.importedKeySetDefault) {
          cascading.add(
              rs.getString("FKTABLE_NAME")
                  + "."
                  + rs.getString("FKCOLUMN_NAME")
                  + (rule == java.sql.DatabaseMetaData.importedKeyCascade
                      ? " (ON DELETE CASCADE)"
                      : " (ON DELETE SET NULL/DEFAULT)"));
        }
      }
    }
    return cascading;
  }

  /**
   * Refuses, before anything changes, a table whose storage engine cannot roll back (MariaDB's
   * MyISAM, Aria): {@code what} would not be all-or-nothing there.
   */
  void refuseNonTransactional(String what) {
    try (java.sql.Connection c = connector.open()) {
      String reason = dialect.nonTransactionalReason(c, schemaName(), tableName());
      if (reason != null) {
        throw io.tessera.common.errors.TesseraErrors.unsupportedWriteMode(
            "tessera-jdbc",
            what,
            reason
                + ", so a failed change could not be rolled back; convert the table (e.g. ALTER"
                + " TABLE ... ENGINE=InnoDB)");
      }
    } catch (java.sql.SQLException e) {
      throw connector.sqlFailed("Checking whether " + name + " can be changed failed", "", e);
    }
  }

  @Override
  public String toString() {
    return "JdbcTable(" + name() + ")";
  }
}
