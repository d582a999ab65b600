package io.tessera.common.options;

import io.tessera.common.redact.Redaction;
import java.io.Serializable;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

/**
 * Validated option values. Serializable, so a writer factory can carry it to executors; its {@link
 * #toString()} never shows a secret.
 */
public final class ParsedOptions implements Serializable {
  private static final long serialVersionUID = 1L;

  private final OptionSet declared;
  private final Map<String, Object> values;
  private final Set<String> explicitlySet;
  private final Map<String, String> passThrough;

  ParsedOptions(
      OptionSet declared,
      Map<String, Object> values,
      Set<String> explicitlySet,
      Map<String, String> passThrough) {
    this.declared = declared;
    this.values = values;
    this.explicitlySet = Set.copyOf(explicitlySet);
    this.passThrough = passThrough;
  }

  /** The value of {@code spec}: the given one, else its default (null when it has none). */
  @SuppressWarnings("unchecked")
  public <T> T get(OptionSpec<T> spec) {
    String key = spec.name().toLowerCase(Locale.ROOT);
    if (declared.spec(key) == null) {
      throw new IllegalArgumentException(
          spec.name() + " is not an option of " + declared.connector());
    }
    return (T) values.get(key);
  }

  /** Whether the user gave {@code spec} rather than relying on its default. */
  public boolean isSet(OptionSpec<?> spec) {
    return explicitlySet.contains(spec.name().toLowerCase(Locale.ROOT));
  }

  /** Pass-through settings under {@code prefix}, with the prefix removed. */
  public Map<String, String> withPrefix(String prefix) {
    String p = prefix.toLowerCase(Locale.ROOT);
    Map<String, String> out = new LinkedHashMap<>();
    passThrough.forEach(
        (k, v) -> {
          if (k.toLowerCase(Locale.ROOT).startsWith(p)) {
            out.put(k.substring(p.length()), v);
          }
        });
    return Collections.unmodifiableMap(out);
  }

  /** Every secret value given, so messages from third parties can be scrubbed of them. */
  public List<String> secretValues() {
    List<String> out = new ArrayList<>();
    values.forEach(
        (k, v) -> {
          if (v != null && declared.spec(k).isSecret()) {
            out.add(String.valueOf(v));
          }
        });
    passThrough.forEach(
        (k, v) -> {
          if (v != null && Redaction.isSecretKey(k)) {
            out.add(v);
          }
        });
    return out;
  }

  /** The options the user set, secrets redacted, in a stable order: for plan strings. */
  public Map<String, String> describe() {
    Map<String, String> out = new TreeMap<>();
    for (String key : explicitlySet) {
      OptionSpec<?> spec = declared.spec(key);
      Object v = values.get(key);
      out.put(
          spec.name(),
          spec.isSecret()
              ? Redaction.REDACTED
              : v instanceof Enum<?> e ? OptionSpec.optionText(e) : Redaction.redactText(str(v)));
    }
    out.putAll(Redaction.redactMap(passThrough));
    return out;
  }

  private static String str(Object v) {
    return String.valueOf(v);
  }

  @Override
  public String toString() {
    return declared.connector() + " options " + describe();
  }
}
