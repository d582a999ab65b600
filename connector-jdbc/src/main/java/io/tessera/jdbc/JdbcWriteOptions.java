package io.tessera.jdbc;

import io.tessera.common.options.OptionSet;
import io.tessera.common.options.OptionSpec;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;

/**
 * Every option of tessera-jdbc, declared once. They can be given as catalog settings ({@code
 * spark.sql.catalog.<name>.<option>}) and, for one write, as write options ({@code .option(...)});
 * a write option wins over the catalog setting.
 */
public final class JdbcWriteOptions {
  private JdbcWriteOptions() {}

  /** How a write is published. */
  public enum CommitMode {
    /** Tasks load a staging table; the driver publishes all rows in one transaction. */
    ATOMIC,
    /** Each task commits straight into the target. Faster, not atomic: append only. */
    DIRECT,
    /**
     * Each task loads the target and prepares its transaction; the driver commits the chosen ones
     * (PostgreSQL, MariaDB/MySQL; append only).
     */
    TWO_PHASE
  }

  /** What a write does with rows whose keys the table holds already. */
  public enum WriteModeOption {
    /** Add the rows (or replace rows, as Spark's overwrite calls ask). */
    APPEND,
    /** Insert new keys, update the rows of existing keys, atomically. */
    UPSERT
  }

  public static final OptionSpec<String> URL =
      OptionSpec.string(
              "url",
              null,
              "JDBC URL of the database (jdbc:postgresql:, jdbc:mariadb:,"
                  + " jdbc:mysql:, jdbc:h2:)")
          .required();
  public static final OptionSpec<String> USER = OptionSpec.string("user", null, "database user");
  public static final OptionSpec<String> PASSWORD =
      OptionSpec.string("password", null, "database password").secret();
  public static final OptionSpec<CommitMode> COMMIT =
      OptionSpec.choice(
          "commit",
          CommitMode.class,
          CommitMode.ATOMIC,
          "atomic: all-or-nothing via a staging table; direct: tasks commit into the target"
              + " themselves (not atomic, append only); two-phase: tasks load the target and"
              + " prepare their transactions, the driver commits those of the attempts Spark chose"
              + " (all-or-nothing at the loading speed of direct; PostgreSQL with"
              + " max_prepared_transactions > 0 and MariaDB/MySQL; append only)");
  public static final OptionSpec<Integer> BATCH_SIZE =
      OptionSpec.intInRange(
          "batchSize",
          10_000,
          1,
          1_000_000,
          "rows per INSERT batch (MariaDB, H2; PostgreSQL uses COPY)");
  public static final OptionSpec<String> PARTITION_KEYS =
      OptionSpec.string(
          "partitionKeys",
          null,
          "comma-separated columns whose values overwritePartitions() replaces, for tables not"
              + " created with PARTITIONED BY");
  public static final OptionSpec<Boolean> ALLOW_CASCADING_DELETES =
      OptionSpec.bool(
          "allowCascadingDeletes",
          false,
          "let overwrite/truncate, and UPDATE/MERGE that change keys, delete rows that other"
              + " tables' ON DELETE CASCADE / SET NULL foreign keys reference (their rows change"
              + " too)");
  public static final OptionSpec<Integer> NUM_PARTITIONS =
      OptionSpec.intInRange(
          "numPartitions",
          0,
          0,
          100_000,
          "at most this many tasks write at once (each holds one connection); the rows are"
              + " shuffled into that many partitions first; 0: as many as the data has");
  public static final OptionSpec<WriteModeOption> WRITE_MODE =
      OptionSpec.choice(
          "writeMode",
          WriteModeOption.class,
          WriteModeOption.APPEND,
          "append: add the rows (Spark's overwrite calls still replace rows); upsert: insert new"
              + " keys and update the rows of existing keys (see upsertKeys)");
  public static final OptionSpec<String> UPSERT_KEYS =
      OptionSpec.string(
          "upsertKeys",
          null,
          "comma-separated key columns of writeMode=upsert; default: the table's primary key");
  public static final OptionSpec<String> UPSERT_ORDER_BY =
      OptionSpec.string(
          "upsertOrderBy",
          null,
          "when new rows of one write share a key, the one with the highest value of this column"
              + " wins (NULL lowest); unset: such a write fails naming the key");
  public static final OptionSpec<Integer> FETCH_SIZE =
      OptionSpec.intInRange("fetchSize", 10_000, 0, 1_000_000, "rows per round trip when reading");

  public static final OptionSet OPTIONS =
      OptionSet.builder("tessera-jdbc")
          .add(
              URL,
              USER,
              PASSWORD,
              COMMIT,
              BATCH_SIZE,
              PARTITION_KEYS,
              ALLOW_CASCADING_DELETES,
              NUM_PARTITIONS,
              WRITE_MODE,
              UPSERT_KEYS,
              UPSERT_ORDER_BY,
              FETCH_SIZE)
          .ignore("checkpointLocation", "path")
          .build();

  /** {@code base} overlaid by {@code overrides}, keys compared case-insensitively. */
  public static Map<String, String> overlay(
      Map<String, String> base, Map<String, String> overrides) {
    Map<String, String> out = new LinkedHashMap<>();
    Map<String, String> originalKey = new LinkedHashMap<>();
    for (Map<String, String> m : java.util.List.of(base, overrides)) {
      m.forEach(
          (k, v) -> {
            String lower = k.toLowerCase(Locale.ROOT);
            String previous = originalKey.put(lower, k);
            if (previous != null) {
              out.remove(previous);
            }
            out.put(k, v);
          });
    }
    return out;
  }
}
