package io.tessera.jdbc.dialect;

import java.util.List;
import org.apache.spark.sql.types.StructType;

/**
 * MariaDB and MySQL: identifiers quoted with backticks, a schema is a database, DDL commits
 * implicitly (so the commit transaction uses only DML: DELETE, never TRUNCATE), InnoDB transactions
 * make the publish atomic.
 */
public class MariaDbDialect extends JdbcDialect {
  private static final long serialVersionUID = 1L;

  @Override
  public String name() {
    return "MariaDB";
  }

  @Override
  public String driverClass() {
    return "org.mariadb.jdbc.Driver";
  }

  @Override
  public boolean acceptsUrl(String url) {
    return url.startsWith("jdbc:mariadb:") || url.startsWith("jdbc:mysql:");
  }

  /**
   * Spark's reader has a MySQL dialect but none for {@code jdbc:mariadb:} URLs (it would quote
   * names with double quotes, which MariaDB reads as strings). MariaDB Connector/J accepts the
   * {@code jdbc:mysql:} scheme with {@code permitMysqlScheme}, so the reader gets that URL and
   * Spark's MySQL dialect on the driver and every executor, with no registration needed.
   */
  @Override
  public String sparkReaderUrl(String url) {
    if (!url.startsWith("jdbc:mariadb:")) {
      return url;
    }
    String mysql = "jdbc:mysql:" + url.substring("jdbc:mariadb:".length());
    return mysql + (mysql.contains("?") ? "&" : "?") + "permitMysqlScheme";
  }

  @Override
  public boolean schemasAreCatalogs() {
    return true;
  }

  @Override
  protected char quoteChar() {
    return '`';
  }

  @Override
  public String stringLiteral(String value) {
    return "'" + value.replace("\\", "\\\\").replace("'", "''") + "'";
  }

  @Override
  protected String columnTypeOrNull(org.apache.spark.sql.types.DataType type) {
    if (type.equals(org.apache.spark.sql.types.DataTypes.ByteType)) {
      return "TINYINT";
    } else if (type.equals(org.apache.spark.sql.types.DataTypes.FloatType)) {
      return "FLOAT";
    } else if (type.equals(org.apache.spark.sql.types.DataTypes.DoubleType)) {
      return "DOUBLE";
    }
    return super.columnTypeOrNull(type);
  }

  @Override
  protected String stringType() {
    return "LONGTEXT";
  }

  /**
   * Longer VARCHARs count against InnoDB's 65,535-byte row limit (4 bytes a character in utf8mb4)
   * and several of them would not fit in one table: they become LONGTEXT.
   */
  @Override
  protected int maxVarcharLength() {
    return 255;
  }

  /** MariaDB's {@code CHAR(n)} stops at 255. */
  @Override
  protected int maxCharLength() {
    return 255;
  }

  @Override
  protected String binaryType() {
    return "LONGBLOB";
  }

  @Override
  protected String timestampType() {
    return "DATETIME(6)";
  }

  @Override
  protected String timestampNtzType() {
    return "DATETIME(6)";
  }

  @Override
  public String setTableComment(String qualifiedTable, String comment) {
    return "ALTER TABLE " + qualifiedTable + " COMMENT = " + stringLiteral(comment);
  }

  /**
   * Loader sessions run with STRICT_ALL_TABLES: under MariaDB's default STRICT_TRANS_TABLES a bad
   * value in the second or later row of a multi-row INSERT into a non-transactional (Aria staging)
   * table is adjusted with a warning instead of failing, and would be published adjusted.
   */
  @Override
  public io.tessera.jdbc.dialect.BulkLoader newLoader(
      java.sql.Connection connection,
      String qualifiedTable,
      org.apache.spark.sql.types.StructType schema,
      Long attempt,
      int batchSize)
      throws java.sql.SQLException {
    try (java.sql.Statement st = connection.createStatement()) {
      st.execute("SET SESSION sql_mode = CONCAT(@@sql_mode, ',STRICT_ALL_TABLES')");
    }
    return super.newLoader(connection, qualifiedTable, schema, attempt, batchSize);
  }

  /**
   * The staging table is Aria without transactions on MariaDB ({@code /*M! ...}{@code *}{@code /}
   * is read by MariaDB only; MySQL keeps its default engine): loading it costs about half of
   * InnoDB's (1,000,000 rows from 2 tasks: atomic write 6.9 s to 4.4 s). Nothing relies on its
   * transactions: a failed attempt's rows stay but carry an attempt id the publish never selects,
   * the publish counts the committed attempts' rows (a server crash that damages the table fails
   * the publish; the target is untouched), and only the publish into the target is transactional.
   *
   * <p>The server's default engine is used instead where Aria cannot serve: on a Galera cluster
   * ({@code wsrep_on}), which replicates InnoDB rows only, so tasks and the publish reaching
   * different nodes would not see each other's staged rows; where InnoDB tables are encrypted and
   * Aria tables are not ({@code innodb_encrypt_tables} on, {@code aria_encrypt_tables} off); for a
   * target created with {@code ENCRYPTED=YES}, whose staging table is then created so too; and
   * wherever the server refuses Aria (an {@code enforce_storage_engine} with
   * NO_ENGINE_SUBSTITUTION, or Aria not installed), tried second.
   */
  @Override
  public boolean choosesStagingByServer() {
    return true;
  }

  @Override
  public List<List<String>> createStagingTableChoices(
      java.sql.Connection c,
      String schema,
      String table,
      String qualifiedStaging,
      String qualifiedTarget) {
    boolean encryptedTarget = encryptedTable(c, schema, table);
    List<String> plain =
        List.of(
            "CREATE TABLE "
                + qualifiedStaging
                + (encryptedTarget ? " ENCRYPTED=YES" : "")
                + " AS "
                + nullableCopy(qualifiedTarget),
            addAttemptColumn(qualifiedStaging));
    if (encryptedTarget || ariaUnsuitable(c)) {
      return List.of(plain);
    }
    return List.of(createStagingTable(qualifiedStaging, qualifiedTarget), plain);
  }

  private static final java.util.regex.Pattern ENCRYPTED_YES =
      java.util.regex.Pattern.compile("(?i)`?ENCRYPTED`?\\s*=\\s*'?YES");

  /** Whether the target is an InnoDB table created with {@code ENCRYPTED=YES}. */
  private static boolean encryptedTable(java.sql.Connection c, String schema, String table) {
    try (java.sql.PreparedStatement ps =
        c.prepareStatement(
            "SELECT CREATE_OPTIONS FROM information_schema.TABLES"
                + " WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ?")) {
      ps.setString(1, schema);
      ps.setString(2, table);
      try (java.sql.ResultSet rs = ps.executeQuery()) {
        return rs.next()
            && rs.getString(1) != null
            && ENCRYPTED_YES.matcher(rs.getString(1)).find();
      }
    } catch (java.sql.SQLException e) {
      return false; // the staging CREATE that follows reports a missing table itself
    }
  }

  private static boolean galera(java.sql.Connection c) {
    try (java.sql.Statement st = c.createStatement();
        java.sql.ResultSet rs = st.executeQuery("SELECT @@wsrep_on")) {
      return rs.next() && rs.getBoolean(1);
    } catch (java.sql.SQLException noSuchVariable) {
      return false; // MySQL, or MariaDB built without Galera
    }
  }

  /**
   * On a Galera cluster the publish (and the lookup of a lost COMMIT) may run on another node than
   * the tasks' loads (or the lost COMMIT), whose changes that node applies a little later: make its
   * reads, deletes and inserts wait until it has (wsrep_sync_wait READ, UPDATE/DELETE and
   * INSERT/REPLACE). Without it the row count check could fail a write spuriously, and a lookup
   * could miss a committed write's ledger row and report it rolled back.
   */
  @Override
  public void preparePublishSession(java.sql.Connection c) throws java.sql.SQLException {
    try (java.sql.Statement st = c.createStatement()) {
      // As in the loaders: a NULL or out-of-range value fails instead of becoming 0 or ''
      // (staging tables are nullable copies, so the target's NOT NULL is checked here).
      st.execute("SET SESSION sql_mode = CONCAT(@@sql_mode, ',STRICT_ALL_TABLES')");
    }
    if (galera(c)) {
      try (java.sql.Statement st = c.createStatement()) {
        st.execute("SET SESSION wsrep_sync_wait = 7");
      }
    }
  }

  /**
   * Galera replicates InnoDB rows only; and where InnoDB tables are encrypted but Aria tables are
   * not, staged rows must not sit on disk in the clear.
   */
  private static boolean ariaUnsuitable(java.sql.Connection c) {
    boolean galera = galera(c);
    boolean encryptionGap = false;
    try (java.sql.Statement st = c.createStatement();
        java.sql.ResultSet rs =
            st.executeQuery("SELECT @@innodb_encrypt_tables, @@aria_encrypt_tables")) {
      encryptionGap = rs.next() && !"OFF".equalsIgnoreCase(rs.getString(1)) && !rs.getBoolean(2);
    } catch (java.sql.SQLException noSuchVariable) {
      // not MariaDB
    }
    return galera || encryptionGap;
  }

  /**
   * The target's columns with their types but no rows, every column nullable: a CREATE TABLE ... AS
   * SELECT keeps NOT NULL, except for the outer side of an outer join. (A row-level operation
   * stages a delete as the row's key alone.)
   */
  private static String nullableCopy(String qualifiedTarget) {
    return "SELECT t.* FROM (SELECT 1 AS x) d LEFT JOIN " + qualifiedTarget + " t ON 1=0 WHERE 1=0";
  }

  @Override
  public List<String> createStagingTable(String qualifiedStaging, String qualifiedTarget) {
    return List.of(
        "CREATE TABLE "
            + qualifiedStaging
            + " /*M! ENGINE=Aria TRANSACTIONAL=0 */ AS "
            + nullableCopy(qualifiedTarget),
        addAttemptColumn(qualifiedStaging));
  }

  /**
   * An MD5 of the row's values, each through {@code QUOTE} (which marks NULL apart from any text
   * and escapes quotes), so two rows that differ in any value have different versions.
   */
  @Override
  public String rowVersion(String alias, StructType schema) {
    StringBuilder sb = new StringBuilder("MD5(CONCAT_WS(','");
    for (org.apache.spark.sql.types.StructField f : schema.fields()) {
      String column = alias + "." + quote(f.name());
      // QUOTE prints a FLOAT with 6 significant digits; as a DOUBLE (exact) with enough.
      sb.append(", QUOTE(")
          .append(
              f.dataType() instanceof org.apache.spark.sql.types.FloatType
                  ? "CAST(" + column + " AS DOUBLE)"
                  : column)
          .append(')');
    }
    return sb.append("))").toString();
  }

  @Override
  public String deleteMatching(String qualifiedTarget, String select, String on) {
    return "DELETE t FROM " + qualifiedTarget + " t JOIN (" + select + ") s ON " + on;
  }

  @Override
  public String updateMatching(
      String qualifiedTarget, String select, String on, List<String> columns) {
    return "UPDATE "
        + qualifiedTarget
        + " t JOIN ("
        + select
        + ") s ON "
        + on
        + " SET "
        + columns.stream()
            .map(c -> "t." + quote(c) + " = s." + quote(c))
            .collect(java.util.stream.Collectors.joining(", "));
  }

  @Override
  public String renameTable(String schema, String from, String toSchema, String to) {
    return "RENAME TABLE " + qualified(schema, from) + " TO " + qualified(toSchema, to);
  }

  /**
   * DROP TABLE waits for metadata locks; {@code lock_wait_timeout} bounds that (default a year).
   */
  @Override
  public String shortLockTimeout(int seconds) {
    return "SET SESSION lock_wait_timeout = " + seconds;
  }

  /**
   * InnoDB's default REPEATABLE READ makes {@code INSERT ... SELECT} lock the rows it reads, so a
   * speculative attempt still loading the staging table could make the publish wait; under READ
   * COMMITTED the publish reads the committed attempts' rows without locking them.
   */
  @Override
  public Integer publishIsolation() {
    return java.sql.Connection.TRANSACTION_READ_COMMITTED;
  }

  /** MariaDB's multi-table {@code RENAME TABLE} is atomic: readers see the old or the new table. */
  @Override
  public TableSwap tableSwap() {
    return TableSwap.ATOMIC_RENAME;
  }

  @Override
  public List<String> swapTables(String schema, String target, String hidden, String aside) {
    return List.of(
        "RENAME TABLE "
            + qualified(schema, target)
            + " TO "
            + qualified(schema, aside)
            + ", "
            + qualified(schema, hidden)
            + " TO "
            + qualified(schema, target));
  }

  @Override
  public String createSchema(String schema) {
    return "CREATE DATABASE " + quote(schema);
  }

  @Override
  public String dropSchema(String schema, boolean cascade) {
    // A MariaDB database is always dropped with its tables; the catalog checks emptiness first.
    return "DROP DATABASE " + quote(schema);
  }

  /**
   * MariaDB's default collations ignore case, accents and trailing spaces ({@code 'O''Brien' =
   * 'o''brien'}), and even {@code utf8mb4_bin} pads spaces. Comparing the UTF-8 bytes as a binary
   * string is exact and orders as Spark does, whatever the column's character set.
   */
  @Override
  public String sparkComparableString(String sqlExpr) {
    return "CAST(CONVERT(" + sqlExpr + " USING utf8mb4) AS BINARY)";
  }

  /** MariaDB strips a CHAR column's padding when it reads it: pad it back as Spark compares. */
  @Override
  public String sparkComparableChar(String sqlExpr, int length) {
    return sparkComparableString("RPAD(" + sqlExpr + ", " + length + ", ' ')");
  }

  /**
   * MyISAM, Aria, MEMORY, CSV... apply a DELETE or INSERT at once and cannot roll it back, so a
   * failed publish would leave half of it behind.
   */
  @Override
  public String nonTransactionalReason(java.sql.Connection c, String schema, String table)
      throws java.sql.SQLException {
    try (java.sql.PreparedStatement ps =
        c.prepareStatement(
            "SELECT t.ENGINE, e.TRANSACTIONS FROM information_schema.TABLES t"
                + " JOIN information_schema.ENGINES e ON e.ENGINE = t.ENGINE"
                + " WHERE t.TABLE_SCHEMA = ? AND t.TABLE_NAME = ?")) {
      ps.setString(1, schema);
      ps.setString(2, table);
      try (java.sql.ResultSet rs = ps.executeQuery()) {
        if (rs.next() && !"YES".equalsIgnoreCase(rs.getString(2))) {
          return "its storage engine " + rs.getString(1) + " has no transactions";
        }
      }
    }
    return null;
  }

  /** DATETIME holds both Spark TIMESTAMP and TIMESTAMP_NTZ; NTZ columns are recorded. */
  @Override
  public boolean hasTimestampWithoutZoneType() {
    return false;
  }

  /**
   * An instant goes into DATETIME as the wall-clock time of the executor JVM's zone, which is how
   * Spark's JDBC reader (and Spark's own writer) read and write MariaDB DATETIME values. DATETIME
   * stops at 9999-12-31: later values are refused, naming column and value.
   */
  @Override
  public Object instantParameter(String column, java.time.Instant instant) {
    return checkedDatetime(
        column, java.time.LocalDateTime.ofInstant(instant, java.time.ZoneId.systemDefault()));
  }

  private static java.time.LocalDateTime checkedDatetime(
      String column, java.time.LocalDateTime value) {
    if (value.getYear() > 9999) {
      throw new io.tessera.common.errors.TesseraException(
          io.tessera.common.errors.TesseraError.UNSUPPORTED_TYPE,
          "Column '"
              + column
              + "' has the value "
              + value
              + ", after 9999-12-31, which MariaDB DATETIME cannot store; filter or cap such"
              + " values before writing");
    }
    return value;
  }

  /**
   * MariaDB's FLOAT/DOUBLE cannot hold NaN or infinities, nor DATETIME years after 9999: say so,
   * naming the column and value.
   */
  @Override
  public ValueBinder.Setter setter(String column, org.apache.spark.sql.types.DataType type) {
    if (type.equals(org.apache.spark.sql.types.DataTypes.TimestampNTZType)) {
      return ValueBinder.nullAware(
          type,
          (ps, i, row, ord) ->
              ps.setObject(
                  i,
                  checkedDatetime(
                      column,
                      org.apache.spark.sql.catalyst.util.DateTimeUtils.microsToLocalDateTime(
                          row.getLong(ord)))));
    }
    ValueBinder.Setter plain = super.setter(column, type);
    boolean isDouble = type.equals(org.apache.spark.sql.types.DataTypes.DoubleType);
    if (!isDouble && !type.equals(org.apache.spark.sql.types.DataTypes.FloatType)) {
      return plain;
    }
    return (ps, i, row, ord) -> {
      if (!row.isNullAt(ord)) {
        double v = isDouble ? row.getDouble(ord) : row.getFloat(ord);
        if (Double.isNaN(v) || Double.isInfinite(v)) {
          throw new io.tessera.common.errors.TesseraException(
              io.tessera.common.errors.TesseraError.UNSUPPORTED_TYPE,
              "Column '"
                  + column
                  + "' has the value "
                  + v
                  + ", which MariaDB cannot store in a FLOAT or DOUBLE column; map it to NULL"
                  + " before writing, e.g. CASE WHEN isnan("
                  + column
                  + ") OR abs("
                  + column
                  + ") = double('infinity') THEN NULL ELSE "
                  + column
                  + " END");
        }
      }
      plain.set(ps, i, row, ord);
    };
  }

  /** The target drives the join, each row probing the small derived table of keys. */
  @Override
  public String deleteJoining(String qualifiedTarget, String select, String on) {
    return "DELETE t FROM " + qualifiedTarget + " t STRAIGHT_JOIN (" + select + ") d ON " + on;
  }

  /** The ledger and the lock table must roll back with the publish: always InnoDB. */
  @Override
  public String prepareLedgerTable(String qualifiedLedger) {
    return super.prepareLedgerTable(qualifiedLedger) + " ENGINE=InnoDB";
  }

  /** The account ({@code user@host} pattern) whose privileges apply, as GRANT names it. */
  @Override
  public String currentUserQuery() {
    return "SELECT CURRENT_USER()";
  }

  /**
   * Table access denied (1142), column access denied (1143), database access denied (1044), command
   * denied (1227, 1045 never: that is a failed login).
   */
  @Override
  protected boolean permissionDenied(java.sql.SQLException e) {
    int code = e.getErrorCode();
    return code == 1142 || code == 1143 || code == 1044 || code == 1227;
  }

  @Override
  public String grantee(String databaseUser) {
    int at = databaseUser.lastIndexOf('@');
    String user = at < 0 ? databaseUser : databaseUser.substring(0, at);
    String host = at < 0 ? "%" : databaseUser.substring(at + 1);
    return stringLiteral(user) + "@" + stringLiteral(host);
  }

  /** A database's tables: new staging tables need the privileges on the whole database. */
  @Override
  public String grantCreateIn(String schema, String grantee) {
    return "GRANT CREATE, ALTER, DROP, SELECT, INSERT, UPDATE, DELETE ON "
        + quote(schema)
        + ".* TO "
        + grantee;
  }

  @Override
  public String createPrivilegeName(String schema) {
    return "CREATE on database " + quote(schema);
  }

  @Override
  public List<String> prepareLockTable(String schema) {
    return super.prepareLockTable(schema).stream().map(s -> s + " ENGINE=InnoDB").toList();
  }

  /** MariaDB 10.x has no semi-join for single-table DELETE: 1,000,000 rows took minutes. */
  @Override
  public boolean listsOverwrittenKeys() {
    return true;
  }

  @Override
  public String nullSafeEquals(String a, String b) {
    return a + " <=> " + b;
  }

  /**
   * {@code INSERT ... SELECT ... ON DUPLICATE KEY UPDATE}. It matches on ANY unique key of the
   * table, so the write is refused where the table has one besides the upsert keys ({@link
   * #otherUniqueKeysProblem}), and by the key's collation, so keys Spark holds different are looked
   * for first.
   */
  @Override
  public String upsert(
      String qualifiedTarget, List<String> columns, List<String> keys, String select) {
    List<String> others = columns.stream().filter(c -> !keys.contains(c)).toList();
    List<String> updated = others.isEmpty() ? List.of(keys.get(0)) : others;
    return "INSERT INTO "
        + qualifiedTarget
        + " ("
        + columns.stream().map(this::quote).collect(java.util.stream.Collectors.joining(", "))
        + ") "
        + select
        + " ON DUPLICATE KEY UPDATE "
        + updated.stream()
            .map(c -> quote(c) + " = VALUES(" + quote(c) + ")")
            .collect(java.util.stream.Collectors.joining(", "));
  }

  @Override
  public boolean upsertNeedsUniqueKey() {
    return true;
  }

  /** ON DUPLICATE KEY UPDATE counts 1 per insert, 2 per changed row, 0 per unchanged one. */
  @Override
  public boolean upsertCountsSourceRows(List<String> columns, List<String> keys) {
    return false;
  }

  @Override
  public String otherUniqueKeysProblem(List<String> keys, List<List<String>> uniqueKeys) {
    List<String> others =
        uniqueKeys.stream()
            .filter(u -> !new java.util.HashSet<>(u).equals(new java.util.HashSet<>(keys)))
            .map(u -> "(" + String.join(", ", u) + ")")
            .toList();
    return others.isEmpty()
        ? null
        : "MariaDB's ON DUPLICATE KEY UPDATE would also match rows by its other unique key(s) "
            + String.join(", ", others)
            + " and update them in place of inserting";
  }

  @Override
  public PreparedTransactions preparedTransactions() {
    return new PreparedTransactions.MariaDb();
  }
}
