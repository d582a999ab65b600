package io.tessera.common.redact;

import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Keeps secrets out of everything Tessera prints: plan strings ({@code description()}), {@code
 * toString()}, exception messages and logs.
 *
 * <p>Two mechanisms, because secrets arrive two ways: as option values whose key looks secret
 * ({@link #isSecretKey}), and embedded in other text such as a JDBC URL's {@code password=...} or a
 * driver's error message that echoes a value ({@link #redactText}).
 */
public final class Redaction {
  /** What a redacted value prints as. */
  public static final String REDACTED = "*********(redacted)";

  /** Keys that hold secrets; the same spirit as Spark's {@code spark.redaction.regex}. */
  private static final Pattern SECRET_KEY =
      Pattern.compile(
          "(?i).*(password|passwd|pwd|secret|token|credential|access[._-]?key|private[._-]?key"
              + "|sasl[.]jaas[.]config|ssl[.]key|keystore[.]key|user[._-]?info|apikey"
              + "|api[._-]key).*");

  /**
   * Keys that match {@link #SECRET_KEY} but name where or what a secret is, not the secret itself
   * ({@code ssl.keystore.location}, {@code ssl.keystore.type}, a token endpoint URL): users need to
   * see them when a connection fails.
   */
  private static final Pattern NOT_SECRET_KEY =
      Pattern.compile(
          "(?i).*[._-](location|type|algorithm|certificate[._]chain|endpoint[._]url|url)");

  /** {@code key=value} pairs inside URLs and connection strings whose key looks secret. */
  private static final Pattern SECRET_PAIR =
      Pattern.compile(
          "(?i)((?:password|passwd|pwd|secret|token|credential|access[._-]?key|apikey)\\s*[=:]\\s*)"
              + "(\\Q*********(redacted)\\E|'[^']*'|\"[^\"]*\"|[^&;\\s]*)");

  /**
   * {@code scheme://user:password@host} credentials inside URLs. The password runs to the last
   * {@code @} of the authority, so a password containing {@code @} is redacted whole.
   */
  private static final Pattern URL_USERINFO = Pattern.compile("(://[^/:@\\s]+:)([^/\\s]+)(@)");

  /** Oracle-style {@code jdbc:oracle:thin:user/password@host} credentials. */
  private static final Pattern SLASH_USERINFO =
      Pattern.compile("(?i)(:thin:[^/@\\s]+/)([^@\\s]+)(@)");

  private Redaction() {}

  public static boolean isSecretKey(String key) {
    return key != null
        && SECRET_KEY.matcher(key).matches()
        && !NOT_SECRET_KEY.matcher(key).matches();
  }

  /** A copy of {@code options} with the value of every secret-looking key replaced. */
  public static Map<String, String> redactMap(Map<String, String> options) {
    Map<String, String> out = new LinkedHashMap<>();
    options.forEach(
        (k, v) -> out.put(k, isSecretKey(k) ? REDACTED : v == null ? null : redactText(v)));
    return out;
  }

  /**
   * {@code text} with every occurrence of the given secret values and every secret-looking {@code
   * key=value} or URL password replaced.
   */
  public static String redactText(String text, Collection<String> secretValues) {
    if (text == null) {
      return null;
    }
    String out = text;
    for (String secret : secretValues) {
      if (secret != null && !secret.isEmpty()) {
        out = out.replace(secret, REDACTED);
      }
    }
    return redactText(out);
  }

  /** {@code text} with secret-looking {@code key=value} pairs and URL passwords replaced. */
  public static String redactText(String text) {
    if (text == null) {
      return null;
    }
    String out =
        SECRET_PAIR.matcher(text).replaceAll(m -> Matcher.quoteReplacement(m.group(1) + REDACTED));
    out =
        URL_USERINFO
            .matcher(out)
            .replaceAll(m -> Matcher.quoteReplacement(m.group(1) + REDACTED + m.group(3)));
    return SLASH_USERINFO
        .matcher(out)
        .replaceAll(m -> Matcher.quoteReplacement(m.group(1) + REDACTED + m.group(3)));
  }

  /**
   * An exception whose message (and whose causes' messages) no longer contain the secrets, keeping
   * the original stack trace. Use it where a third-party error may echo a password back.
   */
  public static RuntimeException redactThrowable(Throwable t, Collection<String> secretValues) {
    RedactedException top = null;
    RedactedException previous = null;
    for (Throwable cur = t; cur != null && cur != cur.getCause(); cur = cur.getCause()) {
      RedactedException copy =
          new RedactedException(
              cur.getClass().getName() + ": " + redactText(cur.getMessage(), secretValues));
      copy.setStackTrace(cur.getStackTrace());
      if (top == null) {
        top = copy;
      } else {
        previous.initCause(copy);
      }
      previous = copy;
    }
    return top;
  }

  /** Stands in for an exception whose message had to be redacted. */
  public static final class RedactedException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    RedactedException(String message) {
      super(message);
    }
  }
}
