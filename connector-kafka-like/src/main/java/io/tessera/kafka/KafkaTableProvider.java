package io.tessera.kafka;

import java.util.Map;
import org.apache.spark.sql.connector.catalog.Table;
import org.apache.spark.sql.connector.catalog.TableProvider;
import org.apache.spark.sql.connector.expressions.Transform;
import org.apache.spark.sql.sources.DataSourceRegister;
import org.apache.spark.sql.types.StructType;
import org.apache.spark.sql.util.CaseInsensitiveStringMap;

/**
 * {@code df.write.format("tessera-kafka").option("kafka.bootstrap.servers", ...) .option("topic",
 * ...).mode("append").save()} and {@code writeStream.format("tessera-kafka")}.
 */
public class KafkaTableProvider implements TableProvider, DataSourceRegister {
  @Override
  public String shortName() {
    return "tessera-kafka";
  }

  @Override
  public StructType inferSchema(CaseInsensitiveStringMap options) {
    return KafkaSchema.TABLE_SCHEMA;
  }

  @Override
  public boolean supportsExternalMetadata() {
    return true;
  }

  @Override
  public Table getTable(
      StructType schema, Transform[] partitioning, Map<String, String> properties) {
    Map<String, String> options = new CaseInsensitiveStringMap(properties).asCaseSensitiveMap();
    String topic = new CaseInsensitiveStringMap(properties).get(KafkaWriteOptions.TOPIC.name());
    return new KafkaTable("tessera-kafka" + (topic == null ? "" : ":" + topic), topic, options);
  }
}
