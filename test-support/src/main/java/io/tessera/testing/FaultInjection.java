package io.tessera.testing;

import org.apache.spark.TaskContext;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.api.java.UDF2;
import org.apache.spark.sql.types.DataTypes;

/**
 * SQL functions that make tasks fail on purpose, for fault tests: {@code fail_first_attempt(id,
 * bad)} throws for the row whose {@code id} equals {@code bad} on a task's first attempt only (the
 * retry succeeds; needs a master with retries such as {@code local[2,2]}); {@code fail_always(id,
 * bad)} throws on every attempt, failing the job; {@code fail_while(id, bad, flagFile)} throws on
 * every attempt while the file exists (a streaming query that dies until the test lets it live).
 * All return {@code id} otherwise.
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
    spark
        .udf()
        .register(
            "fail_while",
            (org.apache.spark.sql.api.java.UDF3<Long, Long, String, Long>)
                (id, bad, flag) -> {
                  if (id.equals(bad) && java.nio.file.Files.exists(java.nio.file.Path.of(flag))) {
                    throw new IllegalStateException(
                        "injected: fails while the flag exists, id " + id);
                  }
                  return id;
                },
            DataTypes.LongType);
  }
}
