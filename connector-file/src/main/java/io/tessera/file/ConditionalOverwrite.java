package io.tessera.file;

import io.tessera.file.log.AddFile;
import io.tessera.file.log.TableLog;
import io.tessera.file.log.TableMetadata;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import org.apache.spark.TaskContext;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.catalyst.InternalRow;
import org.apache.spark.sql.connector.expressions.Expression;
import org.apache.spark.sql.connector.expressions.Literal;
import org.apache.spark.sql.connector.expressions.NamedReference;
import org.apache.spark.sql.connector.expressions.filter.Predicate;
import org.apache.spark.sql.types.StructType;

/**
 * {@code overwrite(condition)} with a condition on columns other than partition columns: the rows
 * matching it are replaced, the others kept. The driver rewrites the files that may hold matching
 * rows (chosen by partitions and statistics) without those rows, in a Spark job whose tasks write
 * into the same write's staging folder; the commit then removes those files and adds the rewritten
 * ones together with the new rows, in one log entry.
 */
final class ConditionalOverwrite {
  private ConditionalOverwrite() {}

  /** Why {@code predicates} cannot be evaluated as a row condition, or null if they can. */
  static String unsupportedReason(Predicate[] predicates, StructType schema) {
    for (Predicate p : predicates) {
      String r = reason(p, schema);
      if (r != null) {
        return r;
      }
    }
    return null;
  }

  private static String reason(Predicate p, StructType schema) {
    switch (p.name()) {
      case "AND", "OR", "NOT" -> {
        for (Expression c : p.children()) {
          String r = reason((Predicate) c, schema);
          if (r != null) {
            return r;
          }
        }
        return null;
      }
      case "ALWAYS_TRUE", "ALWAYS_FALSE" -> {
        return null;
      }
      case "=", "<>", "<=>", "<", "<=", ">", ">=", "IN", "IS_NULL", "IS_NOT_NULL" -> {
        for (Expression c : p.children()) {
          if (c instanceof NamedReference ref) {
            if (ref.fieldNames().length != 1
                || FileWriteBuilder.indexOf(schema, ref.fieldNames()[0]) < 0) {
              return "column " + ref + " is not a top-level column of the table";
            }
          } else if (!(c instanceof Literal<?>)) {
            return "expression " + c + " is neither a column nor a literal";
          }
        }
        return null;
      }
      default -> {
        return "operator " + p.name() + " is not supported";
      }
    }
  }

  /** The predicates as Spark SQL text (columns quoted, literals typed), ANDed. */
  static String sql(List<Predicate> predicates) {
    List<String> parts = new ArrayList<>();
    for (Predicate p : predicates) {
      parts.add("(" + sql(p) + ")");
    }
    return parts.isEmpty() ? "true" : String.join(" AND ", parts);
  }

  private static String sql(Expression e) {
    if (e instanceof NamedReference ref) {
      return "`" + ref.fieldNames()[0].replace("`", "``") + "`";
    } else if (e instanceof Literal<?> l) {
      // The V2 literal holds Spark's internal value (UTF8String, days, micros...), as Literal does.
      return new org.apache.spark.sql.catalyst.expressions.Literal(l.value(), l.dataType()).sql();
    }
    Predicate p = (Predicate) e;
    Expression[] c = p.children();
    return switch (p.name()) {
      case "AND" -> "(" + sql(c[0]) + ") AND (" + sql(c[1]) + ")";
      case "OR" -> "(" + sql(c[0]) + ") OR (" + sql(c[1]) + ")";
      case "NOT" -> "NOT (" + sql(c[0]) + ")";
      case "ALWAYS_TRUE" -> "true";
      case "ALWAYS_FALSE" -> "false";
      case "IS_NULL" -> sql(c[0]) + " IS NULL";
      case "IS_NOT_NULL" -> sql(c[0]) + " IS NOT NULL";
      case "IN" -> {
        List<String> values = new ArrayList<>();
        for (int i = 1; i < c.length; i++) {
          values.add(sql(c[i]));
        }
        yield sql(c[0]) + " IN (" + String.join(", ", values) + ")";
      }
      default -> sql(c[0]) + " " + p.name() + " " + sql(c[1]);
    };
  }

  /**
   * Writes the rows of {@code files} for which {@code predicates} are not TRUE (false or NULL)
   * through {@code factory} (whose input columns are {@code input}); returns the files written.
   */
  static List<StagedFile> keepNonMatching(
      TableLog log,
      TableMetadata metadata,
      Collection<AddFile> files,
      List<Predicate> predicates,
      FileWriterFactory factory,
      StructType input) {
    if (files.isEmpty()) {
      return List.of();
    }
    SparkSession spark = SparkSession.active();
    String[] paths =
        files.stream()
            .map(f -> new org.apache.hadoop.fs.Path(log.root(), f.path()).toString())
            .toArray(String[]::new);
    List<String> columns = new ArrayList<>();
    for (String n : input.fieldNames()) {
      columns.add("`" + n.replace("`", "``") + "`");
    }
    Dataset<Row> kept =
        spark
            .read()
            .format(metadata.format())
            .schema(metadata.schema())
            .option("basePath", log.root().toString())
            .option("ignoreMissingFiles", "false")
            .option("ignoreCorruptFiles", "false")
            .load(paths)
            .where("NOT coalesce(" + sql(predicates) + ", false)")
            .selectExpr(columns.toArray(String[]::new));
    List<FileCommitMessage> messages =
        kept.queryExecution()
            .toRdd()
            .toJavaRDD()
            .mapPartitionsWithIndex(
                (index, rows) -> {
                  FileDataWriter w =
                      new FileDataWriter(factory, index, TaskContext.get().taskAttemptId());
                  try {
                    while (rows.hasNext()) {
                      InternalRow row = rows.next();
                      w.write(row);
                    }
                    return List.of(w.commit()).iterator();
                  } catch (Throwable t) {
                    w.abort();
                    throw t;
                  }
                },
                false)
            .collect();
    List<StagedFile> out = new ArrayList<>();
    messages.forEach(m -> out.addAll(m.files()));
    return out;
  }
}
