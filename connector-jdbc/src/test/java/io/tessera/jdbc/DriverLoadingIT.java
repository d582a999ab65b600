package io.tessera.jdbc;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.tessera.testing.DatabaseKind;
import io.tessera.testing.Names;
import io.tessera.testing.SharedSpark;
import io.tessera.testing.TestDatabase;
import java.sql.Driver;
import java.sql.DriverManager;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.Test;

/**
 * With {@code spark-submit --packages} the JDBC driver lives in Spark's user class loader, which
 * {@link DriverManager} does not search. Reproduced here by removing every driver for the URL from
 * {@code DriverManager}: creating and writing a table through the catalog must still work, because
 * Tessera loads the driver class itself. (Spark's reader gets the driver class name as its {@code
 * driver} option and registers it through its own {@code DriverRegistry}; the end-to-end {@code
 * --packages} journey belongs to integration-tests.)
 */
class DriverLoadingIT {
  @Test
  void catalogWritesAndReadsWhenDriverManagerDoesNotKnowTheDriver() throws Exception {
    SparkSession spark = SharedSpark.session();
    try (TestDatabase db = TestDatabase.create(DatabaseKind.H2)) {
      String catalog = Names.unique("cat");
      JdbcContractIT.registerCatalog(catalog, db.url(), db.user(), db.password());
      String t = catalog + "." + db.schema() + ".events";
      List<Driver> removed = new ArrayList<>();
      for (Driver d : Collections.list(DriverManager.getDrivers())) {
        if (d.acceptsURL(db.url())) {
          DriverManager.deregisterDriver(d);
          removed.add(d);
        }
      }
      try {
        assertThat(removed).isNotEmpty();
        assertThatThrownBy(() -> DriverManager.getConnection(db.url(), "sa", ""))
            .hasMessageContaining("No suitable driver");

        spark.sql("CREATE TABLE " + t + " (id BIGINT, twice BIGINT)");
        spark.range(0, 20, 1, 2).selectExpr("id", "id * 2 as twice").writeTo(t).append();
        spark.range(20, 25, 1, 1).selectExpr("id", "id * 2 as twice").writeTo(t).append();
      } finally {
        for (Driver d : removed) {
          DriverManager.registerDriver(d);
        }
      }
      assertThat(spark.table(t).count()).isEqualTo(25);
      assertThat(spark.table(t).selectExpr("sum(twice)").first().getLong(0))
          .isEqualTo(2L * (24 * 25 / 2));
    }
  }
}
