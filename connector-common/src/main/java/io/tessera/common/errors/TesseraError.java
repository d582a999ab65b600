package io.tessera.common.errors;

/**
 * Stable names of every error Tessera reports. A name never changes meaning once released; the
 * message that goes with it is built in {@link TesseraErrors}.
 */
public enum TesseraError {
  UNKNOWN_OPTION,
  MISSING_OPTION,
  INVALID_OPTION_VALUE,
  CONFLICTING_WRITE_MODES,
  UNSUPPORTED_WRITE_MODE,
  UNSUPPORTED_TYPE,
  SCHEMA_MISMATCH,
  UNSUPPORTED_PREDICATE,
  COMMIT_FAILED,
  COMMIT_OUTCOME_UNKNOWN,
  INVALID_IDENTIFIER,
  CONNECTION_FAILED,
  SEND_FAILED,
  SQL_FAILED
}
