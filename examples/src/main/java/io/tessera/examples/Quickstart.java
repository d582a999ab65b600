package io.tessera.examples;

import java.nio.file.Files;
import java.nio.file.Path;
import org.apache.spark.sql.SparkSession;

/**
 * The README's first command runs this: a local Spark session that lists the Tessera connectors on
 * the classpath.
 */
public final class Quickstart {
  private Quickstart() {}

  public static void main(String[] args) throws Exception {
    Path work = Files.createDirectories(Path.of("target", "quickstart").toAbsolutePath());
    SparkSession spark =
        SparkSession.builder()
            .master("local[2]")
            .appName("tessera-quickstart")
            .config("spark.ui.enabled", "false")
            .config("spark.driver.host", "127.0.0.1")
            .config("spark.driver.bindAddress", "127.0.0.1")
            .config("spark.sql.warehouse.dir", work.resolve("warehouse").toString())
            .getOrCreate();
    spark.sparkContext().setLogLevel("WARN");
    try {
      System.out.println("Spark " + spark.version() + " is running locally.");
      System.out.println("Tessera connectors on the classpath:");
      for (String[] c : CONNECTORS) {
        System.out.printf(
            "  %-22s %-32s %s%n", c[0], c[1], available(c[1]) ? "available" : "planned");
      }
    } finally {
      spark.stop();
    }
  }

  private static final String[][] CONNECTORS = {
    {"connector-jdbc", "io.tessera.jdbc.JdbcCatalog"},
    {"connector-kafka-like", "io.tessera.kafka.KafkaCatalog"},
    {"connector-file", "io.tessera.file.FileCatalog"},
  };

  private static boolean available(String className) {
    try {
      Class.forName(className, false, Quickstart.class.getClassLoader());
      return true;
    } catch (ClassNotFoundException e) {
      return false;
    }
  }
}
