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
      String master = System.getProperty("tessera.test.master", "local[2,2]");
      SparkSession.Builder builder = SparkSession.builder();
      // Any -Dtessera.test.spark.<key>=<value> becomes Spark setting <key> (e.g. speculation).
      for (String key : System.getProperties().stringPropertyNames()) {
        if (key.startsWith("tessera.test.spark.")) {
          builder.config(key.substring("tessera.test.spark.".length()), System.getProperty(key));
        }
      }
      boolean cluster = master.startsWith("local-cluster") || master.equals(TwoHostCluster.MASTER);
      if (master.equals(TwoHostCluster.MASTER)) {
        master = TwoHostCluster.start(root.resolve("two-host-cluster"));
      }
      if (cluster) {
        // Executors are separate JVMs started by the in-process worker: they get this JVM's test
        // class path (Tessera, drivers, test classes). The worker needs SPARK_SCALA_VERSION=2.13
        // in the environment to launch them from Maven jars, and a $SPARK_HOME with a jars/
        // folder, which may be empty (see FACTS.md).
        String sparkHome = System.getenv("SPARK_HOME");
        if (sparkHome != null) {
          try {
            java.nio.file.Files.createDirectories(Path.of(sparkHome, "jars"));
          } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
          }
        }
        builder
            .config(
                "spark.executor.extraClassPath",
                System.getProperty(
                    "surefire.test.class.path", System.getProperty("java.class.path")))
            .config("spark.task.maxFailures", "4");
      }
      session =
          builder
              .master(master)
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
      if (cluster) {
        // Run nothing before both executors have registered: tests count on two of them.
        long deadline = System.currentTimeMillis() + 120_000;
        while (session.sparkContext().statusTracker().getExecutorInfos().length < 3) {
          if (System.currentTimeMillis() > deadline) {
            throw new IllegalStateException("the executors of " + master + " did not register");
          }
          try {
            Thread.sleep(100);
          } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
          }
        }
      }
    }
    return session;
  }
}
