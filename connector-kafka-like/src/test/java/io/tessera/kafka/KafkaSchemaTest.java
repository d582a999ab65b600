package io.tessera.kafka;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.tessera.testing.Readme;
import java.util.Map;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.junit.jupiter.api.Test;

class KafkaSchemaTest {
  @Test
  void recordsWhereEachKafkaFieldIs() {
    KafkaSchema s =
        KafkaSchema.of(
            new StructType()
                .add("Value", DataTypes.BinaryType)
                .add("key", DataTypes.StringType)
                .add("headers", KafkaSchema.HEADERS));
    assertThat(s.value).isZero();
    assertThat(s.valueIsString).isFalse();
    assertThat(s.key).isEqualTo(1);
    assertThat(s.keyIsString).isTrue();
    assertThat(s.headers).isEqualTo(2);
    assertThat(s.topic).isEqualTo(-1);
    assertThat(s.partition).isEqualTo(-1);
  }

  @Test
  void wrongHeaderTypeNamesTheExpectedOne() {
    assertThatThrownBy(
            () ->
                KafkaSchema.of(
                    new StructType()
                        .add("value", DataTypes.StringType)
                        .add(
                            "headers",
                            DataTypes.createMapType(DataTypes.StringType, DataTypes.StringType))))
        .hasMessageContaining(
            "Column 'headers' has type MAP<STRING, STRING> but tessera-kafka needs ARRAY<STRUCT<key: STRING, value: BINARY>>");
  }

  @Test
  void producerConfigLayersUserSettingsOverDefaults() {
    var parsed =
        KafkaWriteOptions.OPTIONS.parse(
            Map.of(
                "bootstrap.servers",
                "h:1",
                "kafka.linger.ms",
                "0",
                "kafka.compression.type",
                "zstd"));
    Map<String, Object> config = KafkaWriteOptions.producerConfig(parsed);
    assertThat(config)
        .containsEntry("bootstrap.servers", "h:1")
        .containsEntry("linger.ms", "0")
        .containsEntry("compression.type", "zstd")
        .containsEntry("acks", "all")
        .containsEntry("enable.idempotence", "true")
        .containsEntry("batch.size", "262144");
    assertThatThrownBy(
            () -> KafkaWriteOptions.producerConfig(KafkaWriteOptions.OPTIONS.parse(Map.of())))
        .hasMessageContaining("set option 'bootstrap.servers'");
  }

  @Test
  void readmeOptionTableMatchesTheDeclaredOptions() throws Exception {
    assertThat(Readme.section("kafka-options"))
        .isEqualTo(KafkaWriteOptions.OPTIONS.markdownTable());
  }
}
