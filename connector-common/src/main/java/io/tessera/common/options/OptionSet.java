package io.tessera.common.options;

import io.tessera.common.errors.TesseraErrors;
import java.io.Serializable;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import org.apache.spark.sql.util.CaseInsensitiveStringMap;

/**
 * The options one connector accepts, declared once. Parsing checks every given key: a declared
 * option is parsed and validated, a key under a declared pass-through prefix (such as {@code
 * kafka.} for producer settings) is kept as text, a key Spark itself adds (such as {@code
 * checkpointLocation}) is ignored, and anything else fails naming the nearest valid option.
 */
public final class OptionSet implements Serializable {
  private static final long serialVersionUID = 1L;

  private final String connector;
  private final Map<String, OptionSpec<?>> specs;
  private final Map<String, String> prefixes;
  private final Set<String> ignored;

  private OptionSet(
      String connector,
      Map<String, OptionSpec<?>> specs,
      Map<String, String> prefixes,
      Set<String> ignored) {
    this.connector = connector;
    this.specs = specs;
    this.prefixes = prefixes;
    this.ignored = ignored;
  }

  public static Builder builder(String connector) {
    return new Builder(connector);
  }

  public String connector() {
    return connector;
  }

  public List<OptionSpec<?>> specs() {
    return List.copyOf(specs.values());
  }

  /** Pass-through prefixes (lower case) and what they carry. */
  public Map<String, String> prefixes() {
    return Collections.unmodifiableMap(prefixes);
  }

  /** Parses and validates {@code raw} (keys are case-insensitive). */
  public ParsedOptions parse(Map<String, String> raw) {
    Map<String, String> given =
        raw instanceof CaseInsensitiveStringMap ci ? ci.asCaseSensitiveMap() : raw;
    Map<String, String> texts = new LinkedHashMap<>();
    Map<String, String> passThrough = new LinkedHashMap<>();
    for (Map.Entry<String, String> e : given.entrySet()) {
      String key = e.getKey().toLowerCase(Locale.ROOT);
      if (specs.containsKey(key)) {
        texts.put(key, e.getValue());
      } else if (matchingPrefix(key) != null) {
        passThrough.put(e.getKey(), e.getValue());
      } else if (!ignored.contains(key)) {
        throw TesseraErrors.unknownOption(
            connector, e.getKey(), nearest(key), specNamesAndPrefixes());
      }
    }
    Map<String, Object> values = new LinkedHashMap<>();
    for (OptionSpec<?> spec : specs.values()) {
      String key = spec.name().toLowerCase(Locale.ROOT);
      String text = texts.get(key);
      if (text != null) {
        values.put(key, spec.parse(text));
      } else if (spec.isRequired()) {
        throw TesseraErrors.missingOption(connector, spec.name(), spec.doc());
      } else if (spec.defaultValue() != null) {
        values.put(key, spec.defaultValue());
      }
    }
    return new ParsedOptions(this, values, texts.keySet(), passThrough);
  }

  String matchingPrefix(String lowerKey) {
    for (String p : prefixes.keySet()) {
      if (lowerKey.startsWith(p) && lowerKey.length() > p.length()) {
        return p;
      }
    }
    return null;
  }

  OptionSpec<?> spec(String lowerName) {
    return specs.get(lowerName);
  }

  private List<String> specNamesAndPrefixes() {
    List<String> names = new ArrayList<>();
    specs.values().forEach(s -> names.add(s.name()));
    prefixes.keySet().forEach(p -> names.add(p + "*"));
    return names;
  }

  /** The declared option closest to {@code key}, or null when none is plausibly meant. */
  String nearest(String key) {
    String best = null;
    int bestDistance = Integer.MAX_VALUE;
    for (OptionSpec<?> spec : specs.values()) {
      String candidate = spec.name().toLowerCase(Locale.ROOT);
      int d = EditDistance.between(key, candidate);
      if (d < bestDistance) {
        bestDistance = d;
        best = spec.name();
      }
    }
    for (String prefix : prefixes.keySet()) {
      if (key.startsWith(prefix.substring(0, prefix.length() - 1))) {
        return prefix + "<setting>";
      }
    }
    int allowed = Math.max(2, key.length() / 3);
    return bestDistance <= allowed ? best : null;
  }

  /** The option table the README shows for this connector (Markdown). */
  public String markdownTable() {
    StringBuilder sb =
        new StringBuilder("| option | type | default | meaning |\n|---|---|---|---|\n");
    for (OptionSpec<?> s : specs.values()) {
      sb.append("| `")
          .append(s.name())
          .append("` | ")
          .append(s.typeName())
          .append(" | ")
          .append(s.defaultText())
          .append(" | ")
          .append(s.doc())
          .append(s.isSecret() ? " (secret: never printed)" : "")
          .append(" |\n");
    }
    prefixes.forEach(
        (p, doc) ->
            sb.append("| `").append(p).append("*` | string | | ").append(doc).append(" |\n"));
    return sb.toString();
  }

  /** Declares a connector's options. */
  public static final class Builder {
    private final String connector;
    private final Map<String, OptionSpec<?>> specs = new LinkedHashMap<>();
    private final Map<String, String> prefixes = new LinkedHashMap<>();
    private final Set<String> ignored = new LinkedHashSet<>();

    private Builder(String connector) {
      this.connector = connector;
    }

    public Builder add(OptionSpec<?>... options) {
      for (OptionSpec<?> o : options) {
        String key = o.name().toLowerCase(Locale.ROOT);
        if (specs.putIfAbsent(key, o) != null) {
          throw new IllegalStateException("Option declared twice: " + o.name());
        }
      }
      return this;
    }

    /** Keys starting with {@code prefix} are passed through as text to the target system. */
    public Builder passThroughPrefix(String prefix, String doc) {
      prefixes.put(prefix.toLowerCase(Locale.ROOT), doc);
      return this;
    }

    /** Keys Spark adds on its own (e.g. {@code path}, {@code checkpointLocation}). */
    public Builder ignore(String... keys) {
      for (String k : keys) {
        ignored.add(k.toLowerCase(Locale.ROOT));
      }
      return this;
    }

    public OptionSet build() {
      return new OptionSet(
          connector,
          Collections.unmodifiableMap(new LinkedHashMap<>(specs)),
          new LinkedHashMap<>(prefixes),
          Set.copyOf(ignored));
    }
  }
}
