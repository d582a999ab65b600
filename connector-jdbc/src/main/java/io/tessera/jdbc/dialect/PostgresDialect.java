package io.tessera.jdbc.dialect;

import java.sql.Connection;
import java.sql.SQLException;
import java.util.List;
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

  /** SHARE ROW EXCLUSIVE conflicts with itself and with every writer, never with readers. */
  @Override
  public boolean locksTableItself() {
    return true;
  }

  @Override
  public String lockTarget(String schema, String qualifiedTarget) {
    return "LOCK TABLE " + qualifiedTarget + " IN SHARE ROW EXCLUSIVE MODE";
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
}
