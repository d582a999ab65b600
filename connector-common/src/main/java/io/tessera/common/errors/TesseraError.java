package io.tessera.common.errors;

/**
 * Stable names of every error Tessera reports. A name never changes meaning once released; the
 * message that goes with it is built in {@link TesseraErrors}.
 */
public enum TesseraError {
  UNKNOWN_OPTION("22023"),
  MISSING_OPTION("22023"),
  INVALID_OPTION_VALUE("22023"),
  CONFLICTING_WRITE_MODES("0A000"),
  UNSUPPORTED_WRITE_MODE("0A000"),
  UNSUPPORTED_TYPE("0A000"),
  SCHEMA_MISMATCH("42804"),
  UNSUPPORTED_PREDICATE("0A000"),
  COMMIT_FAILED("40000"),
  COMMIT_OUTCOME_UNKNOWN("08007"),
  INVALID_IDENTIFIER("42602"),
  CONNECTION_FAILED("08001"),
  MISSING_PRIVILEGE("42501"),
  SEND_FAILED("08006"),
  SQL_FAILED("58000"),
  NULL_UPSERT_KEY("23502"),
  DUPLICATE_UPSERT_KEY("21000");

  private final String sqlState;

  TesseraError(String sqlState) {
    this.sqlState = sqlState;
  }

  /**
   * The SQLSTATE clients see (Spark Connect, the Thrift server): the standard class of the problem,
   * e.g. 22023 invalid parameter value, 0A000 feature not supported, 08007 transaction resolution
   * unknown.
   */
  public String sqlState() {
    return sqlState;
  }

  /** The condition name Spark reports, {@code TESSERA_<name>}. */
  public String condition() {
    return "TESSERA_" + name();
  }
}
