package io.tessera.common.write;

import org.apache.spark.sql.connector.expressions.filter.Predicate;
import org.apache.spark.sql.connector.write.SupportsDynamicOverwrite;
import org.apache.spark.sql.connector.write.SupportsOverwriteV2;
import org.apache.spark.sql.connector.write.WriteBuilder;

/**
 * A write builder that records Spark's mixin calls (truncate, overwrite by filter, dynamic
 * overwrite) as one {@link WriteMode}; conflicting calls fail (see {@link WriteModeChoice}).
 * Connectors say which filters they can apply ({@code canOverwrite}) and build the write.
 */
public abstract class ModeChoosingWriteBuilder
    implements SupportsOverwriteV2, SupportsDynamicOverwrite {
  private final WriteModeChoice choice = new WriteModeChoice();

  @Override
  public WriteBuilder truncate() {
    choice.truncate();
    return this;
  }

  @Override
  public WriteBuilder overwrite(Predicate[] predicates) {
    choice.overwrite(predicates);
    return this;
  }

  @Override
  public WriteBuilder overwriteDynamicPartitions() {
    choice.dynamicOverwrite();
    return this;
  }

  /** The mode Spark's calls chose; append when none was called. */
  protected WriteMode mode() {
    return choice.mode();
  }
}
