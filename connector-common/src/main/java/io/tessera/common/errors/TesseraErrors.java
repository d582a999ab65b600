package io.tessera.common.errors;

import java.util.Collection;
import java.util.stream.Collectors;

/**
 * Builds every user-facing error of the common layer. Messages follow one pattern: what is wrong,
 * where (option, column, table), the value that was given, and the fix.
 */
public final class TesseraErrors {
  private TesseraErrors() {}

  public static TesseraException unknownOption(
      String connector, String option, String nearest, Collection<String> valid) {
    String hint =
        nearest == null
            ? "valid options are: " + String.join(", ", valid)
            : "did you mean '" + nearest + "'?";
    return new TesseraException(
        TesseraError.UNKNOWN_OPTION,
        "Unknown option '" + option + "' for " + connector + "; " + hint);
  }

  public static TesseraException missingOption(String connector, String option, String doc) {
    return new TesseraException(
        TesseraError.MISSING_OPTION,
        "Option '"
            + option
            + "' is required by "
            + connector
            + " ("
            + doc
            + "); set it with "
            + ".option(\""
            + option
            + "\", ...)");
  }

  public static TesseraException invalidOptionValue(
      String option, String shownValue, String expected) {
    return new TesseraException(
        TesseraError.INVALID_OPTION_VALUE,
        "Option '" + option + "' has value " + shownValue + " but expects " + expected);
  }

  public static TesseraException conflictingWriteModes(String current, String requested) {
    return new TesseraException(
        TesseraError.CONFLICTING_WRITE_MODES,
        "Cannot combine write mode "
            + requested
            + " with "
            + current
            + ", which was already chosen for this write; use one of append, truncate"
            + " (INSERT OVERWRITE), overwrite(condition), overwritePartitions() or upsert");
  }

  public static TesseraException unsupportedWriteMode(String connector, String mode, String why) {
    return new TesseraException(
        TesseraError.UNSUPPORTED_WRITE_MODE,
        connector + " does not support write mode " + mode + ": " + why);
  }

  public static TesseraException unsupportedType(
      String where, String column, String type, Collection<String> supported) {
    return new TesseraException(
        TesseraError.UNSUPPORTED_TYPE,
        "Column '"
            + column
            + "' has type "
            + type
            + " which "
            + where
            + " cannot store; cast it to one of: "
            + supported.stream().sorted().collect(Collectors.joining(", ")));
  }

  public static TesseraException schemaMismatch(String message) {
    return new TesseraException(TesseraError.SCHEMA_MISMATCH, message);
  }
}
