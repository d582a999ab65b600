package io.tessera.jdbc.dialect;

import java.sql.Connection;
import java.sql.SQLException;
import java.util.List;
import java.util.stream.Collectors;
import org.apache.spark.sql.types.DataType;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;

/**
 * PostgreSQL: DDL is transactional; rows are loaded with COPY through pgjdbc's {@code CopyManager},
 * into UNLOGGED staging tables (the staged copy never needs crash safety: a crashed write is simply
 * not published, and the publish checks the row count). Replacing rows uses DELETE, not TRUNCATE:
 * TRUNCATE is not MVCC-safe (a snapshot taken before it would see an empty table) and would lock
 * out readers for the whole publish.
 */
public class PostgresDialect extends JdbcDialect {
  private static final long serialVersionUID = 1L;

  @Override
  public String name() {
    return "PostgreSQL";
  }

  @Override
  public String driverClass() {
    return "org.postgresql.Driver";
  }

  @Override
  public boolean acceptsUrl(String url) {
    return url.startsWith("jdbc:postgresql:");
  }

  @Override
  protected String stringType() {
    return "TEXT";
  }

  /** PostgreSQL's limit for both {@code varchar(n)} and {@code char(n)}. */
  @Override
  protected int maxVarcharLength() {
    return 10_485_760;
  }

  @Override
  protected int maxCharLength() {
    return 10_485_760;
  }

  @Override
  protected String binaryType() {
    return "BYTEA";
  }

  @Override
  protected String timestampType() {
    return "TIMESTAMP WITH TIME ZONE";
  }

  /**
   * PostgreSQL keeps a row's version itself: {@code xmin}, the transaction that wrote the row
   * version, changes with every UPDATE and is a column any scan can read.
   */
  @Override
  public String rowVersionColumn() {
    return "xmin";
  }

  @Override
  public DataType rowVersionType() {
    return DataTypes.LongType;
  }

  @Override
  public String rowVersion(String alias, StructType schema) {
    return alias + ".xmin::text::bigint";
  }

  @Override
  public String rowVersionSource(String qualifiedTarget, StructType schema) {
    return qualifiedTarget;
  }

  @Override
  public String deleteMatching(String qualifiedTarget, String select, String on) {
    return "DELETE FROM " + qualifiedTarget + " t USING (" + select + ") s WHERE " + on;
  }

  @Override
  public String updateMatching(
      String qualifiedTarget, String select, String on, List<String> columns) {
    return "UPDATE "
        + qualifiedTarget
        + " t SET "
        + columns.stream().map(c -> quote(c) + " = s." + quote(c)).collect(Collectors.joining(", "))
        + " FROM ("
        + select
        + ") s WHERE "
        + on;
  }

  @Override
  public List<String> createStagingTable(String qualifiedStaging, String qualifiedTarget) {
    return List.of(
        "CREATE UNLOGGED TABLE "
            + qualifiedStaging
            + " AS SELECT * FROM "
            + qualifiedTarget
            + " WITH NO DATA",
        addAttemptColumn(qualifiedStaging));
  }

  /**
   * The "C" collation orders by bytes (UTF-8 here), as Spark does; the database's locale would
   * order {@code 'a' > 'Z'} as false and accents beside their letters.
   */
  @Override
  public String sparkComparableString(String sqlExpr) {
    return "(" + sqlExpr + ") COLLATE \"C\"";
  }

  /**
   * A write that replaces rows takes SHARE ROW EXCLUSIVE, which conflicts with itself and with
   * every writer, never with readers. An append takes ROW EXCLUSIVE (what its INSERT takes anyway):
   * it waits for a replacing write and makes one wait, but runs beside other appends, and needs
   * only the INSERT privilege (PostgreSQL allows the stronger mode only with UPDATE, DELETE or
   * TRUNCATE).
   */
  @Override
  public boolean locksTableItself() {
    return true;
  }

  @Override
  public String lockTarget(String schema, String qualifiedTarget, boolean replacesRows) {
    return "LOCK TABLE "
        + qualifiedTarget
        + (replacesRows ? " IN SHARE ROW EXCLUSIVE MODE" : " IN ROW EXCLUSIVE MODE");
  }

  /**
   * The lost transaction inserted into this user's ledger, which holds ROW EXCLUSIVE on it until it
   * ends; SHARE waits for that. The user owns its ledger, so it may take any lock on it, whatever
   * its privileges on the target.
   */
  @Override
  public String lockForLookup(String schema, String qualifiedTarget, String qualifiedLedger) {
    return "LOCK TABLE " + qualifiedLedger + " IN SHARE MODE";
  }

  /** Asks the catalog instead of running a statement, which would wait behind a publish's lock. */
  @Override
  public String privilegeProbe(String privilege, String qualifiedTable, String column) {
    return "SELECT has_table_privilege("
        + stringLiteral(qualifiedTable)
        + ", "
        + stringLiteral(privilege)
        + ")";
  }

  /** Only a table's owner (or a member of the owning role) may drop or rename it. */
  @Override
  public String ownershipProbe(String qualifiedTable) {
    return "SELECT pg_has_role(c.relowner, 'USAGE'), pg_get_userbyid(c.relowner) FROM pg_class c"
        + " WHERE c.oid = "
        + stringLiteral(qualifiedTable)
        + "::regclass";
  }

  /**
   * Run by the owner: makes the user the table's owner. (Granting the owning role would work too,
   * but would hand over everything that role may do, a superuser's rights included.)
   */
  @Override
  public String grantOwnership(String owner, String qualifiedTable, String grantee) {
    return "ALTER TABLE " + qualifiedTable + " OWNER TO " + grantee + " (as " + quote(owner) + ")";
  }

  @Override
  public String currentUserQuery() {
    return "SELECT current_user";
  }

  @Override
  public String shortLockTimeout(int seconds) {
    return "SET lock_timeout = '" + seconds + "s'";
  }

  @Override
  public TableSwap tableSwap() {
    return TableSwap.TRANSACTIONAL_DDL;
  }

  @Override
  public String dropSchema(String schema, boolean cascade) {
    return "DROP SCHEMA " + quote(schema) + (cascade ? " CASCADE" : " RESTRICT");
  }

  @Override
  public BulkLoader newLoader(
      Connection connection, String qualifiedTable, StructType schema, Long attempt, int batchSize)
      throws SQLException {
    return new PgCopyLoader(this, connection, qualifiedTable, schema, attempt);
  }

  /** {@code INSERT ... ON CONFLICT (keys) DO UPDATE}: needs a unique index on exactly the keys. */
  @Override
  public String upsert(
      String qualifiedTarget, List<String> columns, List<String> keys, String select) {
    List<String> others = columns.stream().filter(c -> !keys.contains(c)).toList();
    return "INSERT INTO "
        + qualifiedTarget
        + " ("
        + columns.stream().map(this::quote).collect(java.util.stream.Collectors.joining(", "))
        + ") "
        + select
        + " ON CONFLICT ("
        + keys.stream().map(this::quote).collect(java.util.stream.Collectors.joining(", "))
        + ") "
        + (others.isEmpty()
            ? "DO NOTHING"
            : "DO UPDATE SET "
                + others.stream()
                    .map(c -> quote(c) + " = EXCLUDED." + quote(c))
                    .collect(java.util.stream.Collectors.joining(", ")));
  }

  @Override
  public boolean upsertNeedsUniqueKey() {
    return true;
  }

  /** ON CONFLICT DO UPDATE refuses to change one row twice in a statement: SQLSTATE 21000. */
  @Override
  public boolean upsertRefusesRepeatedKeys() {
    return true;
  }

  @Override
  public boolean isRepeatedUpsertKey(java.sql.SQLException e) {
    return "21000".equals(e.getSQLState());
  }

  /** DO UPDATE counts every row it inserts or updates; DO NOTHING skips existing keys. */
  @Override
  public boolean upsertCountsSourceRows(List<String> columns, List<String> keys) {
    return columns.stream().anyMatch(c -> !keys.contains(c));
  }

  /** uuid, inet, jsonb, citext ... take no COLLATE: compare their text. */
  @Override
  public String asText(String sqlExpr) {
    return "CAST(" + sqlExpr + " AS TEXT)";
  }

  @Override
  public PreparedTransactions preparedTransactions() {
    return new PreparedTransactions.Postgres();
  }
}
