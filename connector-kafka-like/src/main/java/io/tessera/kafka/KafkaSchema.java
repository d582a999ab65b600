package io.tessera.kafka;

import io.tessera.common.errors.TesseraErrors;
import java.io.Serializable;
import java.util.List;
import java.util.Locale;
import org.apache.kafka.common.errors.InvalidTopicException;
import org.apache.kafka.common.internals.Topic;
import org.apache.spark.sql.types.ArrayType;
import org.apache.spark.sql.types.DataType;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructField;
import org.apache.spark.sql.types.StructType;

/**
 * The columns a Kafka write accepts, like Spark's own Kafka sink: {@code value} (string or binary,
 * required), and optionally {@code key} (string or binary), {@code topic} (string), {@code
 * partition} (int), {@code headers} (array&lt;struct&lt;key: string, value: binary&gt;&gt;) and
 * {@code timestamp} (timestamp). Validated once, on the driver, before any task runs; the result
 * holds each column's position for the executors.
 */
final class KafkaSchema implements Serializable {
  private static final long serialVersionUID = 1L;

  static final StructType HEADER =
      new StructType().add("key", DataTypes.StringType).add("value", DataTypes.BinaryType);
  static final DataType HEADERS = DataTypes.createArrayType(HEADER);

  /** What a catalog table reports: the columns a Kafka record has. */
  static final StructType TABLE_SCHEMA =
      new StructType()
          .add("key", DataTypes.BinaryType)
          .add("value", DataTypes.BinaryType)
          .add("topic", DataTypes.StringType)
          .add("partition", DataTypes.IntegerType)
          .add("headers", HEADERS)
          .add("timestamp", DataTypes.TimestampType);

  private static final List<String> COLUMNS =
      List.of("key", "value", "topic", "partition", "headers", "timestamp");

  final int key;
  final boolean keyIsString;
  final int value;
  final boolean valueIsString;
  final int topic;
  final int partition;
  final int headers;
  final int timestamp;

  private KafkaSchema(StructType schema) {
    int k = -1;
    int v = -1;
    int t = -1;
    int p = -1;
    int h = -1;
    int ts = -1;
    boolean kString = false;
    boolean vString = false;
    StructField[] fields = schema.fields();
    for (int i = 0; i < fields.length; i++) {
      StructField f = fields[i];
      DataType type = f.dataType();
      switch (f.name().toLowerCase(Locale.ROOT)) {
        case "key" -> {
          kString = stringOrBinary(f);
          k = i;
        }
        case "value" -> {
          vString = stringOrBinary(f);
          v = i;
        }
        case "topic" -> {
          require(f, type.equals(DataTypes.StringType), "STRING", "cast(topic as string)");
          t = i;
        }
        case "partition" -> {
          require(f, type.equals(DataTypes.IntegerType), "INT", "cast(partition as int)");
          p = i;
        }
        case "headers" -> {
          require(
              f,
              type instanceof ArrayType a && HEADER.sameType(a.elementType()),
              HEADERS.sql(),
              "build it with array(struct(k as key, cast(v as binary) as value))");
          h = i;
        }
        case "timestamp" -> {
          require(f, type.equals(DataTypes.TimestampType), "TIMESTAMP", "cast(... as timestamp)");
          ts = i;
        }
        default ->
            throw TesseraErrors.schemaMismatch(
                "Column '"
                    + f.name()
                    + "' is not a Kafka record field; tessera-kafka writes only the columns "
                    + String.join(", ", COLUMNS)
                    + ": drop it or fold it into 'value' (e.g. to_json(struct(...)) as value)");
      }
    }
    if (v < 0) {
      throw TesseraErrors.schemaMismatch(
          "Column 'value' (STRING or BINARY) is required by tessera-kafka but the data has only "
              + String.join(", ", schema.fieldNames())
              + "; add it, e.g. to_json(struct(*)) as value");
    }
    this.key = k;
    this.keyIsString = kString;
    this.value = v;
    this.valueIsString = vString;
    this.topic = t;
    this.partition = p;
    this.headers = h;
    this.timestamp = ts;
  }

  /** Validates {@code schema} and records where each column is. */
  static KafkaSchema of(StructType schema) {
    return new KafkaSchema(schema);
  }

  private static boolean stringOrBinary(StructField f) {
    boolean isString = f.dataType().equals(DataTypes.StringType);
    require(
        f,
        isString || f.dataType().equals(DataTypes.BinaryType),
        "STRING or BINARY",
        "cast(" + f.name() + " as string) or serialize it, e.g. to_json(...)");
    return isString;
  }

  private static void require(StructField f, boolean ok, String expected, String fix) {
    if (!ok) {
      throw TesseraErrors.schemaMismatch(
          "Column '"
              + f.name()
              + "' has type "
              + f.dataType().sql()
              + " but tessera-kafka needs "
              + expected
              + "; use "
              + fix);
    }
  }

  /** Fails clearly when {@code topic} is not a legal Kafka topic name. */
  static void validateTopicName(String topic, String where) {
    try {
      Topic.validate(topic);
    } catch (InvalidTopicException e) {
      throw new io.tessera.common.errors.TesseraException(
          io.tessera.common.errors.TesseraError.INVALID_IDENTIFIER,
          where + " '" + topic + "' is not a valid Kafka topic name: " + e.getMessage());
    }
  }
}
