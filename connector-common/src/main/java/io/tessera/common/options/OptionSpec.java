package io.tessera.common.options;

import io.tessera.common.errors.TesseraErrors;
import io.tessera.common.redact.Redaction;
import java.io.Serializable;
import java.util.Arrays;
import java.util.Locale;
import java.util.Objects;
import java.util.function.Function;
import java.util.stream.Collectors;

/**
 * One declared option: its name, type, default, one-line documentation and whether its value is a
 * secret. Each connector declares its options once, as constants, and reads them only through
 * {@link ParsedOptions#get(OptionSpec)}; the README's option tables are checked against these
 * declarations.
 */
public final class OptionSpec<T> implements Serializable {
  private static final long serialVersionUID = 1L;

  /** Parses one option's raw text; throws {@link IllegalArgumentException} when it is malformed. */
  @FunctionalInterface
  public interface Parser<T> extends Function<String, T>, Serializable {}

  private final String name;
  private final String typeName;
  private final T defaultValue;
  private final String doc;
  private final boolean secret;
  private final boolean required;
  private final Parser<T> parser;

  private OptionSpec(
      String name,
      String typeName,
      T defaultValue,
      String doc,
      boolean secret,
      boolean required,
      Parser<T> parser) {
    this.name = Objects.requireNonNull(name, "name");
    this.typeName = typeName;
    this.defaultValue = defaultValue;
    this.doc = doc;
    this.secret = secret;
    this.required = required;
    this.parser = parser;
  }

  public static OptionSpec<String> string(String name, String defaultValue, String doc) {
    return new OptionSpec<>(name, "string", defaultValue, doc, false, false, s -> s);
  }

  public static OptionSpec<Boolean> bool(String name, boolean defaultValue, String doc) {
    return new OptionSpec<>(
        name,
        "boolean",
        defaultValue,
        doc,
        false,
        false,
        s -> {
          String v = s.trim().toLowerCase(Locale.ROOT);
          if (v.equals("true") || v.equals("false")) {
            return Boolean.valueOf(v);
          }
          throw new IllegalArgumentException("true or false");
        });
  }

  /** A whole number in {@code [min, max]}. */
  public static OptionSpec<Long> longInRange(
      String name, long defaultValue, long min, long max, String doc) {
    String expected = "a whole number between " + min + " and " + max;
    return new OptionSpec<>(
        name,
        "long",
        defaultValue,
        doc,
        false,
        false,
        s -> {
          long v;
          try {
            v = Long.parseLong(s.trim());
          } catch (NumberFormatException e) {
            throw new IllegalArgumentException(expected, e);
          }
          if (v < min || v > max) {
            throw new IllegalArgumentException(expected);
          }
          return v;
        });
  }

  /** A whole number in {@code [min, max]}. */
  public static OptionSpec<Integer> intInRange(
      String name, int defaultValue, int min, int max, String doc) {
    OptionSpec<Long> asLong = longInRange(name, defaultValue, min, max, doc);
    return new OptionSpec<>(
        name, "int", defaultValue, doc, false, false, s -> asLong.parser.apply(s).intValue());
  }

  /**
   * One of an enum's constants, written in lower case with dashes ({@code AT_LEAST_ONCE} is {@code
   * at-least-once}).
   */
  public static <E extends Enum<E>> OptionSpec<E> choice(
      String name, Class<E> type, E defaultValue, String doc) {
    String allowed =
        Arrays.stream(type.getEnumConstants())
            .map(OptionSpec::optionText)
            .collect(Collectors.joining(", "));
    return new OptionSpec<>(
        name,
        "one of: " + allowed,
        defaultValue,
        doc,
        false,
        false,
        s -> {
          String v = s.trim();
          for (E e : type.getEnumConstants()) {
            if (optionText(e).equalsIgnoreCase(v) || e.name().equalsIgnoreCase(v)) {
              return e;
            }
          }
          throw new IllegalArgumentException("one of: " + allowed);
        });
  }

  /** How an enum constant is written in an option value. */
  public static String optionText(Enum<?> e) {
    return e.name().toLowerCase(Locale.ROOT).replace('_', '-');
  }

  /** This option, but its value is never printed. */
  public OptionSpec<T> secret() {
    return new OptionSpec<>(name, typeName, defaultValue, doc, true, required, parser);
  }

  /** This option, but it must be given. */
  public OptionSpec<T> required() {
    return new OptionSpec<>(name, typeName, null, doc, secret, true, parser);
  }

  public String name() {
    return name;
  }

  public String typeName() {
    return typeName;
  }

  public T defaultValue() {
    return defaultValue;
  }

  public String doc() {
    return doc;
  }

  public boolean isSecret() {
    return secret || Redaction.isSecretKey(name);
  }

  public boolean isRequired() {
    return required;
  }

  /** Parses {@code raw}; a malformed value fails naming this option, the value and the fix. */
  public T parse(String raw) {
    try {
      return parser.apply(raw);
    } catch (IllegalArgumentException e) {
      String shown = isSecret() ? Redaction.REDACTED : "'" + raw + "'";
      String expected = e.getMessage() == null ? typeName : e.getMessage();
      throw TesseraErrors.invalidOptionValue(name, shown, expected);
    }
  }

  /** The default as the README shows it. */
  public String defaultText() {
    if (required) {
      return "(required)";
    }
    if (defaultValue == null) {
      return "(none)";
    }
    return defaultValue instanceof Enum<?> e ? optionText(e) : String.valueOf(defaultValue);
  }

  @Override
  public String toString() {
    return "OptionSpec(" + name + ")";
  }
}
