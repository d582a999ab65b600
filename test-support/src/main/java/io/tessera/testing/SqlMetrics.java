package io.tessera.testing;

import java.util.HashMap;
import java.util.Map;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.execution.CommandResultExec;
import org.apache.spark.sql.execution.SparkPlan;

/** The SQL metrics a command showed in the SQL tab, read from its result's physical plan. */
public final class SqlMetrics {
  private SqlMetrics() {}

  /** The metrics of the command (e.g. a DELETE, UPDATE or MERGE) that produced {@code result}. */
  public static Map<String, Long> ofCommand(Dataset<Row> result) {
    SparkPlan plan = result.queryExecution().executedPlan();
    if (plan instanceof CommandResultExec c) {
      plan = c.commandPhysicalPlan();
    }
    Map<String, Long> out = new HashMap<>();
    scala.jdk.javaapi.CollectionConverters.asJava(plan.metrics())
        .forEach((k, v) -> out.put(k, v.value()));
    return out;
  }
}
