package io.tessera.jdbc.dialect;

/** H2 2.x, the embedded default: standard SQL quoting; DELETE inside the commit transaction. */
public class H2Dialect extends JdbcDialect {
  private static final long serialVersionUID = 1L;

  @Override
  public String name() {
    return "H2";
  }

  @Override
  public String driverClass() {
    return "org.h2.Driver";
  }

  @Override
  public boolean acceptsUrl(String url) {
    return url.startsWith("jdbc:h2:");
  }

  @Override
  protected String columnTypeOrNull(org.apache.spark.sql.types.DataType type) {
    if (type.equals(org.apache.spark.sql.types.DataTypes.ByteType)) {
      return "TINYINT";
    }
    return super.columnTypeOrNull(type);
  }

  @Override
  protected String stringType() {
    return "CHARACTER VARYING";
  }

  /**
   * Spark 4.2's aggregate push-down into H2 makes the plan of a CTAS/RTAS whose query aggregates an
   * H2 table invalid (PLAN_VALIDATION_FAILED_RULE_IN_BATCH in V2ScanRelationPushDown; plain SELECTs
   * work), so Spark aggregates H2 rows itself. Test: aggregatesOverACatalogTableWork.
   */
  @Override
  public java.util.Map<String, String> sparkReaderOptions() {
    return java.util.Map.of("pushDownAggregate", "false");
  }

  /** H2 stores at most 1,048,576 characters; it reports its unbounded VARCHAR as 1,000,000,000. */
  @Override
  protected int maxVarcharLength() {
    return 1_048_576;
  }

  @Override
  protected int maxCharLength() {
    return 1_048_576;
  }

  @Override
  protected String binaryType() {
    return "BINARY VARYING";
  }

  /**
   * H2 locks its schema ("SYS") for each DDL statement and gives up after 2 s by default: two
   * writes staging at once failed with "Timeout trying to lock table SYS". A DDL statement waiting
   * for SYS can also wait on a publish that itself waits behind that request (seen once with two
   * users' writes at the same moment): it gives up after 5 s, and the write retries it ({@link
   * #isDdlLockTimeout}), by which time the publish has ended.
   */
  @Override
  public java.util.List<String> ddlSessionSettings() {
    return java.util.List.of(shortLockTimeout(5));
  }

  /**
   * H2's "Timeout trying to lock table" (50200), anywhere in {@code e}'s causes (by code, or by the
   * code in the message of a redacted copy).
   */
  @Override
  public boolean isDdlLockTimeout(Throwable e) {
    for (Throwable t = e; t != null; t = t.getCause()) {
      if ((t instanceof java.sql.SQLException q && q.getErrorCode() == 50200)
          || String.valueOf(t.getMessage()).contains("[50200-")) {
        return true;
      }
    }
    return false;
  }

  /** H2's "Not enough rights for object" (90096). */
  @Override
  protected boolean permissionDenied(java.sql.SQLException e) {
    return e.getErrorCode() == 90096 || super.permissionDenied(e);
  }

  /**
   * H2 lets only a schema's owner (or a user granted ALTER ANY SCHEMA, or an admin) create tables
   * in it.
   */
  @Override
  public String grantCreateIn(String schema, String grantee) {
    return "GRANT ALTER ANY SCHEMA TO " + grantee;
  }

  @Override
  public String createPrivilegeName(String schema) {
    return "ownership of schema " + quote(schema) + " (or ALTER ANY SCHEMA)";
  }

  @Override
  protected String timestampType() {
    return "TIMESTAMP WITH TIME ZONE";
  }

  /** A VARCHAR_IGNORECASE value compares case-sensitively as a plain VARCHAR. */
  @Override
  public String asText(String sqlExpr) {
    return "CAST(" + sqlExpr + " AS VARCHAR)";
  }
}
