package io.tessera.jdbc;

import io.tessera.common.errors.TesseraError;
import io.tessera.common.errors.TesseraException;
import io.tessera.common.options.OptionSet;
import io.tessera.common.options.OptionSpec;
import io.tessera.common.options.ParsedOptions;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;

/**
 * The options of path-less use ({@code format("tessera-jdbc")}): Spark's JDBC option names where
 * the meaning is the same, so that migrating from {@code format("jdbc")} changes one word, plus
 * Tessera's own. An option of Spark's JDBC source that Tessera does not honour fails with the
 * reason, never silently ignored.
 */
final class JdbcProviderOptions {
  private JdbcProviderOptions() {}

  static final OptionSpec<String> DBTABLE =
      OptionSpec.string(
              "dbtable", null, "the table: schema.table, or table in the connection's schema")
          .required();
  static final OptionSpec<String> DRIVER =
      OptionSpec.string(
          "driver",
          null,
          "JDBC driver class; must be the one Tessera uses for the URL (it loads it itself)");
  static final OptionSpec<Boolean> TRUNCATE =
      OptionSpec.bool(
          "truncate",
          true,
          "mode(\"overwrite\") keeps the table and replaces its rows (atomically); false, which"
              + " would drop and re-create the table, is refused");
  static final OptionSpec<String> CREATE_TABLE_OPTIONS =
      OptionSpec.string(
          "createTableOptions",
          null,
          "SQL after the columns when the first write creates the table (e.g. ENGINE=InnoDB)");

  static final OptionSet OPTIONS =
      OptionSet.builder("tessera-jdbc")
          .add(
              JdbcWriteOptions.URL,
              DBTABLE,
              JdbcWriteOptions.USER,
              JdbcWriteOptions.PASSWORD,
              DRIVER,
              JdbcWriteOptions.BATCH_SIZE,
              TRUNCATE,
              CREATE_TABLE_OPTIONS,
              JdbcWriteOptions.NUM_PARTITIONS,
              JdbcWriteOptions.FETCH_SIZE,
              JdbcWriteOptions.COMMIT,
              JdbcWriteOptions.WRITE_MODE,
              JdbcWriteOptions.UPSERT_KEYS,
              JdbcWriteOptions.UPSERT_ORDER_BY,
              JdbcWriteOptions.PARTITION_KEYS,
              JdbcWriteOptions.ALLOW_CASCADING_DELETES)
          .ignore("checkpointLocation", "path")
          .build();

  /** Options of Spark's JDBC source that a Tessera write does not honour, and why. */
  static final Map<String, String> NOT_HONOURED = notHonoured();

  private static Map<String, String> notHonoured() {
    Map<String, String> m = new LinkedHashMap<>();
    String read = "is an option for reading; a write has no use for it: remove it from the write";
    m.put("query", "names rows to read; a write needs a table: use option 'dbtable'");
    m.put("prepareQuery", "names rows to read; a write needs a table: use option 'dbtable'");
    m.put(
        "isolationLevel",
        "does not apply: tasks load a private staging table and the rows are published in one"
            + " transaction that locks the table against other writers");
    m.put(
        "sessionInitStatement",
        "is not run by tessera-jdbc; give the database user session defaults instead (e.g."
            + " ALTER ROLE ... SET on PostgreSQL)");
    m.put("queryTimeout", "is not applied to writes");
    m.put(
        "createTableColumnTypes",
        "is not supported; create the table with the column types you want (CREATE TABLE in the"
            + " database, or through the tessera-jdbc catalog) before the first write");
    m.put(
        "cascadeTruncate",
        "does not apply: tessera-jdbc never runs TRUNCATE; to replace rows that ON DELETE CASCADE"
            + " foreign keys reference, set option 'allowCascadingDeletes'");
    m.put("tableComment", "is not supported; set it with COMMENT ON TABLE in the database");
    for (String k :
        new String[] {"keytab", "principal", "refreshKrb5Config", "connectionProvider"}) {
      m.put(k, "is not supported: tessera-jdbc connects with user and password only");
    }
    for (String k :
        new String[] {
          "partitionColumn",
          "lowerBound",
          "upperBound",
          "customSchema",
          "pushDownPredicate",
          "pushDownAggregate",
          "pushDownLimit",
          "pushDownOffset",
          "pushDownTableSample",
          "preferTimestampNTZ",
          "hint"
        }) {
      m.put(k, read);
    }
    return m;
  }

  /**
   * Checks a write's options and returns them parsed; a Spark option Tessera does not honour, a
   * misspelt one and a {@code driver} other than Tessera's fail here, before anything is written.
   */
  static ParsedOptions forWrite(Map<String, String> given, String driverClass) {
    for (String key : given.keySet()) {
      for (Map.Entry<String, String> n : NOT_HONOURED.entrySet()) {
        if (n.getKey().equalsIgnoreCase(key)) {
          throw new TesseraException(
              TesseraError.UNKNOWN_OPTION,
              "Option '"
                  + key
                  + "' of Spark's JDBC source "
                  + n.getValue()
                  + " (tessera-jdbc; nothing was written)");
        }
      }
    }
    ParsedOptions parsed = OPTIONS.parse(given);
    String driver = parsed.get(DRIVER);
    if (driver != null && !driver.equals(driverClass)) {
      throw new TesseraException(
          TesseraError.INVALID_OPTION_VALUE,
          "Option 'driver' has value '"
              + driver
              + "' but tessera-jdbc connects to this URL with "
              + driverClass
              + "; remove option 'driver' (Tessera loads its driver itself)");
    }
    if (!parsed.get(TRUNCATE)) {
      throw new TesseraException(
          TesseraError.INVALID_OPTION_VALUE,
          "Option 'truncate' has value 'false', which in Spark's JDBC source makes"
              + " mode(\"overwrite\") drop and re-create the table; tessera-jdbc keeps the table"
              + " and replaces its rows in one transaction. Remove option 'truncate'");
    }
    return parsed;
  }

  /** The options of Tessera's own write path: the given ones without the path-less ones. */
  static Map<String, String> tesseraOptions(Map<String, String> given) {
    Map<String, String> out = new LinkedHashMap<>();
    given.forEach(
        (k, v) -> {
          String lower = k.toLowerCase(Locale.ROOT);
          if (!lower.equals("dbtable")
              && !lower.equals("driver")
              && !lower.equals("truncate")
              && !lower.equals("createtableoptions")) {
            out.put(k, v);
          }
        });
    return out;
  }
}
