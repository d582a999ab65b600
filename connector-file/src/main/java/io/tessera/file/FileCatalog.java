package io.tessera.file;

import io.tessera.common.errors.TesseraError;
import io.tessera.common.errors.TesseraException;
import io.tessera.common.procedures.CleanupProcedure;
import io.tessera.file.log.LogEntry;
import io.tessera.file.log.Snapshot;
import io.tessera.file.log.TableLog;
import io.tessera.file.log.TableMetadata;
import io.tessera.staging.StagingCatalog;
import io.tessera.staging.StagingSpi;
import java.io.FileNotFoundException;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.catalyst.analysis.NamespaceAlreadyExistsException;
import org.apache.spark.sql.catalyst.analysis.NoSuchNamespaceException;
import org.apache.spark.sql.catalyst.analysis.NoSuchTableException;
import org.apache.spark.sql.catalyst.analysis.NonEmptyNamespaceException;
import org.apache.spark.sql.catalyst.analysis.TableAlreadyExistsException;
import org.apache.spark.sql.connector.catalog.Identifier;
import org.apache.spark.sql.connector.catalog.NamespaceChange;
import org.apache.spark.sql.connector.catalog.ProcedureCatalog;
import org.apache.spark.sql.connector.catalog.SupportsNamespaces;
import org.apache.spark.sql.connector.catalog.Table;
import org.apache.spark.sql.connector.catalog.TableCatalog;
import org.apache.spark.sql.connector.catalog.TableChange;
import org.apache.spark.sql.connector.catalog.TableInfo;
import org.apache.spark.sql.connector.catalog.procedures.UnboundProcedure;
import org.apache.spark.sql.connector.expressions.IdentityTransform;
import org.apache.spark.sql.connector.expressions.Transform;
import org.apache.spark.sql.types.StructType;
import org.apache.spark.sql.util.CaseInsensitiveStringMap;

/**
 * Tables in a warehouse folder: {@code spark.sql.catalog.files=io.tessera.file.FileCatalog}, {@code
 * spark.sql.catalog.files.warehouse=/data/warehouse}. A namespace is a folder, a table is a folder
 * with a commit log: {@code <warehouse>/<namespace>/<table>/}. {@code CREATE TABLE files.db.t (...)
 * USING parquet PARTITIONED BY (day)} (or {@code TBLPROPERTIES (format='orc')}).
 */
public class FileCatalog implements StagingCatalog, SupportsNamespaces, ProcedureCatalog {
  private String name;
  private Path warehouse;
  private Map<String, String> options;

  @Override
  public void initialize(String name, CaseInsensitiveStringMap options) {
    this.name = name;
    String w = options.get("warehouse");
    if (w == null) {
      throw new TesseraException(
          TesseraError.MISSING_OPTION,
          "FileCatalog '"
              + name
              + "' needs a warehouse folder: set spark.sql.catalog."
              + name
              + ".warehouse");
    }
    this.warehouse = safeStore(new Path(w), "warehouse");
    Map<String, String> rest = new java.util.HashMap<>(options.asCaseSensitiveMap());
    rest.keySet().removeIf(k -> k.equalsIgnoreCase("warehouse"));
    FileWriteOptions.OPTIONS.parse(rest);
    this.options = Map.copyOf(rest);
  }

  @Override
  public String name() {
    return name;
  }

  Map<String, String> options() {
    return options;
  }

  @Override
  public StagingSpi<?> stagingSpi() {
    return new FileStaging(this);
  }

  @Override
  public String stagedName(Identifier ident) {
    return name + "." + ident;
  }

  private Configuration conf() {
    return SparkSession.active().sessionState().newHadoopConf();
  }

  private FileSystem fs() {
    try {
      return warehouse.getFileSystem(conf());
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private Path nsPath(String[] ns) {
    if (ns.length != 1) {
      throw new TesseraException(
          TesseraError.INVALID_IDENTIFIER,
          "tessera-file namespaces have exactly one part (a folder), got " + String.join(".", ns));
    }
    return new Path(warehouse, folderName("Namespace", ns[0]));
  }

  TableLog log(Identifier ident) {
    return new TableLog(
        new Path(nsPath(ident.namespace()), folderName("Table name", ident.name())), conf());
  }

  /** Object stores without an atomic create-if-absent, on which two commits could both win. */
  private static final java.util.Set<String> UNSAFE_SCHEMES =
      java.util.Set.of(
          "s3", "s3a", "s3n", "gs", "abfs", "abfss", "wasb", "wasbs", "oss", "cosn", "obs", "r2");

  /**
   * {@code path} when its file system can create a log entry atomically only if absent (local disk,
   * HDFS and other file systems with an atomic rename); refused for object stores.
   */
  static Path safeStore(Path path, String what) {
    String scheme = path.toUri().getScheme();
    if (scheme == null) {
      // An unqualified path lives on the default file system (fs.defaultFS), which may be one.
      scheme =
          org.apache.hadoop.fs.FileSystem.getDefaultUri(
                  org.apache.spark.sql.SparkSession.active().sessionState().newHadoopConf())
              .getScheme();
    }
    if (scheme != null && UNSAFE_SCHEMES.contains(scheme.toLowerCase(java.util.Locale.ROOT))) {
      throw new TesseraException(
          TesseraError.INVALID_OPTION_VALUE,
          "The "
              + what
              + " '"
              + path
              + "' is on an object store ("
              + scheme
              + ":), which has no atomic create-if-absent: two concurrent commits could both"
              + " succeed and one would be lost. tessera-file needs local disk, HDFS or another"
              + " file system with an atomic rename; nothing was written");
    }
    return path;
  }

  /**
   * {@code name} when it is safe as one folder below the warehouse; refused when it could name
   * another folder ({@code ..}, a path separator, a scheme or drive colon) or none.
   */
  static String folderName(String what, String name) {
    String problem = null;
    if (name.isEmpty() || name.isBlank()) {
      problem = "is empty";
    } else if (name.equals(".") || name.equals("..")) {
      problem = "would name the warehouse or its parent folder";
    } else if (name.indexOf('/') >= 0 || name.indexOf('\\') >= 0 || name.indexOf(':') >= 0) {
      problem = "contains a path separator or ':'";
    } else if (name.chars().anyMatch(c -> c < 0x20 || c == 0x7f)) {
      problem = "contains a control character";
    } else if (name.startsWith("_") || name.startsWith(".")) {
      problem = "starts with '_' or '.', which Hadoop and Spark treat as hidden";
    }
    if (problem != null) {
      throw new TesseraException(
          TesseraError.INVALID_IDENTIFIER,
          what
              + " '"
              + name
              + "' "
              + problem
              + ": a tessera-file namespace or table is one folder inside the warehouse. Use"
              + " letters, digits, '-' and '_' (not first), e.g. sales_2024");
    }
    return name;
  }

  // ---- namespaces ---------------------------------------------------------------------------

  @Override
  public String[][] listNamespaces() {
    return dirs(warehouse).stream().map(n -> new String[] {n}).toArray(String[][]::new);
  }

  @Override
  public String[][] listNamespaces(String[] namespace) throws NoSuchNamespaceException {
    if (!namespaceExists(namespace)) {
      throw new NoSuchNamespaceException(namespace);
    }
    return new String[0][];
  }

  @Override
  public boolean namespaceExists(String[] namespace) {
    try {
      return namespace.length == 1 && fs().isDirectory(nsPath(namespace));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  @Override
  public Map<String, String> loadNamespaceMetadata(String[] namespace)
      throws NoSuchNamespaceException {
    if (!namespaceExists(namespace)) {
      throw new NoSuchNamespaceException(namespace);
    }
    return Map.of("location", nsPath(namespace).toString());
  }

  @Override
  public void createNamespace(String[] namespace, Map<String, String> metadata)
      throws NamespaceAlreadyExistsException {
    if (namespaceExists(namespace)) {
      throw new NamespaceAlreadyExistsException(namespace);
    }
    try {
      fs().mkdirs(nsPath(namespace));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  @Override
  public void alterNamespace(String[] namespace, NamespaceChange... changes) {
    throw new UnsupportedOperationException("tessera-file namespaces have no properties to alter");
  }

  @Override
  public boolean dropNamespace(String[] namespace, boolean cascade)
      throws NoSuchNamespaceException, NonEmptyNamespaceException {
    if (!namespaceExists(namespace)) {
      throw new NoSuchNamespaceException(namespace);
    }
    if (!cascade && !dirs(nsPath(namespace)).isEmpty()) {
      throw new NonEmptyNamespaceException(namespace);
    }
    try {
      return fs().delete(nsPath(namespace), true);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  // ---- tables -------------------------------------------------------------------------------

  @Override
  public Identifier[] listTables(String[] namespace) throws NoSuchNamespaceException {
    if (!namespaceExists(namespace)) {
      throw new NoSuchNamespaceException(namespace);
    }
    return dirs(nsPath(namespace)).stream()
        .map(t -> Identifier.of(namespace, t))
        .filter(id -> log(id).exists())
        .toArray(Identifier[]::new);
  }

  @Override
  public Table loadTable(Identifier ident) throws NoSuchTableException {
    if (ident.namespace().length != 1) {
      throw new NoSuchTableException(ident);
    }
    TableLog log = log(ident);
    if (!log.exists()) {
      throw new NoSuchTableException(ident);
    }
    Snapshot snapshot = log.snapshot();
    return new FileTable(name + "." + ident, log, snapshot.metadata(), options)
        .loadedFrom(snapshot);
  }

  /** {@code SELECT ... FROM files.db.t VERSION AS OF 3}. */
  @Override
  public Table loadTable(Identifier ident, String version) throws NoSuchTableException {
    FileTable current = (FileTable) loadTable(ident);
    long v;
    try {
      v = Long.parseLong(version.trim());
    } catch (NumberFormatException e) {
      throw new TesseraException(
          TesseraError.INVALID_OPTION_VALUE,
          "VERSION AS OF '"
              + version
              + "' is not a version of "
              + name
              + "."
              + ident
              + ": versions are whole numbers 0.."
              + current.loadedVersion());
    }
    return travel(ident, current, v, "VERSION AS OF " + v);
  }

  /** {@code SELECT ... FROM files.db.t TIMESTAMP AS OF '2026-12-03 10:00:00'} (microseconds). */
  @Override
  public Table loadTable(Identifier ident, long timestamp) throws NoSuchTableException {
    FileTable current = (FileTable) loadTable(ident);
    long v = current.log().versionAt(Math.floorDiv(timestamp, 1000L));
    String asOf =
        "TIMESTAMP AS OF " + java.time.Instant.ofEpochMilli(Math.floorDiv(timestamp, 1000L));
    if (v < 0) {
      throw new TesseraException(
          TesseraError.INVALID_OPTION_VALUE,
          asOf + " is before table " + name + "." + ident + " was created; use a later time");
    }
    return travel(ident, current, v, asOf);
  }

  private FileTable travel(Identifier ident, FileTable current, long version, String asOf) {
    java.util.Optional<Snapshot> snap = current.log().snapshotAt(version);
    if (snap.isEmpty() || snap.get().metadata() == null) {
      throw new TesseraException(
          TesseraError.INVALID_OPTION_VALUE,
          asOf
              + ": table "
              + name
              + "."
              + ident
              + " has no such version; its versions are 0.."
              + current.loadedVersion());
    }
    return new FileTable(
            name + "." + ident + " " + asOf, current.log(), snap.get().metadata(), options)
        .travelledTo(snap.get());
  }

  @Override
  public Table createTable(Identifier ident, TableInfo info)
      throws TableAlreadyExistsException, NoSuchNamespaceException {
    if (!namespaceExists(ident.namespace())) {
      throw new NoSuchNamespaceException(ident.namespace());
    }
    TableMetadata metadata = metadataFor(info);
    TableLog log = log(ident);
    LogEntry create =
        new LogEntry(0, System.currentTimeMillis(), "create", metadata, List.of(), List.of(), null);
    if (!log.commit(create, null, 0)) {
      throw new TableAlreadyExistsException(ident);
    }
    return new FileTable(name + "." + ident, log, metadata, options);
  }

  /** The validated metadata of a new table defined by {@code info}. */
  static TableMetadata metadataFor(TableInfo info) {
    List<String> partitionColumns = new ArrayList<>();
    for (Transform t : info.partitions()) {
      if (!(t instanceof IdentityTransform id) || id.ref().fieldNames().length != 1) {
        throw new TesseraException(
            TesseraError.UNSUPPORTED_WRITE_MODE,
            "tessera-file tables are partitioned by plain columns only, not by " + t.describe());
      }
      partitionColumns.add(id.ref().fieldNames()[0]);
    }
    Map<String, String> props = info.properties();
    String format = props.getOrDefault("format", props.getOrDefault("provider", "parquet"));
    if (format.equalsIgnoreCase("tessera-file")) {
      format = "parquet";
    }
    if (props.containsKey(TableCatalog.PROP_LOCATION)) {
      throw new TesseraException(
          TesseraError.INVALID_OPTION_VALUE,
          "LOCATION '"
              + props.get(TableCatalog.PROP_LOCATION)
              + "' is not supported: a tessera-file catalog table is a folder of its warehouse."
              + " Remove LOCATION, or write to that folder with format(\"tessera-file\")"
              + ".option(\"path\", ...); nothing was created");
    }
    // Every other property is kept with the table (shown by DESCRIBE / SHOW TBLPROPERTIES).
    Map<String, String> kept = new java.util.TreeMap<>(props);
    kept.keySet()
        .removeAll(
            List.of(
                "format",
                TableCatalog.PROP_PROVIDER,
                TableCatalog.PROP_IS_MANAGED_LOCATION,
                TableCatalog.PROP_EXTERNAL));
    return FileWriteBuilder.newMetadata(info.schema(), partitionColumns, format, kept);
  }

  /**
   * {@code ALTER TABLE ... ADD COLUMNS} (nullable, after the existing columns: older files read
   * them as null) and {@code SET / UNSET TBLPROPERTIES}, each one log entry with the new metadata
   * and no files. Any other change is refused: it would make existing files unreadable or wrong.
   */
  @Override
  public Table alterTable(Identifier ident, TableChange... changes) throws NoSuchTableException {
    FileTable current = (FileTable) loadTable(ident);
    TableLog log = current.log();
    for (int attempt = 0; attempt < 20; attempt++) {
      Snapshot snap = log.snapshot();
      TableMetadata meta = snap.metadata();
      StructType schema = meta.schema();
      Map<String, String> props = new java.util.TreeMap<>(meta.properties());
      for (TableChange change : changes) {
        if (change instanceof TableChange.AddColumn add) {
          schema = addColumn(ident, schema, add);
        } else if (change instanceof TableChange.SetProperty set) {
          if (set.property().equalsIgnoreCase("format")) {
            throw alterRefused(ident, "changing the format (existing files keep theirs)");
          }
          props.put(set.property(), set.value());
        } else if (change instanceof TableChange.RemoveProperty remove) {
          props.remove(remove.property());
        } else {
          throw alterRefused(
              ident,
              change.getClass().getSimpleName()
                  + " (only ADD COLUMNS and SET/UNSET TBLPROPERTIES are supported; existing files"
                  + " would otherwise be read wrongly)");
        }
      }
      TableMetadata evolved =
          FileWriteBuilder.newMetadata(schema, meta.partitionColumns(), meta.format(), props);
      // Entry v + 1 may exist only once v's file moves are done (see Relocation).
      Relocation.rollForward(log, snap.version());
      LogEntry entry =
          new LogEntry(
              snap.version() + 1,
              System.currentTimeMillis(),
              "alter table",
              evolved,
              List.of(),
              List.of(),
              null);
      if (log.commit(entry, snap.apply(entry), 0)) {
        Snapshot after = snap.apply(entry);
        return new FileTable(name + "." + ident, log, evolved, options).loadedFrom(after);
      }
    }
    throw new TesseraException(
        TesseraError.COMMIT_FAILED,
        "Could not alter " + name + "." + ident + ": too many concurrent writers");
  }

  private StructType addColumn(Identifier ident, StructType schema, TableChange.AddColumn add) {
    String column = String.join(".", add.fieldNames());
    if (add.fieldNames().length != 1) {
      throw alterRefused(ident, "adding nested field " + column);
    }
    if (!add.isNullable()) {
      throw alterRefused(
          ident, "adding NOT NULL column " + column + " (older files have no value)");
    }
    if (add.position() != null) {
      throw alterRefused(
          ident, "adding column " + column + " at a position (columns are added after the others)");
    }
    if (add.defaultValue() != null) {
      throw alterRefused(
          ident, "adding column " + column + " with a DEFAULT (older files would read null)");
    }
    if (FileWriteBuilder.indexOf(schema, column) >= 0) {
      throw alterRefused(ident, "adding column " + column + ", which the table already has");
    }
    StructType out = schema.add(column, add.dataType(), true);
    if (add.comment() != null) {
      out =
          new StructType(
              java.util.Arrays.stream(out.fields())
                  .map(f -> f.name().equals(column) ? f.withComment(add.comment()) : f)
                  .toArray(org.apache.spark.sql.types.StructField[]::new));
    }
    return out;
  }

  private TesseraException alterRefused(Identifier ident, String what) {
    return new TesseraException(
        TesseraError.UNSUPPORTED_WRITE_MODE,
        "ALTER TABLE " + name + "." + ident + " is refused: " + what + ". Nothing was changed");
  }

  @Override
  public boolean dropTable(Identifier ident) {
    TableLog log = log(ident);
    if (!log.exists()) {
      return false;
    }
    try {
      return fs().delete(log.root(), true);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  @Override
  public void renameTable(Identifier from, Identifier to)
      throws NoSuchTableException, TableAlreadyExistsException {
    if (!log(from).exists()) {
      throw new NoSuchTableException(from);
    }
    Path target = log(to).root();
    try {
      if (fs().exists(target)) {
        throw new TableAlreadyExistsException(to);
      }
      fs().mkdirs(target.getParent());
      if (!fs().rename(log(from).root(), target)) {
        throw new IOException("rename failed");
      }
    } catch (IOException e) {
      throw new UncheckedIOException("Cannot rename " + from + " to " + to, e);
    }
  }

  private List<String> dirs(Path p) {
    try {
      List<String> out = new ArrayList<>();
      for (FileStatus s : fs().listStatus(p)) {
        String n = s.getPath().getName();
        if (s.isDirectory() && !n.startsWith("_") && !n.startsWith(".")) {
          out.add(n);
        }
      }
      out.sort(null);
      return out;
    } catch (FileNotFoundException e) {
      return List.of();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  // ---- procedures ---------------------------------------------------------------------------

  @Override
  public UnboundProcedure loadProcedure(Identifier ident) {
    if (java.util.Arrays.equals(ident.namespace(), new String[] {"system"})
        && ident.name().equals(FileHistoryProcedure.NAME)) {
      return new FileHistoryProcedure(this);
    }
    return CleanupProcedure.load(ident, "tessera-file", () -> new FileCleanupProcedure(this));
  }

  @Override
  public Identifier[] listProcedures(String[] namespace) {
    Identifier[] cleanup = CleanupProcedure.list(namespace);
    if (cleanup.length == 0) {
      return cleanup;
    }
    return new Identifier[] {cleanup[0], Identifier.of(namespace, FileHistoryProcedure.NAME)};
  }
}
