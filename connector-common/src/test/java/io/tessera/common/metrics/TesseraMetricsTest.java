package io.tessera.common.metrics;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Arrays;
import org.apache.spark.sql.connector.metric.CustomMetric;
import org.apache.spark.sql.connector.metric.CustomTaskMetric;
import org.junit.jupiter.api.Test;

class TesseraMetricsTest {
  @Test
  void taskMetricsUseTheSupportedNames() {
    CustomTaskMetric[] values = TesseraMetrics.taskMetrics(3, 100);

    assertThat(values)
        .extracting(CustomTaskMetric::name)
        .containsExactly(TesseraMetrics.ROWS_WRITTEN, TesseraMetrics.BYTES_WRITTEN);
    assertThat(values).extracting(CustomTaskMetric::value).containsExactly(3L, 100L);
    assertThat(Arrays.stream(TesseraMetrics.supported()).map(CustomMetric::name))
        .containsExactly(
            TesseraMetrics.ROWS_WRITTEN,
            TesseraMetrics.BYTES_WRITTEN,
            TesseraMetrics.COMMIT_DURATION_MS);
  }

  @Test
  void metricsAggregateAsSumsAndHaveNoArgConstructors() throws Exception {
    for (CustomMetric m : TesseraMetrics.supported()) {
      CustomMetric viaReflection = m.getClass().getDeclaredConstructor().newInstance();
      assertThat(viaReflection.aggregateTaskMetrics(new long[] {3, 4})).isEqualTo("7");
    }
    assertThat(TesseraMetrics.driverMetrics(42)[0].value()).isEqualTo(42);
  }
}
