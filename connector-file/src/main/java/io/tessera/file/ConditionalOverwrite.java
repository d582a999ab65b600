package io.tessera.file;

import io.tessera.file.log.AddFile;
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

  /** The predicates as one Catalyst condition over the table's columns (by name). */
  static org.apache.spark.sql.catalyst.expressions.Expression condition(
      List<Predicate> predicates) {
    org.apache.spark.sql.catalyst.expressions.Expression out =
        org.apache.spark.sql.catalyst.expressions.Literal.TrueLiteral();
    for (Predicate p : predicates) {
      out = new org.apache.spark.sql.catalyst.expressions.And(out, catalyst(p));
    }
    return out;
  }

  /**
   * One V2 predicate (or operand) as a Catalyst expression: columns by name, literals with their
   * internal value and type as Spark translated them (no SQL text, so no re-parsing in the
   * session's time zone or string-escaping rules).
   */
  private static org.apache.spark.sql.catalyst.expressions.Expression catalyst(Expression e) {
    if (e instanceof NamedReference ref) {
      return new org.apache.spark.sql.catalyst.analysis.UnresolvedAttribute(
          scala.jdk.javaapi.CollectionConverters.asScala(List.of(ref.fieldNames()[0])).toSeq());
    } else if (e instanceof Literal<?> l) {
      return new org.apache.spark.sql.catalyst.expressions.Literal(l.value(), l.dataType());
    }
    Predicate p = (Predicate) e;
    Expression[] c = p.children();
    return switch (p.name()) {
      case "AND" ->
          new org.apache.spark.sql.catalyst.expressions.And(catalyst(c[0]), catalyst(c[1]));
      case "OR" -> new org.apache.spark.sql.catalyst.expressions.Or(catalyst(c[0]), catalyst(c[1]));
      case "NOT" -> new org.apache.spark.sql.catalyst.expressions.Not(catalyst(c[0]));
      case "ALWAYS_TRUE" -> org.apache.spark.sql.catalyst.expressions.Literal.TrueLiteral();
      case "ALWAYS_FALSE" -> org.apache.spark.sql.catalyst.expressions.Literal.FalseLiteral();
      case "IS_NULL" -> new org.apache.spark.sql.catalyst.expressions.IsNull(catalyst(c[0]));
      case "IS_NOT_NULL" -> new org.apache.spark.sql.catalyst.expressions.IsNotNull(catalyst(c[0]));
      case "IN" -> {
        List<org.apache.spark.sql.catalyst.expressions.Expression> values = new ArrayList<>();
        for (int i = 1; i < c.length; i++) {
          values.add(catalyst(c[i]));
        }
        yield new org.apache.spark.sql.catalyst.expressions.In(
            catalyst(c[0]), scala.jdk.javaapi.CollectionConverters.asScala(values).toSeq());
      }
      case "=" ->
          new org.apache.spark.sql.catalyst.expressions.EqualTo(catalyst(c[0]), catalyst(c[1]));
      case "<>" ->
          new org.apache.spark.sql.catalyst.expressions.Not(
              new org.apache.spark.sql.catalyst.expressions.EqualTo(
                  catalyst(c[0]), catalyst(c[1])));
      case "<=>" ->
          new org.apache.spark.sql.catalyst.expressions.EqualNullSafe(
              catalyst(c[0]), catalyst(c[1]));
      case "<" ->
          new org.apache.spark.sql.catalyst.expressions.LessThan(catalyst(c[0]), catalyst(c[1]));
      case "<=" ->
          new org.apache.spark.sql.catalyst.expressions.LessThanOrEqual(
              catalyst(c[0]), catalyst(c[1]));
      case ">" ->
          new org.apache.spark.sql.catalyst.expressions.GreaterThan(catalyst(c[0]), catalyst(c[1]));
      case ">=" ->
          new org.apache.spark.sql.catalyst.expressions.GreaterThanOrEqual(
              catalyst(c[0]), catalyst(c[1]));
      default -> throw new IllegalArgumentException("unsupported predicate " + p.name());
    };
  }

  /**
   * Writes the rows of {@code files} (of version {@code base} of {@code table}) for which {@code
   * predicates} are not TRUE (false or NULL) through {@code factory} (whose input columns are
   * {@code input}); returns the files written. The files are read through the table's own scan:
   * partition values from the log, a file retired meanwhile read from where it was retired.
   */
  static List<StagedFile> keepNonMatching(
      FileTable table,
      io.tessera.file.log.Snapshot base,
      Collection<AddFile> files,
      List<Predicate> predicates,
      FileWriterFactory factory,
      StructType input) {
    if (files.isEmpty()) {
      return List.of();
    }
    StructType schema = base.metadata().schema();
    org.apache.spark.sql.connector.catalog.Table affected =
        new org.apache.spark.sql.connector.catalog.SupportsRead() {
          @Override
          public org.apache.spark.sql.connector.read.ScanBuilder newScanBuilder(
              org.apache.spark.sql.util.CaseInsensitiveStringMap options) {
            return table.scanBuilder(base, schema, files, options);
          }

          @Override
          public String name() {
            return table.name() + " (files an overwrite rewrites)";
          }

          @Override
          @SuppressWarnings("deprecation")
          public StructType schema() {
            return schema;
          }

          @Override
          public java.util.Set<org.apache.spark.sql.connector.catalog.TableCapability>
              capabilities() {
            return java.util.Set.of(
                org.apache.spark.sql.connector.catalog.TableCapability.BATCH_READ);
          }
        };
    org.apache.spark.sql.classic.SparkSession spark =
        (org.apache.spark.sql.classic.SparkSession) SparkSession.active();
    Dataset<Row> all =
        org.apache.spark.sql.classic.Dataset$.MODULE$.ofRows(
            spark,
            org.apache.spark.sql.execution.datasources.v2.DataSourceV2Relation$.MODULE$.create(
                affected,
                scala.Option.empty(),
                scala.Option.empty(),
                org.apache.spark.sql.util.CaseInsensitiveStringMap.empty(),
                scala.Option.empty()));
    org.apache.spark.sql.Column matches =
        org.apache.spark.sql.classic.ExpressionUtils$.MODULE$.column(condition(predicates));
    List<org.apache.spark.sql.Column> columns = new ArrayList<>();
    for (String n : input.fieldNames()) {
      columns.add(
          org.apache.spark.sql.classic.ExpressionUtils$.MODULE$.column(
              new org.apache.spark.sql.catalyst.analysis.UnresolvedAttribute(
                  scala.jdk.javaapi.CollectionConverters.asScala(List.of(n)).toSeq())));
    }
    Dataset<Row> kept =
        all.where(
                org.apache.spark.sql.functions.not(
                    org.apache.spark.sql.functions.coalesce(
                        matches, org.apache.spark.sql.functions.lit(false))))
            .select(columns.toArray(org.apache.spark.sql.Column[]::new));
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
