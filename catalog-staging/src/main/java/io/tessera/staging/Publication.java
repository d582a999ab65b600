package io.tessera.staging;

/** What publishing a staged table does to the table of the same name. */
public enum Publication {
  /** {@code CREATE TABLE ... AS SELECT}: fails if a table of that name exists at publication. */
  CREATE,
  /** {@code REPLACE TABLE ... AS SELECT}: the existing table is replaced. */
  REPLACE,
  /** {@code CREATE OR REPLACE TABLE ... AS SELECT}: replaced if it exists, created otherwise. */
  CREATE_OR_REPLACE;

  /** Whether an existing table of the name is replaced rather than an error. */
  public boolean replaces() {
    return this != CREATE;
  }

  /** The SQL words for messages. */
  public String sql() {
    return switch (this) {
      case CREATE -> "CREATE TABLE AS SELECT";
      case REPLACE -> "REPLACE TABLE AS SELECT";
      case CREATE_OR_REPLACE -> "CREATE OR REPLACE TABLE AS SELECT";
    };
  }
}
