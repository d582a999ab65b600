package io.tessera.file.log;

import java.util.List;
import java.util.Map;
import org.apache.spark.sql.types.DataType;
import org.apache.spark.sql.types.StructType;

/** What a table is: its schema (Spark JSON), partition columns, file format and properties. */
public record TableMetadata(
    String schemaJson,
    List<String> partitionColumns,
    String format,
    Map<String, String> properties) {

  public static TableMetadata of(
      StructType schema, List<String> partitionColumns, String format, Map<String, String> props) {
    return new TableMetadata(
        schema.json(), List.copyOf(partitionColumns), format, Map.copyOf(props));
  }

  public StructType schema() {
    return (StructType) DataType.fromJson(schemaJson);
  }
}
