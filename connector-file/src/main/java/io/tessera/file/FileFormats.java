package io.tessera.file;

import io.tessera.common.errors.TesseraError;
import io.tessera.common.errors.TesseraException;
import java.util.List;
import java.util.Locale;
import org.apache.spark.sql.execution.datasources.FileFormat;
import org.apache.spark.sql.execution.datasources.csv.CSVFileFormat;
import org.apache.spark.sql.execution.datasources.json.JsonFileFormat;
import org.apache.spark.sql.execution.datasources.orc.OrcFileFormat;
import org.apache.spark.sql.execution.datasources.parquet.ParquetFileFormat;
import org.apache.spark.sql.types.StructField;
import org.apache.spark.sql.types.StructType;

/** The formats a table can use, each backed by Spark's own file format (writer and reader). */
final class FileFormats {
  static final List<String> NAMES = List.of("parquet", "orc", "json", "csv");

  private FileFormats() {}

  static String normalize(String format) {
    String f = format == null ? "parquet" : format.trim().toLowerCase(Locale.ROOT);
    if (!NAMES.contains(f)) {
      throw new TesseraException(
          TesseraError.INVALID_OPTION_VALUE,
          "Option 'format' has value '"
              + format
              + "' but expects one of: "
              + String.join(", ", NAMES));
    }
    return f;
  }

  static FileFormat of(String format) {
    return switch (normalize(format)) {
      case "orc" -> new OrcFileFormat();
      case "json" -> new JsonFileFormat();
      case "csv" -> new CSVFileFormat();
      default -> new ParquetFileFormat();
    };
  }

  /** Fails before any task runs when {@code format} cannot store a column of {@code schema}. */
  static void checkSupported(String format, StructType dataSchema) {
    FileFormat f = of(format);
    for (StructField field : dataSchema.fields()) {
      if (!f.supportDataType(field.dataType())) {
        throw new TesseraException(
            TesseraError.UNSUPPORTED_TYPE,
            "Column '"
                + field.name()
                + "' has type "
                + field.dataType().sql()
                + ", which format "
                + format
                + " cannot store; use format parquet or orc, or serialize the column (e.g."
                + " to_json)");
      }
    }
  }
}
