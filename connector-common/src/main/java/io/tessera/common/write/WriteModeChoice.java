package io.tessera.common.write;

import io.tessera.common.errors.TesseraErrors;
import org.apache.spark.sql.connector.expressions.filter.Predicate;

/**
 * Collects the write mode from a builder's mixin calls ({@code truncate()}, {@code overwrite(...)},
 * {@code overwriteDynamicPartitions()}, an upsert option). The first choice wins; a second,
 * different choice is a programming or usage error and fails with a clear message instead of
 * silently picking one.
 */
public final class WriteModeChoice {
  private WriteMode mode = new WriteMode.Append();
  private boolean chosen;

  public WriteModeChoice truncate() {
    return choose(new WriteMode.Truncate());
  }

  /** An overwrite whose filter matches everything is recorded as a truncate. */
  public WriteModeChoice overwrite(Predicate[] predicates) {
    WriteMode.OverwriteByFilter byFilter = WriteMode.OverwriteByFilter.of(predicates);
    return choose(byFilter.matchesEverything() ? new WriteMode.Truncate() : byFilter);
  }

  public WriteModeChoice dynamicOverwrite() {
    return choose(new WriteMode.DynamicOverwrite());
  }

  public WriteModeChoice upsert(java.util.List<String> keys) {
    return choose(new WriteMode.Upsert(keys));
  }

  private WriteModeChoice choose(WriteMode requested) {
    if (chosen && !mode.equals(requested)) {
      throw TesseraErrors.conflictingWriteModes(mode.describe(), requested.describe());
    }
    mode = requested;
    chosen = true;
    return this;
  }

  /** The chosen mode; {@link WriteMode.Append} when no mixin was called. */
  public WriteMode mode() {
    return mode;
  }
}
