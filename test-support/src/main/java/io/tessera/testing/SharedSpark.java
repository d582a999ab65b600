package io.tessera.testing;

import java.nio.file.Path;
import org.apache.spark.sql.SparkSession;

/**
 * The one local SparkSession of a test JVM, created on first use and reused by every test class
 * (starting Spark costs seconds; reusing it costs nothing).
 *
 * <p>The master is {@code local[2,2]}: two cores, and a failed task is retried once, so fault tests
 * can make a task fail on its first attempt and watch the job succeed. Override with {@code
 * -Dtessera.test.master}.
 */
public final class SharedSpark {
  private static SparkSession session;

  private SharedSpark() {}

  public static synchronized SparkSession session() {
    if (session == null || session.sparkContext().isStopped()) {
      Path root = TestPaths.root();
      session =
          SparkSession.builder()
              .master(System.getProperty("tessera.test.master", "local[2,2]"))
              .appName("tessera-tests")
              .config("spark.ui.enabled", "false")
              .config("spark.ui.showConsoleProgress", "false")
              .config("spark.driver.host", "127.0.0.1")
              .config("spark.driver.bindAddress", "127.0.0.1")
              .config("spark.sql.shuffle.partitions", "2")
              .config("spark.default.parallelism", "2")
              .config("spark.sql.warehouse.dir", root.resolve("spark-warehouse").toString())
              .config("spark.local.dir", root.resolve("spark-local").toString())
              .config(
                  "spark.sql.streaming.checkpointLocation", root.resolve("checkpoints").toString())
              .getOrCreate();
      session.sparkContext().setLogLevel("WARN");
    }
    return session;
  }
}
