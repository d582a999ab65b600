package io.tessera.common.write;

import java.io.Serializable;
import java.util.Arrays;
import java.util.List;
import java.util.stream.Collectors;
import org.apache.spark.sql.connector.expressions.filter.AlwaysTrue;
import org.apache.spark.sql.connector.expressions.filter.Predicate;

/**
 * What a write does to the rows already in the target. Decided once, in the write builder, and
 * applied by the driver-side commit together with the new rows, so the change is one atomic step.
 */
public sealed interface WriteMode extends Serializable
    permits WriteMode.Append,
        WriteMode.Truncate,
        WriteMode.OverwriteByFilter,
        WriteMode.DynamicOverwrite,
        WriteMode.Upsert,
        WriteMode.RowLevel {

  /** A short name for messages and plan strings. */
  String describe();

  /** Adds the new rows; keeps every existing row. */
  record Append() implements WriteMode {
    @Override
    public String describe() {
      return "append";
    }
  }

  /** Replaces all existing rows with the new rows ({@code INSERT OVERWRITE}, truncate). */
  record Truncate() implements WriteMode {
    @Override
    public String describe() {
      return "truncate";
    }
  }

  /** Deletes the existing rows matching all {@code predicates}, then adds the new rows. */
  record OverwriteByFilter(List<Predicate> predicates) implements WriteMode {
    public OverwriteByFilter {
      predicates = List.copyOf(predicates);
    }

    public static OverwriteByFilter of(Predicate[] predicates) {
      return new OverwriteByFilter(Arrays.asList(predicates));
    }

    /** Whether the filter matches every row, which makes this a truncate. */
    public boolean matchesEverything() {
      return predicates.stream().allMatch(p -> p instanceof AlwaysTrue);
    }

    @Override
    public String describe() {
      return "overwrite where "
          + predicates.stream().map(Predicate::toString).collect(Collectors.joining(" AND "));
    }
  }

  /**
   * Replaces existing rows whose partition-key values appear in the new rows ({@code
   * overwritePartitions()}, dynamic partition overwrite).
   */
  record DynamicOverwrite() implements WriteMode {
    @Override
    public String describe() {
      return "dynamic partition overwrite";
    }
  }

  /**
   * Inserts new rows and updates existing rows with the same {@code keys}. Of new rows sharing a
   * key, the one with the highest {@code orderBy} value wins; without {@code orderBy} (null) such a
   * write fails.
   */
  record Upsert(List<String> keys, String orderBy) implements WriteMode {
    public Upsert {
      if (keys == null || keys.isEmpty()) {
        throw new IllegalArgumentException("upsert needs at least one key column");
      }
      keys = List.copyOf(keys);
    }

    public Upsert(List<String> keys) {
      this(keys, null);
    }

    @Override
    public String describe() {
      return "upsert on "
          + String.join(", ", keys)
          + (orderBy == null ? "" : " (highest " + orderBy + " wins)");
    }
  }

  /**
   * A row-level {@code DELETE}, {@code UPDATE} or {@code MERGE INTO} computed by Spark: the write
   * carries deletes, updates and inserts of single rows, identified by the table's {@code keys}.
   */
  record RowLevel(String command, List<String> keys) implements WriteMode {
    public RowLevel {
      keys = List.copyOf(keys);
    }

    @Override
    public String describe() {
      return command.toLowerCase(java.util.Locale.ROOT) + " by " + String.join(", ", keys);
    }
  }
}
