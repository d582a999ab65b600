package io.tessera.file.log;

import java.util.Collection;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;

/** The table's committed state at one version: metadata, live files, streaming progress. */
public final class Snapshot {
  private final long version;
  private final TableMetadata metadata;
  private final Map<String, AddFile> files;
  private final Map<String, Long> streaming;

  Snapshot(
      long version,
      TableMetadata metadata,
      Map<String, AddFile> files,
      Map<String, Long> streaming) {
    this.version = version;
    this.metadata = metadata;
    this.files = files;
    this.streaming = streaming;
  }

  static Snapshot empty() {
    return new Snapshot(-1, null, new LinkedHashMap<>(), new LinkedHashMap<>());
  }

  /** This snapshot with {@code entry} applied. */
  public Snapshot apply(LogEntry entry) {
    Map<String, AddFile> f = new LinkedHashMap<>(files);
    entry.remove().forEach(f::remove);
    entry.add().forEach(a -> f.put(a.path(), a));
    Map<String, Long> s = new LinkedHashMap<>(streaming);
    if (entry.streaming() != null) {
      s.merge(entry.streaming().queryId(), entry.streaming().epochId(), Math::max);
    }
    return new Snapshot(
        entry.version(), entry.metadata() != null ? entry.metadata() : metadata, f, s);
  }

  /** This snapshot with {@code entries} applied in order, copying the file map once. */
  Snapshot applyAll(java.util.List<LogEntry> entries) {
    if (entries.isEmpty()) {
      return this;
    }
    Map<String, AddFile> f = new LinkedHashMap<>(files);
    Map<String, Long> s = new LinkedHashMap<>(streaming);
    TableMetadata m = metadata;
    long v = version;
    for (LogEntry entry : entries) {
      entry.remove().forEach(f::remove);
      entry.add().forEach(a -> f.put(a.path(), a));
      if (entry.streaming() != null) {
        s.merge(entry.streaming().queryId(), entry.streaming().epochId(), Math::max);
      }
      if (entry.metadata() != null) {
        m = entry.metadata();
      }
      v = entry.version();
    }
    return new Snapshot(v, m, f, s);
  }

  public long version() {
    return version;
  }

  public TableMetadata metadata() {
    return metadata;
  }

  public Collection<AddFile> files() {
    return Collections.unmodifiableCollection(files.values());
  }

  public boolean contains(String path) {
    return files.containsKey(path);
  }

  /** Whether epoch {@code epochId} of streaming query {@code queryId} is already committed. */
  public boolean committed(String queryId, long epochId) {
    Long last = streaming.get(queryId);
    return last != null && last >= epochId;
  }

  Map<String, Long> streaming() {
    return Collections.unmodifiableMap(streaming);
  }
}
