package io.tessera.it;

import static org.assertj.core.api.Assertions.assertThat;

import io.tessera.it.app.PackagesJourneyApp;
import io.tessera.testing.DatabaseKind;
import io.tessera.testing.KafkaBroker;
import io.tessera.testing.TestDatabase;
import java.io.IOException;
import java.io.OutputStream;
import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.jar.JarEntry;
import java.util.jar.JarOutputStream;
import java.util.stream.Collectors;
import java.util.stream.LongStream;
import java.util.stream.Stream;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.junit.jupiter.api.Test;

/**
 * The user journey of {@code spark-submit --packages}: a separate JVM runs Spark's own {@code
 * SparkSubmit} with a class path of Spark and its dependencies only (no Tessera, no JDBC driver, no
 * kafka-clients), resolves the three connectors with {@code --packages} the way a user does, and
 * runs an application jar that writes through every catalog (H2, PostgreSQL, MariaDB, files, Kafka)
 * and the Kafka provider, and reads the JDBC tables back. The test then checks the data itself.
 *
 * <p>{@code --packages} reads the local Maven repository {@code ~/.m2/repository} first. So that
 * the jars of this build are resolved, and never older installed ones, the submit JVM gets its own
 * {@code user.home} with a repository that holds this build's Tessera jars and POMs and links to
 * the real repository for everything else; its Ivy cache is new on every run.
 */
class PackagesJourneyIT {
  private static final String VERSION = "0.1.0-SNAPSHOT";
  private static final List<String> MODULES =
      List.of(
          "connector-common",
          "catalog-staging",
          "connector-jdbc",
          "connector-kafka-like",
          "connector-file");

  @Test
  void connectorsBroughtByPackagesWriteThroughEveryCatalog() throws Exception {
    Path work =
        Path.of(System.getProperty("tessera.test.tmp", "target")).resolve("packages-journey");
    deleteRecursively(work);
    Files.createDirectories(work);
    Path realRepo = realRepository();
    Path home = work.resolve("home");
    Path repo = home.resolve(".m2").resolve("repository");
    linkRepository(realRepo, repo);
    Path root = Path.of(System.getProperty("tessera.root", "..")).toAbsolutePath().normalize();
    publishThisBuild(root, repo);
    Path appJar = appJar(work.resolve("journey-app.jar"));

    try (TestDatabase pg = TestDatabase.create(DatabaseKind.POSTGRESQL);
        TestDatabase maria = TestDatabase.create(DatabaseKind.MARIADB)) {
      KafkaBroker broker = KafkaBroker.shared();
      String providerTopic = broker.newTopic("journey_provider", 2);
      String catalogTopic = broker.newTopic("journey_catalog", 2);
      String h2Url = "jdbc:h2:file:" + work.resolve("h2").resolve("journey");
      Path warehouse = work.resolve("warehouse");

      List<String> cmd = new ArrayList<>();
      cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
      cmd.addAll(sparkJvmFlags());
      cmd.addAll(List.of("-Xmx1g", "-Duser.home=" + home, "-cp", sparkOnlyClassPath(realRepo)));
      cmd.add("org.apache.spark.deploy.SparkSubmit");
      cmd.addAll(List.of("--master", "local[2]", "--name", "tessera-packages-journey"));
      cmd.addAll(List.of("--packages", packages()));
      Map<String, String> conf =
          new java.util.LinkedHashMap<>(
              Map.of(
                  "spark.jars.ivy",
                  work.resolve("ivy").toString(),
                  "spark.ui.enabled",
                  "false",
                  "spark.driver.host",
                  "127.0.0.1",
                  "spark.driver.bindAddress",
                  "127.0.0.1",
                  "spark.sql.warehouse.dir",
                  work.resolve("spark-warehouse").toString(),
                  "spark.local.dir",
                  work.resolve("spark-local").toString()));
      jdbcCatalog(conf, "h2", h2Url, "sa", "");
      jdbcCatalog(conf, "pg", pg.url(), pg.user(), pg.password());
      jdbcCatalog(conf, "maria", maria.url(), maria.user(), maria.password());
      conf.put("spark.sql.catalog.files", "io.tessera.file.FileCatalog");
      conf.put("spark.sql.catalog.files.warehouse", warehouse.toString());
      conf.put("spark.sql.catalog.kafka", "io.tessera.kafka.KafkaCatalog");
      conf.put("spark.sql.catalog.kafka.bootstrap.servers", broker.bootstrapServers());
      conf.forEach((k, v) -> cmd.addAll(List.of("--conf", k + "=" + v)));
      cmd.addAll(List.of("--class", PackagesJourneyApp.class.getName(), appJar.toString()));
      cmd.addAll(
          List.of(
              "h2:journey,pg:" + pg.schema() + ",maria:" + maria.schema(),
              "files",
              "kafka",
              providerTopic,
              catalogTopic,
              broker.bootstrapServers()));

      Path log = work.resolve("spark-submit.log");
      ProcessBuilder pb =
          new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(log.toFile());
      pb.environment()
          .keySet()
          .removeIf(k -> k.startsWith("SPARK_") || k.equals("HADOOP_CONF_DIR"));
      Process p = pb.start();
      boolean exited = p.waitFor(300, TimeUnit.SECONDS);
      if (!exited) {
        p.destroyForcibly().waitFor();
      }
      String out = Files.readString(log, StandardCharsets.UTF_8);
      assertThat(exited && p.exitValue() == 0)
          .as("spark-submit exited 0 within 300 s; its output ends with:%n%s", tail(out, 80))
          .isTrue();

      // What --packages resolved: the three connectors and their drivers, and kafka-clients without
      // compression libraries of its own (Spark's copies serve it).
      List<String> jars = listNames(work.resolve("ivy").resolve("jars"));
      assertThat(jars)
          .anyMatch(j -> j.startsWith("io.tessera_tessera-connector-jdbc_2.13-"))
          .anyMatch(j -> j.startsWith("io.tessera_tessera-connector-file_2.13-"))
          .anyMatch(j -> j.startsWith("io.tessera_tessera-connector-kafka-like_2.13-"))
          .anyMatch(j -> j.startsWith("org.postgresql_postgresql-"))
          .anyMatch(j -> j.startsWith("org.mariadb.jdbc_mariadb-java-client-"))
          .anyMatch(j -> j.startsWith("com.h2database_h2-"))
          .anyMatch(j -> j.startsWith("org.apache.kafka_kafka-clients-"))
          .noneMatch(j -> j.contains("zstd-jni") || j.contains("lz4") || j.contains("snappy"))
          .noneMatch(j -> j.contains("spark-sql") || j.contains("spark-core"));

      // The application's own account, then the data, read here independently.
      for (String table :
          List.of(
              "h2.journey.people",
              "pg." + pg.schema() + ".people",
              "maria." + maria.schema() + ".people",
              "files.journey.people")) {
        assertThat(out).contains("JOURNEY " + table + " rows=150");
      }
      assertThat(out).contains("JOURNEY kafka done");
      long expectedSum = LongStream.range(0, 150).sum();
      try (Connection c = DriverManager.getConnection(h2Url, "sa", "")) {
        for (String t : List.of("people", "people_copy")) {
          assertThat(countAndSum(c, "\"journey\".\"" + t + "\""))
              .containsExactly(150L, expectedSum);
        }
      }
      for (TestDatabase db : List.of(pg, maria)) {
        for (String t : List.of("people", "people_copy")) {
          try (Connection c = db.connect()) {
            assertThat(countAndSum(c, db.qualified(t)))
                .as("%s %s", db, t)
                .containsExactly(150L, expectedSum);
          }
        }
      }
      assertThat(keys(broker.readAll(providerTopic, "read_uncommitted")))
          .containsExactlyInAnyOrderElementsOf(range(0, 100));
      assertThat(keys(broker.readAll(catalogTopic, "read_committed")))
          .containsExactlyInAnyOrderElementsOf(range(100, 150));
      // The file table as this JVM's own Spark reads it through a second catalog instance.
      var spark = io.tessera.testing.SharedSpark.session();
      spark.conf().set("spark.sql.catalog.journey_files", "io.tessera.file.FileCatalog");
      spark.conf().set("spark.sql.catalog.journey_files.warehouse", warehouse.toString());
      List<Long> ids =
          spark
              .table("journey_files.journey.people")
              .select("id")
              .as(org.apache.spark.sql.Encoders.LONG())
              .collectAsList();
      assertThat(ids)
          .containsExactlyInAnyOrderElementsOf(LongStream.range(0, 150).boxed().toList());
    }
  }

  private static void jdbcCatalog(
      Map<String, String> conf, String name, String url, String user, String password) {
    String prefix = "spark.sql.catalog." + name;
    conf.put(prefix, "io.tessera.jdbc.JdbcCatalog");
    conf.put(prefix + ".url", url);
    if (!user.isEmpty()) {
      conf.put(prefix + ".user", user);
    }
    if (!password.isEmpty()) {
      conf.put(prefix + ".password", password);
    }
  }

  private static String packages() {
    return Stream.of("connector-jdbc", "connector-kafka-like", "connector-file")
        .map(m -> "io.tessera:tessera-" + m + "_2.13:" + VERSION)
        .collect(Collectors.joining(","));
  }

  private static List<Object> countAndSum(Connection c, String table) throws Exception {
    try (Statement st = c.createStatement();
        ResultSet rs = st.executeQuery("SELECT COUNT(*), SUM(" + idColumn(c) + ") FROM " + table)) {
      rs.next();
      return List.of(rs.getLong(1), rs.getLong(2));
    }
  }

  private static String idColumn(Connection c) throws Exception {
    return c.getMetaData().getIdentifierQuoteString().trim()
        + "id"
        + c.getMetaData().getIdentifierQuoteString().trim();
  }

  private static List<String> keys(List<ConsumerRecord<byte[], byte[]>> records) {
    return records.stream().map(r -> new String(r.key(), StandardCharsets.UTF_8)).toList();
  }

  private static List<String> range(int from, int to) {
    return LongStream.range(from, to).mapToObj(Long::toString).toList();
  }

  /** The real local Maven repository: where this JVM's Spark jar came from. */
  private static Path realRepository() {
    for (String entry : testClassPath()) {
      Path p = Path.of(entry);
      if (p.getFileName().toString().startsWith("spark-core_2.13-")) {
        // <repo>/org/apache/spark/spark-core_2.13/<v>/spark-core_2.13-<v>.jar
        return p.getParent().getParent().getParent().getParent().getParent().getParent();
      }
    }
    throw new IllegalStateException("spark-core is not on the test class path");
  }

  private static List<String> testClassPath() {
    String cp =
        System.getProperty("surefire.test.class.path", System.getProperty("java.class.path"));
    return Arrays.asList(cp.split(java.io.File.pathSeparator));
  }

  /**
   * Spark and its dependencies from the repository, without anything --packages must bring: no
   * Tessera, no JDBC driver, nothing of Kafka, no test libraries, no build output directories.
   */
  private static String sparkOnlyClassPath(Path realRepo) {
    List<String> excluded =
        List.of(
            "io/tessera/",
            "org/postgresql/",
            "org/mariadb/",
            "com/h2database/",
            "org/apache/kafka/",
            "org/junit/",
            "org/assertj/",
            "org/awaitility/",
            "org/opentest4j/");
    return testClassPath().stream()
        .filter(e -> e.endsWith(".jar"))
        .filter(e -> Path.of(e).toAbsolutePath().startsWith(realRepo))
        .filter(
            e -> {
              String rel =
                  realRepo.relativize(Path.of(e).toAbsolutePath()).toString().replace('\\', '/');
              return excluded.stream().noneMatch(rel::startsWith);
            })
        .collect(Collectors.joining(java.io.File.pathSeparator));
  }

  /** The module flags Spark needs, as this test JVM got them from the build. */
  private static List<String> sparkJvmFlags() {
    return ManagementFactory.getRuntimeMXBean().getInputArguments().stream()
        .filter(
            a ->
                a.startsWith("--add-opens")
                    || a.startsWith("--add-modules")
                    || a.startsWith("-XX:+IgnoreUnrecognizedVMOptions")
                    || a.startsWith("-Dio.netty.tryReflectionSetAccessible"))
        .toList();
  }

  /** A repository that links every group of the real one except this build's own artifacts. */
  private static void linkRepository(Path real, Path repo) throws IOException {
    Files.createDirectories(repo.resolve("io").resolve("tessera"));
    try (Stream<Path> groups = Files.list(real)) {
      for (Path g : groups.toList()) {
        if (!g.getFileName().toString().equals("io")) {
          Files.createSymbolicLink(repo.resolve(g.getFileName().toString()), g);
        }
      }
    }
    try (Stream<Path> groups = Files.list(real.resolve("io"))) {
      for (Path g : groups.toList()) {
        if (!g.getFileName().toString().equals("tessera")) {
          Files.createSymbolicLink(repo.resolve("io").resolve(g.getFileName().toString()), g);
        }
      }
    }
  }

  /** Lays out this build's jars and POMs (and the parent POM) as {@code mvn install} would. */
  private static void publishThisBuild(Path root, Path repo) throws IOException {
    Path tessera = repo.resolve("io").resolve("tessera");
    Path parentDir =
        Files.createDirectories(tessera.resolve("tessera-parent_2.13").resolve(VERSION));
    Files.copy(
        root.resolve("pom.xml"), parentDir.resolve("tessera-parent_2.13-" + VERSION + ".pom"));
    for (String module : MODULES) {
      String artifact = "tessera-" + module + "_2.13";
      Path jar = root.resolve(module).resolve("target").resolve(artifact + "-" + VERSION + ".jar");
      if (!Files.isRegularFile(jar)) {
        throw new IllegalStateException(
            jar
                + " is missing: this journey runs in `mvn verify` of the whole project, after"
                + " every module is packaged");
      }
      Path dir = Files.createDirectories(tessera.resolve(artifact).resolve(VERSION));
      Files.copy(jar, dir.resolve(artifact + "-" + VERSION + ".jar"));
      Files.copy(
          root.resolve(module).resolve("pom.xml"), dir.resolve(artifact + "-" + VERSION + ".pom"));
    }
  }

  /** The application jar: only the journey's own class. */
  private static Path appJar(Path jar) throws IOException {
    String name = PackagesJourneyApp.class.getName().replace('.', '/') + ".class";
    try (var in = PackagesJourneyApp.class.getClassLoader().getResourceAsStream(name);
        OutputStream out = Files.newOutputStream(jar);
        JarOutputStream jos = new JarOutputStream(out)) {
      jos.putNextEntry(new JarEntry(name));
      in.transferTo(jos);
      jos.closeEntry();
    }
    return jar;
  }

  private static List<String> listNames(Path dir) throws IOException {
    if (!Files.isDirectory(dir)) {
      return List.of();
    }
    try (Stream<Path> s = Files.list(dir)) {
      return s.map(p -> p.getFileName().toString()).sorted().toList();
    }
  }

  private static String tail(String text, int lines) {
    List<String> all = text.lines().toList();
    return String.join("\n", all.subList(Math.max(0, all.size() - lines), all.size()));
  }

  private static void deleteRecursively(Path dir) throws IOException {
    if (!Files.exists(dir, java.nio.file.LinkOption.NOFOLLOW_LINKS)) {
      return;
    }
    try (Stream<Path> walk = Files.walk(dir)) {
      // Files.walk does not follow the repository's symbolic links: only the links are deleted.
      for (Path p : walk.sorted(java.util.Comparator.reverseOrder()).toList()) {
        Files.delete(p);
      }
    }
  }
}
