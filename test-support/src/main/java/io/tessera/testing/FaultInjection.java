package io.tessera.testing;

import org.apache.spark.TaskContext;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.api.java.UDF2;
import org.apache.spark.sql.types.DataTypes;

/**
 * SQL functions that make tasks fail on purpose, for fault tests: {@code fail_first_attempt(id,
 * bad)} throws for the row whose {@code id} equals {@code bad} on a task's first attempt only (the
 * retry succeeds; needs a master with retries such as {@code local[2,2]}); {@code fail_always(id,
 * bad)} throws on every attempt, failing the job. Both return {@code id} otherwise.
 */
public final class FaultInjection {
  private FaultInjection() {}

  public static void register(SparkSession spark) {
    spark
        .udf()
        .register(
            "fail_first_attempt",
            (UDF2<Long, Long, Long>)
                (id, bad) -> {
                  if (id.equals(bad) && TaskContext.get().attemptNumber() == 0) {
                    throw new IllegalStateException("injected failure on first attempt, id " + id);
                  }
                  return id;
                },
            DataTypes.LongType);
    spark
        .udf()
        .register(
            "fail_always",
            (UDF2<Long, Long, Long>)
                (id, bad) -> {
                  if (id.equals(bad)) {
                    throw new IllegalStateException("injected failure, id " + id);
                  }
                  return id;
                },
            DataTypes.LongType);
  }
}
