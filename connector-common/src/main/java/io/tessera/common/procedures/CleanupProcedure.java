package io.tessera.common.procedures;

import java.util.Arrays;
import java.util.Iterator;
import java.util.List;
import java.util.function.Supplier;
import org.apache.spark.sql.catalyst.InternalRow;
import org.apache.spark.sql.catalyst.expressions.GenericInternalRow;
import org.apache.spark.sql.connector.catalog.Identifier;
import org.apache.spark.sql.connector.catalog.procedures.BoundProcedure;
import org.apache.spark.sql.connector.catalog.procedures.ProcedureParameter;
import org.apache.spark.sql.connector.catalog.procedures.UnboundProcedure;
import org.apache.spark.sql.connector.read.LocalScan;
import org.apache.spark.sql.connector.read.Scan;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.apache.spark.unsafe.types.UTF8String;

/**
 * The {@code CALL <catalog>.system.cleanup(<target> => '...', older_than_minutes => 60)} procedure
 * every Tessera catalog offers: it removes what crashed writes left behind in one target and
 * returns one row per removed object. Subclasses say what the target is and how to clean it; only
 * objects older than the threshold may be removed, so writes still running are never touched.
 */
public abstract class CleanupProcedure implements UnboundProcedure, BoundProcedure {
  public static final String NAME = "cleanup";
  private static final String[] NAMESPACE = {"system"};

  private final String targetParameter;
  private final String targetDoc;
  private final StructType result;
  private final String description;

  protected CleanupProcedure(
      String targetParameter, String targetDoc, String resultColumn, String description) {
    this.targetParameter = targetParameter;
    this.targetDoc = targetDoc;
    this.result = new StructType().add(resultColumn, DataTypes.StringType, false);
    this.description = description;
  }

  /** Removes leftovers of crashed writes in {@code target} older than the threshold. */
  protected abstract List<String> cleanup(String target, int olderThanMinutes);

  @Override
  public String name() {
    return NAME;
  }

  @Override
  public String description() {
    return description;
  }

  @Override
  public BoundProcedure bind(StructType inputType) {
    return this;
  }

  @Override
  public ProcedureParameter[] parameters() {
    return new ProcedureParameter[] {
      ProcedureParameter.in(targetParameter, DataTypes.StringType).comment(targetDoc).build(),
      ProcedureParameter.in("older_than_minutes", DataTypes.IntegerType)
          .defaultValue("60")
          .comment("only what was last changed at least this long ago is removed")
          .build()
    };
  }

  @Override
  public boolean isDeterministic() {
    return false;
  }

  @Override
  public Iterator<Scan> call(InternalRow input) {
    List<String> removed =
        cleanup(input.getUTF8String(0).toString(), input.isNullAt(1) ? 60 : input.getInt(1));
    InternalRow[] rows =
        removed.stream()
            .map(r -> (InternalRow) new GenericInternalRow(new Object[] {UTF8String.fromString(r)}))
            .toArray(InternalRow[]::new);
    return result(rows, result);
  }

  /** A procedure's result: {@code rows} of {@code schema}, as the one scan Spark reads. */
  public static Iterator<Scan> result(InternalRow[] rows, StructType schema) {
    Scan scan =
        new LocalScan() {
          @Override
          public InternalRow[] rows() {
            return rows;
          }

          @Override
          public StructType readSchema() {
            return schema;
          }
        };
    return List.of(scan).iterator();
  }

  /** {@code ProcedureCatalog.loadProcedure} for a catalog whose only procedure is cleanup. */
  public static UnboundProcedure load(
      Identifier ident, String connector, Supplier<? extends CleanupProcedure> procedure) {
    if (Arrays.equals(ident.namespace(), NAMESPACE) && ident.name().equals(NAME)) {
      return procedure.get();
    }
    throw new UnsupportedOperationException(
        connector + " has no procedure " + ident + "; available: system." + NAME);
  }

  /** {@code ProcedureCatalog.listProcedures} for a catalog whose only procedure is cleanup. */
  public static Identifier[] list(String[] namespace) {
    return Arrays.equals(namespace, NAMESPACE)
        ? new Identifier[] {Identifier.of(namespace, NAME)}
        : new Identifier[0];
  }
}
