package io.tessera.jdbc;

import io.tessera.common.errors.TesseraError;
import io.tessera.common.errors.TesseraException;
import io.tessera.common.options.ParsedOptions;
import io.tessera.common.procedures.CleanupProcedure;
import io.tessera.jdbc.dialect.JdbcDialect;
import io.tessera.jdbc.dialect.JdbcDialects;
import io.tessera.staging.StagingCatalog;
import io.tessera.staging.StagingSpi;
import java.sql.Connection;
import java.sql.DatabaseMetaData;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.apache.spark.sql.catalyst.analysis.NamespaceAlreadyExistsException;
import org.apache.spark.sql.catalyst.analysis.NoSuchNamespaceException;
import org.apache.spark.sql.catalyst.analysis.NoSuchTableException;
import org.apache.spark.sql.catalyst.analysis.NonEmptyNamespaceException;
import org.apache.spark.sql.catalyst.analysis.TableAlreadyExistsException;
import org.apache.spark.sql.connector.catalog.Identifier;
import org.apache.spark.sql.connector.catalog.NamespaceChange;
import org.apache.spark.sql.connector.catalog.ProcedureCatalog;
import org.apache.spark.sql.connector.catalog.SupportsNamespaces;
import org.apache.spark.sql.connector.catalog.Table;
import org.apache.spark.sql.connector.catalog.TableChange;
import org.apache.spark.sql.connector.catalog.TableInfo;
import org.apache.spark.sql.connector.catalog.procedures.UnboundProcedure;
import org.apache.spark.sql.connector.expressions.IdentityTransform;
import org.apache.spark.sql.connector.expressions.Transform;
import org.apache.spark.sql.execution.datasources.jdbc.JdbcUtils;
import org.apache.spark.sql.types.StructType;
import org.apache.spark.sql.util.CaseInsensitiveStringMap;

/**
 * A Spark catalog over one database: namespaces are schemas (databases on MariaDB), tables are
 * tables. Register it with {@code spark.sql.catalog.<name>=io.tessera.jdbc.JdbcCatalog} and {@code
 * spark.sql.catalog.<name>.url}, {@code .user}, {@code .password}. Tables are read with Spark's own
 * JDBC reader and written through Tessera's atomic write path.
 *
 * <p>Names are case-sensitive: Tessera always quotes identifiers.
 */
public class JdbcCatalog implements StagingCatalog, SupportsNamespaces, ProcedureCatalog {
  private String name;
  private Map<String, String> catalogOptions;
  private JdbcDialect dialect;
  private JdbcConnector connector;
  private JdbcStaging staging;

  @Override
  public void initialize(String name, CaseInsensitiveStringMap options) {
    this.name = name;
    this.catalogOptions = Map.copyOf(options.asCaseSensitiveMap());
    ParsedOptions parsed = JdbcWriteOptions.OPTIONS.parse(options);
    this.dialect = JdbcDialects.forUrl(parsed.get(JdbcWriteOptions.URL));
    this.connector = new JdbcConnector(parsed);
    this.staging = new JdbcStaging(this);
  }

  @Override
  public String name() {
    return name;
  }

  JdbcDialect dialect() {
    return dialect;
  }

  JdbcConnector connector() {
    return connector;
  }

  Map<String, String> catalogOptions() {
    return catalogOptions;
  }

  // ---- staging (CTAS / RTAS, see JdbcStaging) -----------------------------------------------

  @Override
  public StagingSpi<?> stagingSpi() {
    return staging;
  }

  @Override
  public String stagedName(Identifier ident) {
    return name + "." + String.join(".", ident.namespace()) + "." + ident.name();
  }

  boolean tableExists(Connection c, String schema, String table) throws SQLException {
    return tableComment(c, schema, table).isPresent();
  }

  // ---- namespaces -------------------------------------------------------------------------

  @Override
  public String[][] listNamespaces() {
    return withConnection(
        c -> schemas(c).stream().map(s -> new String[] {s}).toArray(String[][]::new));
  }

  @Override
  public String[][] listNamespaces(String[] namespace) throws NoSuchNamespaceException {
    if (!namespaceExists(namespace)) {
      throw new NoSuchNamespaceException(namespace);
    }
    return new String[0][];
  }

  @Override
  public boolean namespaceExists(String[] namespace) {
    return namespace.length == 1 && withConnection(c -> schemas(c).contains(namespace[0]));
  }

  @Override
  public Map<String, String> loadNamespaceMetadata(String[] namespace)
      throws NoSuchNamespaceException {
    if (!namespaceExists(namespace)) {
      throw new NoSuchNamespaceException(namespace);
    }
    return Map.of();
  }

  @Override
  public void createNamespace(String[] namespace, Map<String, String> metadata)
      throws NamespaceAlreadyExistsException {
    requireSingle(namespace);
    if (namespaceExists(namespace)) {
      throw new NamespaceAlreadyExistsException(namespace);
    }
    connector.execute(List.of(dialect.createSchema(namespace[0])));
  }

  @Override
  public void alterNamespace(String[] namespace, NamespaceChange... changes) {
    throw new UnsupportedOperationException(
        "tessera-jdbc namespaces have no properties to alter; use the database's own tools");
  }

  @Override
  public boolean dropNamespace(String[] namespace, boolean cascade)
      throws NoSuchNamespaceException, NonEmptyNamespaceException {
    if (!namespaceExists(namespace)) {
      throw new NoSuchNamespaceException(namespace);
    }
    if (!cascade) {
      if (!withConnection(c -> tableNames(c, namespace[0], false).isEmpty())) {
        throw new NonEmptyNamespaceException(namespace);
      }
      // Only Tessera's own tables may remain: drop exactly those, then the schema without
      // CASCADE, so the database still refuses if views, sequences or functions live there.
      List<String> own = new ArrayList<>();
      for (String t : withConnection(c -> tableNames(c, namespace[0], true))) {
        own.add(dialect.dropTableIfExists(dialect.qualified(namespace[0], t)));
      }
      connector.execute(own);
    }
    connector.execute(List.of(dialect.dropSchema(namespace[0], cascade)));
    return true;
  }

  // ---- tables -----------------------------------------------------------------------------

  @Override
  public Identifier[] listTables(String[] namespace) throws NoSuchNamespaceException {
    if (!namespaceExists(namespace)) {
      throw new NoSuchNamespaceException(namespace);
    }
    return withConnection(
        c ->
            tableNames(c, namespace[0], false).stream()
                .map(t -> Identifier.of(namespace, t))
                .toArray(Identifier[]::new));
  }

  @Override
  public Table loadTable(Identifier ident) throws NoSuchTableException {
    if (ident.namespace().length != 1) {
      throw new NoSuchTableException(ident);
    }
    String schema = ident.namespace()[0];
    Optional<JdbcTable> table =
        withConnection(
            c -> {
              Optional<String> comment = tableComment(c, schema, ident.name());
              if (comment.isEmpty()) {
                return Optional.empty();
              }
              String qualified = dialect.qualified(schema, ident.name());
              StructType columns;
              try {
                columns = readSchema(c, qualified, TableProperties.ntzColumns(comment.get()));
              } catch (SQLException e) {
                if (!dialect.isPermissionDenied(e)) {
                  throw e;
                }
                throw new WritePrivileges(
                        dialect,
                        connector,
                        stagedName(ident),
                        WritePrivileges.currentUser(c, dialect))
                    .missing(
                        "SELECT on " + qualified,
                        "to read its columns, as every read and write of it does",
                        dialect.grantOnTable(
                            "SELECT",
                            qualified,
                            dialect.grantee(WritePrivileges.currentUser(c, dialect))));
              }
              return Optional.of(
                  new JdbcTable(
                      stagedName(ident),
                      ident,
                      columns,
                      TableProperties.partitionKeys(comment.get()),
                      catalogOptions,
                      dialect,
                      connector));
            });
    return table.orElseThrow(() -> new NoSuchTableException(ident));
  }

  /**
   * The table a path-less {@code dbtable} names: {@code schema.table} or {@code table} (in the
   * connection's current schema), each part quoted ({@code "Orders"}, {@code `Orders`}: exactly
   * that name) or not. Spark's own JDBC source hands the name to the database unquoted, which folds
   * it (PostgreSQL to lower case, H2 to upper case, MariaDB as configured): an unquoted part means
   * the folded name, as it would for Spark's source, whether the table exists or is to be created.
   */
  Identifier resolveDbtable(String dbtable) {
    List<String> parts = splitDbtable(dbtable);
    if (parts.isEmpty() || parts.size() > 2) {
      throw invalidDbtable(dbtable, "write it as schema.table or table");
    }
    return withConnection(
        c -> {
          DatabaseMetaData md = c.getMetaData();
          String schema;
          if (parts.size() == 1) {
            schema = dialect.schemasAreCatalogs() ? c.getCatalog() : c.getSchema();
            if (schema == null) {
              throw invalidDbtable(dbtable, "the connection has no current schema: name it");
            }
          } else {
            schema = pick(parts.get(0), md);
          }
          String table = pick(parts.get(parts.size() - 1), md);
          return Identifier.of(new String[] {schema}, table);
        });
  }

  /** A quoted part as it stands; an unquoted one folded as the database folds it. */
  private static String pick(String part, DatabaseMetaData md) throws SQLException {
    if (part.startsWith("\u0000")) {
      return part.substring(1); // quoted
    }
    return md.storesLowerCaseIdentifiers()
        ? part.toLowerCase(java.util.Locale.ROOT)
        : md.storesUpperCaseIdentifiers() ? part.toUpperCase(java.util.Locale.ROOT) : part;
  }

  /** The dot-separated parts of a dbtable; a quoted part is returned marked with a leading NUL. */
  private static List<String> splitDbtable(String dbtable) {
    List<String> parts = new ArrayList<>();
    StringBuilder cur = new StringBuilder();
    char quote = 0;
    boolean quoted = false;
    String s = dbtable.trim();
    for (int i = 0; i < s.length(); i++) {
      char ch = s.charAt(i);
      if (quote != 0) {
        if (ch == quote && i + 1 < s.length() && s.charAt(i + 1) == quote) {
          cur.append(ch);
          i++;
        } else if (ch == quote) {
          quote = 0;
        } else {
          cur.append(ch);
        }
      } else if ((ch == '"' || ch == '`') && cur.length() == 0) {
        quote = ch;
        quoted = true;
      } else if (ch == '.') {
        parts.add((quoted ? "\u0000" : "") + cur.toString().trim());
        cur.setLength(0);
        quoted = false;
      } else if (ch == '"' || ch == '`' || ch == ';' || (quoted && !Character.isWhitespace(ch))) {
        throw invalidDbtable(dbtable, "it is not a table name (quote a name as a whole)");
      } else {
        cur.append(ch);
      }
    }
    if (quote != 0) {
      throw invalidDbtable(dbtable, "a quote is not closed");
    }
    parts.add((quoted ? "\u0000" : "") + cur.toString().trim());
    if (parts.stream().anyMatch(p -> p.isEmpty() || p.equals("\u0000"))) {
      throw invalidDbtable(dbtable, "a part of the name is empty");
    }
    return parts;
  }

  private static TesseraException invalidDbtable(String dbtable, String why) {
    return new TesseraException(
        TesseraError.INVALID_OPTION_VALUE, "Option 'dbtable' has value '" + dbtable + "': " + why);
  }

  /** Creates a table for a path-less write, with {@code createTableOptions} after the columns. */
  void createForWrite(Identifier ident, StructType schema, String createTableOptions) {
    String qualified = dialect.qualified(ident.namespace()[0], ident.name());
    List<String> ddl = new ArrayList<>();
    String create = dialect.createTable(qualified, schema);
    ddl.add(
        createTableOptions == null || createTableOptions.isBlank()
            ? create
            : create + " " + createTableOptions);
    String comment = tableComment(dialect, schema, List.of());
    if (comment != null) {
      ddl.add(dialect.setTableComment(qualified, comment));
    }
    connector.execute(ddl);
  }

  @Override
  public Table createTable(Identifier ident, TableInfo info)
      throws TableAlreadyExistsException, NoSuchNamespaceException {
    requireSingle(ident.namespace());
    if (!namespaceExists(ident.namespace())) {
      throw new NoSuchNamespaceException(ident.namespace());
    }
    if (tableExists(ident)) {
      throw new TableAlreadyExistsException(ident);
    }
    StructType schema = info.schema();
    List<String> keys = partitionKeys(info.partitions(), schema);
    String qualified = dialect.qualified(ident.namespace()[0], ident.name());
    List<String> ddl = new ArrayList<>();
    ddl.add(dialect.createTable(qualified, schema)); // validates every column type first
    String comment = tableComment(dialect, schema, keys);
    if (comment != null) {
      ddl.add(dialect.setTableComment(qualified, comment));
    }
    connector.execute(ddl);
    try {
      return loadTable(ident);
    } catch (NoSuchTableException e) {
      throw new IllegalStateException("Table " + ident + " vanished right after creation", e);
    }
  }

  /**
   * The Tessera properties of a new table, or null when it needs none: its partition keys, and
   * where TIMESTAMP and TIMESTAMP_NTZ share one column type, which columns are NTZ.
   */
  static String tableComment(JdbcDialect dialect, StructType schema, List<String> keys) {
    List<String> ntz =
        dialect.hasTimestampWithoutZoneType()
            ? List.of()
            : Arrays.stream(schema.fields())
                .filter(
                    f -> f.dataType().equals(org.apache.spark.sql.types.DataTypes.TimestampNTZType))
                .map(org.apache.spark.sql.types.StructField::name)
                .toList();
    return keys.isEmpty() && ntz.isEmpty() ? null : TableProperties.toComment(keys, ntz);
  }

  static List<String> partitionKeys(Transform[] partitions, StructType schema) {
    List<String> keys = new ArrayList<>();
    for (Transform t : partitions) {
      if (!(t instanceof IdentityTransform id) || id.ref().fieldNames().length != 1) {
        throw new TesseraException(
            TesseraError.UNSUPPORTED_WRITE_MODE,
            "tessera-jdbc tables can be partitioned by plain columns only, not by "
                + t.describe()
                + "; use PARTITIONED BY (column, ...)");
      }
      String col = id.ref().fieldNames()[0];
      if (!Arrays.asList(schema.fieldNames()).contains(col)) {
        throw new TesseraException(
            TesseraError.SCHEMA_MISMATCH,
            "Partition column '" + col + "' is not a column of the table");
      }
      keys.add(col);
    }
    return keys;
  }

  @Override
  public Table alterTable(Identifier ident, TableChange... changes) {
    throw new UnsupportedOperationException(
        "tessera-jdbc does not alter tables; run ALTER TABLE in the database itself");
  }

  @Override
  public boolean dropTable(Identifier ident) {
    if (!tableExists(ident)) {
      return false;
    }
    connector.execute(
        List.of(dialect.dropTableIfExists(dialect.qualified(ident.namespace()[0], ident.name()))));
    return true;
  }

  @Override
  public void renameTable(Identifier from, Identifier to)
      throws NoSuchTableException, TableAlreadyExistsException {
    if (!tableExists(from)) {
      throw new NoSuchTableException(from);
    }
    if (tableExists(to)) {
      throw new TableAlreadyExistsException(to);
    }
    requireSingle(to.namespace());
    if (!dialect.schemasAreCatalogs() && !to.namespace()[0].equals(from.namespace()[0])) {
      throw new UnsupportedOperationException(
          "tessera-jdbc on " + dialect.name() + " renames tables within one schema only");
    }
    connector.execute(
        List.of(
            dialect.renameTable(from.namespace()[0], from.name(), to.namespace()[0], to.name())));
  }

  // ---- procedures -------------------------------------------------------------------------

  @Override
  public UnboundProcedure loadProcedure(Identifier ident) {
    return CleanupProcedure.load(ident, "tessera-jdbc", () -> new CleanupStagingProcedure(this));
  }

  @Override
  public Identifier[] listProcedures(String[] namespace) {
    return CleanupProcedure.list(namespace);
  }

  /** Tessera staging tables in {@code schema}, whatever their age. */
  List<String> stagingTables(String schema) {
    return withConnection(
        c ->
            tableNames(c, schema, true).stream()
                .filter(t -> t.startsWith(JdbcDialect.STAGING_PREFIX))
                .toList());
  }

  /**
   * Completes the two-phase writes of the catalog's user into {@code schema}: commits decided
   * prepared transactions, rolls back undecided ones of writes started before {@code before}.
   */
  List<String> completeTwoPhase(String schema, long before) {
    if (dialect().preparedTransactions() == null) {
      return List.of();
    }
    String ledgerName =
        withConnection(c -> JdbcDialect.ledgerTableName(WritePrivileges.currentUser(c, dialect())));
    if (!withConnection(c -> tableNames(c, schema, true)).contains(ledgerName)) {
      return List.of(); // this user never wrote into the schema
    }
    return new TwoPhaseCommit(
            connector(), dialect(), dialect().qualified(schema, ledgerName), schema)
        .recover(before);
  }

  // ---- metadata helpers -------------------------------------------------------------------

  static void requireSingle(String[] namespace) {
    if (namespace.length != 1) {
      throw new TesseraException(
          TesseraError.INVALID_IDENTIFIER,
          "tessera-jdbc namespaces have exactly one part (the schema), got "
              + String.join(".", namespace));
    }
  }

  private List<String> schemas(Connection c) throws SQLException {
    List<String> out = new ArrayList<>();
    DatabaseMetaData md = c.getMetaData();
    try (ResultSet rs = dialect.schemasAreCatalogs() ? md.getCatalogs() : md.getSchemas()) {
      while (rs.next()) {
        out.add(rs.getString(dialect.schemasAreCatalogs() ? "TABLE_CAT" : "TABLE_SCHEM"));
      }
    }
    return out;
  }

  /**
   * Tables of {@code schema}; Tessera's own (staging tables, the lock table) only when {@code
   * includeStaging}.
   */
  private List<String> tableNames(Connection c, String schema, boolean includeStaging)
      throws SQLException {
    List<String> out = new ArrayList<>();
    try (ResultSet rs = tables(c, schema, null)) {
      while (rs.next()) {
        String t = rs.getString("TABLE_NAME");
        boolean internal =
            JdbcDialect.isStagingTableName(t)
                || t.equals(JdbcDialect.LOCK_TABLE)
                || JdbcDialect.isLedgerTableName(t);
        if (includeStaging || !internal) {
          out.add(t);
        }
      }
    }
    return out;
  }

  /** The comment of the table, "" when it has none; empty when the table does not exist. */
  private Optional<String> tableComment(Connection c, String schema, String table)
      throws SQLException {
    try (ResultSet rs = tables(c, schema, table)) {
      while (rs.next()) {
        if (rs.getString("TABLE_NAME").equals(table)) {
          String remarks = rs.getString("REMARKS");
          return Optional.of(remarks == null ? "" : remarks);
        }
      }
    }
    return Optional.empty();
  }

  private ResultSet tables(Connection c, String schema, String table) throws SQLException {
    DatabaseMetaData md = c.getMetaData();
    String esc = md.getSearchStringEscape();
    String schemaPattern = escapePattern(schema, esc);
    String tablePattern = table == null ? "%" : escapePattern(table, esc);
    // PostgreSQL reports partitioned tables as their own type.
    String[] types = {"TABLE", "BASE TABLE", "PARTITIONED TABLE"};
    return dialect.schemasAreCatalogs()
        ? md.getTables(schema, null, tablePattern, types)
        : md.getTables(null, schemaPattern, tablePattern, types);
  }

  private static String escapePattern(String name, String escape) {
    if (escape == null || escape.isEmpty()) {
      return name;
    }
    return name.replace(escape, escape + escape)
        .replace("_", escape + "_")
        .replace("%", escape + "%");
  }

  /**
   * The table's schema as Spark's JDBC reader sees it, with the database's nullability. A timestamp
   * type without a zone is TIMESTAMP_NTZ (a wall-clock time that never moves); on a database with
   * one type for both, the columns recorded as NTZ in the table comment are.
   */
  private StructType readSchema(Connection c, String qualified, List<String> ntzColumns)
      throws SQLException {
    StructType schema;
    try (Statement st = c.createStatement();
        ResultSet rs = st.executeQuery("SELECT * FROM " + qualified + " WHERE 1=0")) {
      schema =
          JdbcUtils.getSchema(
              c,
              rs,
              org.apache.spark.sql.jdbc.JdbcDialects.get(dialect.sparkReaderUrl(connector.url())),
              false,
              dialect.hasTimestampWithoutZoneType());
    }
    if (ntzColumns.isEmpty()) {
      return schema;
    }
    return new StructType(
        Arrays.stream(schema.fields())
            .map(
                f ->
                    ntzColumns.contains(f.name())
                            && f.dataType()
                                .equals(org.apache.spark.sql.types.DataTypes.TimestampType)
                        ? new org.apache.spark.sql.types.StructField(
                            f.name(),
                            org.apache.spark.sql.types.DataTypes.TimestampNTZType,
                            f.nullable(),
                            f.metadata())
                        : f)
            .toArray(org.apache.spark.sql.types.StructField[]::new));
  }

  @FunctionalInterface
  private interface SqlFunction<T> {
    T apply(Connection c) throws SQLException;
  }

  private <T> T withConnection(SqlFunction<T> f) {
    try (Connection c = connector.open()) {
      return f.apply(c);
    } catch (SQLException e) {
      throw connector.sqlFailed("Reading catalog metadata failed", "", e);
    }
  }
}
