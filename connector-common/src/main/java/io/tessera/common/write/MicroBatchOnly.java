package io.tessera.common.write;

import io.tessera.common.errors.TesseraError;
import io.tessera.common.errors.TesseraException;
import org.apache.spark.TaskContext;
import org.apache.spark.sql.SparkSession;

/**
 * Refuses Spark's continuous processing ({@code Trigger.Continuous}) in a streaming write. A
 * continuous query keeps one task, and so one write, across all its epochs: nothing can be
 * committed once per epoch, so no connector of Tessera can be exactly-once there.
 */
public final class MicroBatchOnly {
  private MicroBatchOnly() {}

  /** The local property Spark sets (driver query thread and tasks) for continuous processing. */
  private static final String CONTINUOUS =
      org.apache.spark.sql.execution.streaming.continuous.ContinuousExecution$.MODULE$
          .EPOCH_COORDINATOR_ID_KEY();

  /** On the driver, when the query asks for its writer factory. */
  public static void checkDriver(String connector) {
    if (SparkSession.active().sparkContext().getLocalProperty(CONTINUOUS) != null) {
      throw refused(connector);
    }
  }

  /** In a task: a backstop should the driver's check be passed by. */
  public static void checkTask(String connector) {
    TaskContext task = TaskContext.get();
    if (task != null && task.getLocalProperty(CONTINUOUS) != null) {
      throw refused(connector);
    }
  }

  private static TesseraException refused(String connector) {
    return new TesseraException(
        TesseraError.UNSUPPORTED_WRITE_MODE,
        connector
            + " does not support the continuous trigger (Trigger.Continuous): its epochs"
            + " cannot be committed exactly once. Use a micro-batch trigger, e.g."
            + " Trigger.ProcessingTime(\"1 second\"); nothing was written");
  }
}
