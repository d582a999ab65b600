package io.tessera.common.errors;

/**
 * The one exception type Tessera throws for user-facing problems. Its {@link #error()} is a stable
 * name that scripts and tests can match on; its message says what went wrong, where, with the real
 * (redacted) values, and how to fix it.
 */
public class TesseraException extends RuntimeException {
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
}
