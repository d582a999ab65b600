package io.tessera.it.app;

import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;

/**
 * The application of the {@code spark-submit --packages} journey. It is compiled against Spark only
 * and names Tessera's classes and formats as strings, the way a user's job does: every Tessera
 * class it reaches must come from {@code --packages}. Catalogs are configured by the submit
 * command's {@code --conf}; the test reads the data back on its own.
 *
 * <p>Arguments: the JDBC catalogs with their schemas ({@code h2:journey,pg:ts_1,maria:ts_2}), the
 * file catalog, the Kafka catalog, the provider's topic and the catalog's topic.
 */
public final class PackagesJourneyApp {
  private PackagesJourneyApp() {}

  public static void main(String[] args) throws Exception {
    String[] jdbc = args[0].split(",");
    String files = args[1];
    String kafka = args[2];
    String providerTopic = args[3];
    String catalogTopic = args[4];
    String bootstrap = args[5];
    SparkSession spark = SparkSession.builder().appName("tessera-packages-journey").getOrCreate();
    Dataset<Row> first = spark.range(0, 100).selectExpr("id", "concat('n', id) AS name");
    Dataset<Row> more = spark.range(100, 150).selectExpr("id", "concat('n', id) AS name");
    for (String entry : jdbc) {
      String catalog = entry.split(":")[0];
      String schema = entry.split(":")[1];
      spark.sql("CREATE NAMESPACE IF NOT EXISTS " + catalog + "." + schema);
      String table = catalog + "." + schema + ".people";
      first.writeTo(table).create();
      more.writeTo(table).append();
      spark.sql(
          "CREATE TABLE " + catalog + "." + schema + ".people_copy AS SELECT * FROM " + table);
      // Reading goes through Spark's JDBC reader: the path that failed with "No suitable driver".
      System.out.println("JOURNEY " + table + " rows=" + spark.table(table).count());
    }
    spark.sql("CREATE NAMESPACE IF NOT EXISTS " + files + ".journey");
    String fileTable = files + ".journey.people";
    first.writeTo(fileTable).using("parquet").create();
    more.writeTo(fileTable).append();
    System.out.println("JOURNEY " + fileTable + " rows=" + spark.table(fileTable).count());
    first
        .selectExpr("CAST(id AS STRING) AS key", "name AS value")
        .write()
        .format("tessera-kafka")
        .option("kafka.bootstrap.servers", bootstrap)
        .option("topic", providerTopic)
        .mode("append")
        .save();
    // Exactly-once: its transaction adapter checks the kafka-clients --packages resolved.
    more.selectExpr("CAST(id AS STRING) AS key", "name AS value")
        .writeTo(kafka + "." + catalogTopic)
        .option("delivery", "exactly-once")
        .option("transactionalIdPrefix", "journey")
        .append();
    System.out.println("JOURNEY kafka done");
    spark.stop();
  }
}
