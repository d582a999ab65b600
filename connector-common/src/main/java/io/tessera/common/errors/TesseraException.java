package io.tessera.common.errors;

import java.util.Map;
import org.apache.spark.BreakingChangeInfo;
import org.apache.spark.SparkThrowable;

/**
 * The one exception type Tessera throws for user-facing problems. Its {@link #error()} is a stable
 * name that scripts and tests can match on; its message says what went wrong, where, with the real
 * (redacted) values, and how to fix it. It is a {@link SparkThrowable}, so Spark 4 clients, Spark
 * Connect and the Thrift server show its condition ({@code TESSERA_<name>}) and SQLSTATE.
 */
public class TesseraException extends RuntimeException implements SparkThrowable {
  private static final long serialVersionUID = 1L;

  private final TesseraError error;

  public TesseraException(TesseraError error, String message) {
    this(error, message, null);
  }

  public TesseraException(TesseraError error, String message, Throwable cause) {
    super("[" + error.name() + "] " + message, cause);
    this.error = error;
  }

  public TesseraError error() {
    return error;
  }

  @Override
  public String getCondition() {
    return error.condition();
  }

  @Override
  public String getSqlState() {
    return error.sqlState();
  }

  @Override
  public boolean isInternalError() {
    return false;
  }

  @Override
  public Map<String, String> getMessageParameters() {
    return Map.of();
  }

  /** Tessera's messages are complete sentences; Spark's error catalogue does not know them. */
  @Override
  public String getDefaultMessageTemplate() {
    return getMessage();
  }

  @Override
  public BreakingChangeInfo getBreakingChangeInfo() {
    return null;
  }
}
