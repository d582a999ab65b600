package io.tessera.file;

import io.tessera.common.errors.TesseraErrors;
import io.tessera.file.log.TableLog;
import java.util.Map;
import org.apache.hadoop.fs.Path;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.connector.catalog.Table;
import org.apache.spark.sql.connector.catalog.TableProvider;
import org.apache.spark.sql.connector.expressions.Transform;
import org.apache.spark.sql.sources.DataSourceRegister;
import org.apache.spark.sql.types.StructType;
import org.apache.spark.sql.util.CaseInsensitiveStringMap;

/**
 * {@code df.write.format("tessera-file").option("path", ...).mode("append").save()}, {@code
 * spark.read.format("tessera-file").load(path)} and {@code writeStream.format("tessera-file")}. The
 * first write to a new path creates the table (options {@code format}, {@code partitionBy}).
 */
public class FileTableProvider implements TableProvider, DataSourceRegister {
  @Override
  public String shortName() {
    return "tessera-file";
  }

  @Override
  public StructType inferSchema(CaseInsensitiveStringMap options) {
    return table(options.asCaseSensitiveMap()).schema();
  }

  @Override
  public boolean supportsExternalMetadata() {
    return true;
  }

  @Override
  public Table getTable(
      StructType schema, Transform[] partitioning, Map<String, String> properties) {
    return table(properties);
  }

  private static FileTable table(Map<String, String> properties) {
    CaseInsensitiveStringMap options = new CaseInsensitiveStringMap(properties);
    String path = options.get(FileWriteOptions.PATH.name());
    if (path == null) {
      throw TesseraErrors.missingOption("tessera-file", "path", FileWriteOptions.PATH.doc());
    }
    TableLog log =
        new TableLog(
            FileCatalog.safeStore(new Path(path), "path"),
            SparkSession.active().sessionState().newHadoopConf());
    if (!log.exists()) {
      return new FileTable("tessera-file:" + path, log, null, options.asCaseSensitiveMap());
    }
    io.tessera.file.log.Snapshot snapshot = log.snapshot();
    return new FileTable(
            "tessera-file:" + path, log, snapshot.metadata(), options.asCaseSensitiveMap())
        .loadedFrom(snapshot);
  }
}
