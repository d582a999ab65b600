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
public class JdbcTable implements SupportsRead, SupportsWrite {
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
    if (pathless != null && pathless.missing()) {
      throw new io.tessera.common.errors.TesseraException(
          io.tessera.common.errors.TesseraError.INVALID_OPTION_VALUE,
          "Option 'dbtable' names "
              + name
              + ", which does not exist (yet); check the name, or write to it first");
    }
    Map<String, String> params = new HashMap<>();
    params.put("url", dialect.sparkReaderUrl(connector.url()));
    params.put("dbtable", qualifiedName());
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
    return JDBCTable.apply(ident, schema, jdbcOptions, JDBCTable.apply$default$4())
        .newScanBuilder(new CaseInsensitiveStringMap(readOptions));
  }

  @Override
  public WriteBuilder newWriteBuilder(LogicalWriteInfo info) {
    return new JdbcWriteBuilder(this, info);
  }

  @Override
  public String toString() {
    return "JdbcTable(" + name() + ")";
  }
}
