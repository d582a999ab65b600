package io.tessera.benchmarks;

import io.tessera.testing.KafkaBroker;
import java.lang.management.ManagementFactory;
import java.lang.management.MemoryMXBean;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.common.TopicPartition;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;

/**
 * Bounded memory: each connector writes N rows (10,000,000 by default) from a JVM with a 512 MiB
 * heap, in which Spark's driver and executor share the heap ({@code local[2]}). Every write runs in
 * its own child JVM; the result is whether it finished, how many rows arrived, and the peak heap
 * used (sampled every 50 ms). Not a speed test: the seconds are for the record.
 */
final class MemoryBenchmark {
  private MemoryBenchmark() {}

  static final String HEAP = "512m";

  static String run(long rows) throws Exception {
    KafkaBroker broker = KafkaBroker.shared(); // in this JVM: it must not use the child's heap
    String pgUrl = env("TESSERA_POSTGRESQL_URL", "jdbc:postgresql://127.0.0.1:5432/test");
    String pgUser = env("TESSERA_POSTGRESQL_USER", "root");
    String pgPassword = env("TESSERA_POSTGRESQL_PASSWORD", "");
    String mariaUrl = env("TESSERA_MARIADB_URL", "jdbc:mariadb://127.0.0.1:3306/test");
    String mariaUser = env("TESSERA_MARIADB_USER", "root");
    String mariaPassword = env("TESSERA_MARIADB_PASSWORD", "");
    Path work = Files.createTempDirectory("tessera-memory");
    StringBuilder md = new StringBuilder();
    md.append(
            String.format(
                "### Bounded memory: %,d rows x 5 columns per connector, -Xmx%s, local[2]%n%n",
                rows, HEAP))
        .append("| connector | rows written | rows found | peak heap used | seconds | result |\n")
        .append("|---|---:|---:|---:|---:|---|\n");
    List<String[]> runs = new ArrayList<>();
    runs.add(new String[] {"jdbc-postgresql", pgUrl, pgUser, pgPassword});
    runs.add(new String[] {"jdbc-mariadb", mariaUrl, mariaUser, mariaPassword});
    runs.add(new String[] {"file", work.resolve("warehouse").toString(), "", ""});
    String topic = broker.newTopic("memory", 4);
    runs.add(new String[] {"kafka", broker.bootstrapServers(), topic, ""});
    for (String[] r : runs) {
      List<String> cmd = new ArrayList<>();
      cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
      cmd.add("-Xmx" + HEAP);
      for (String a : ManagementFactory.getRuntimeMXBean().getInputArguments()) {
        if (a.startsWith("--add-")
            || a.startsWith("-XX:+IgnoreUnrecognized")
            || a.startsWith("-Dio.netty")) {
          cmd.add(a);
        }
      }
      cmd.addAll(
          List.of("-cp", System.getProperty("java.class.path"), MemoryBenchmark.class.getName()));
      cmd.add(Long.toString(rows));
      cmd.addAll(List.of(r));
      Path log = work.resolve(r[0] + ".log");
      long start = System.nanoTime();
      Process p =
          new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(log.toFile()).start();
      boolean done = p.waitFor(30, TimeUnit.MINUTES);
      double seconds = (System.nanoTime() - start) / 1e9;
      String out = Files.readString(log);
      String result =
          out.lines().filter(l -> l.startsWith("MEMORY-RESULT ")).findFirst().orElse(null);
      if (!done) {
        p.destroyForcibly();
      }
      if (result == null) {
        boolean oom = out.contains("OutOfMemoryError");
        md.append(
            String.format(
                "| %s | %,d | - | - | %.1f | %s (log: %s) |%n",
                r[0], rows, seconds, oom ? "OUT OF MEMORY" : "FAILED", log));
      } else {
        String[] f = result.split(" ");
        long found = Long.parseLong(f[2]);
        long peak = Long.parseLong(f[3]);
        md.append(
            String.format(
                "| %s | %,d | %,d | %d MiB | %.1f | %s |%n",
                r[0], rows, found, peak >> 20, seconds, found == rows ? "ok" : "ROWS MISSING"));
      }
      System.out.println(md);
    }
    return md.toString();
  }

  /** The child: writes the rows through one connector, then prints the rows found and the peak. */
  public static void main(String[] args) throws Exception {
    long rows = Long.parseLong(args[0]);
    String connector = args[1];
    MemoryMXBean mem = ManagementFactory.getMemoryMXBean();
    AtomicLong peak = new AtomicLong();
    Thread sampler =
        new Thread(
            () -> {
              while (true) {
                peak.accumulateAndGet(mem.getHeapMemoryUsage().getUsed(), Math::max);
                try {
                  Thread.sleep(50);
                } catch (InterruptedException e) {
                  return;
                }
              }
            });
    sampler.setDaemon(true);
    sampler.start();
    SparkSession spark =
        SparkSession.builder()
            .master("local[2]")
            .appName("tessera-memory-" + connector)
            .config("spark.ui.enabled", "false")
            .config("spark.driver.host", "127.0.0.1")
            .config("spark.driver.bindAddress", "127.0.0.1")
            .getOrCreate();
    spark.sparkContext().setLogLevel("WARN");
    Dataset<Row> df = JdbcBenchmark.customerRows(spark, rows);
    long found;
    switch (connector) {
      case "jdbc-postgresql", "jdbc-mariadb" -> {
        String url = args[2];
        String schema = "tessera_memory";
        boolean maria = connector.equals("jdbc-mariadb");
        try (Connection c = DriverManager.getConnection(url, args[3], args[4]);
            Statement st = c.createStatement()) {
          st.execute(
              maria
                  ? "DROP DATABASE IF EXISTS " + schema
                  : "DROP SCHEMA IF EXISTS " + schema + " CASCADE");
          st.execute(maria ? "CREATE DATABASE " + schema : "CREATE SCHEMA " + schema);
        }
        spark.conf().set("spark.sql.catalog.mem", "io.tessera.jdbc.JdbcCatalog");
        spark.conf().set("spark.sql.catalog.mem.url", url);
        spark.conf().set("spark.sql.catalog.mem.user", args[3]);
        spark.conf().set("spark.sql.catalog.mem.password", args[4]);
        df.writeTo("mem." + schema + ".rows").create();
        try (Connection c = DriverManager.getConnection(url, args[3], args[4]);
            Statement st = c.createStatement();
            ResultSet rs = st.executeQuery("SELECT COUNT(*) FROM " + schema + ".rows")) {
          rs.next();
          found = rs.getLong(1);
          st.execute(maria ? "DROP DATABASE " + schema : "DROP SCHEMA " + schema + " CASCADE");
        }
      }
      case "file" -> {
        spark.conf().set("spark.sql.catalog.mem", "io.tessera.file.FileCatalog");
        spark.conf().set("spark.sql.catalog.mem.warehouse", args[2]);
        spark.sql("CREATE NAMESPACE IF NOT EXISTS mem.m");
        df.writeTo("mem.m.rows").using("parquet").create();
        found = spark.table("mem.m.rows").count();
      }
      case "kafka" -> {
        df.selectExpr("CAST(id AS STRING) AS key", "to_json(struct(*)) AS value")
            .write()
            .format("tessera-kafka")
            .option("kafka.bootstrap.servers", args[2])
            .option("topic", args[3])
            .mode("append")
            .save();
        try (Admin admin = Admin.create(java.util.Map.of("bootstrap.servers", (Object) args[2]))) {
          var partitions =
              admin
                  .describeTopics(List.of(args[3]))
                  .allTopicNames()
                  .get()
                  .get(args[3])
                  .partitions();
          java.util.Map<TopicPartition, OffsetSpec> specs = new java.util.HashMap<>();
          partitions.forEach(
              pi -> specs.put(new TopicPartition(args[3], pi.partition()), OffsetSpec.latest()));
          found =
              admin.listOffsets(specs).all().get().values().stream()
                  .mapToLong(o -> o.offset())
                  .sum();
        }
      }
      default -> throw new IllegalArgumentException(connector);
    }
    spark.stop();
    System.out.println("MEMORY-RESULT " + connector + " " + found + " " + peak.get());
    System.exit(0);
  }

  private static String env(String name, String fallback) {
    String v = System.getenv(name);
    return v == null ? fallback : v;
  }
}
