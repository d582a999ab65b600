package io.tessera.testing;

import static org.assertj.core.api.Assertions.assertThat;

import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.Test;

class SharedSparkIT {
  @Test
  void oneLocalSessionPerJvmWithOutputUnderTarget() {
    SparkSession spark = SharedSpark.session();

    assertThat(SharedSpark.session()).isSameAs(spark);
    assertThat(spark.sparkContext().master()).isEqualTo("local[2,2]");
    assertThat(spark.conf().get("spark.ui.enabled")).isEqualTo("false");
    assertThat(spark.conf().get("spark.sql.warehouse.dir").replaceFirst("^file:", ""))
        .startsWith(TestPaths.root().toString());
    assertThat(spark.range(0, 1000, 1, 4).selectExpr("sum(id)").first().getLong(0))
        .isEqualTo(499_500L);
  }
}
