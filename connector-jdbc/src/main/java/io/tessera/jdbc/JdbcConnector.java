package io.tessera.jdbc;

import io.tessera.common.errors.TesseraError;
import io.tessera.common.errors.TesseraException;
import io.tessera.common.options.ParsedOptions;
import io.tessera.common.redact.Redaction;
import java.io.Serializable;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.List;
import java.util.Properties;

/**
 * Opens connections to one database. Serializable (it travels to executors in the writer factory),
 * and it never prints the password: {@link #toString()}, {@link #redact} and every error it raises
 * are scrubbed.
 */
public final class JdbcConnector implements Serializable {
  private static final long serialVersionUID = 1L;

  private final String url;
  private final String user;
  private final String password;

  public JdbcConnector(ParsedOptions options) {
    this.url = options.get(JdbcWriteOptions.URL);
    this.user = options.get(JdbcWriteOptions.USER);
    this.password = options.get(JdbcWriteOptions.PASSWORD);
  }

  public String url() {
    return url;
  }

  public String user() {
    return user;
  }

  /** The password, for handing to Spark's JDBC reader only. */
  String password() {
    return password;
  }

  public Connection open() {
    Properties p = new Properties();
    if (user != null) {
      p.setProperty("user", user);
    }
    if (password != null) {
      p.setProperty("password", password);
    }
    try {
      return DriverManager.getConnection(url, p);
    } catch (SQLException e) {
      throw new TesseraException(
          TesseraError.CONNECTION_FAILED,
          "Cannot connect to "
              + redactedUrl()
              + (user == null ? "" : " as user '" + user + "'")
              + ": "
              + redact(e.getMessage())
              + "; check options 'url', 'user' and 'password'",
          redactThrowable(e));
    }
  }

  /** Runs {@code sql} statements, each auto-committed. */
  public void execute(List<String> sql) {
    try (Connection c = open();
        Statement st = c.createStatement()) {
      for (String s : sql) {
        try {
          st.execute(s);
        } catch (SQLException e) {
          throw sqlFailed("Statement failed", s, e);
        }
      }
    } catch (SQLException e) {
      throw sqlFailed("Closing the connection failed", "", e);
    }
  }

  public TesseraException sqlFailed(String what, String sql, SQLException e) {
    return new TesseraException(
        TesseraError.SQL_FAILED,
        what
            + " on "
            + redactedUrl()
            + ": "
            + redact(describe(e))
            + (sql.isEmpty() ? "" : " [SQL: " + sql + "]"),
        redactThrowable(e));
  }

  /** The message of {@code e} and of its chained {@code getNextException()}s. */
  static String describe(SQLException e) {
    StringBuilder sb = new StringBuilder(String.valueOf(e.getMessage()));
    SQLException next = e.getNextException();
    for (int i = 0; next != null && i < 3; i++, next = next.getNextException()) {
      if (!sb.toString().contains(String.valueOf(next.getMessage()))) {
        sb.append("; ").append(next.getMessage());
      }
    }
    return sb.toString();
  }

  public String redactedUrl() {
    return Redaction.redactText(url, secrets());
  }

  public String redact(String text) {
    return Redaction.redactText(text, secrets());
  }

  public RuntimeException redactThrowable(Throwable t) {
    return Redaction.redactThrowable(t, secrets());
  }

  /** The password option and any password written into the URL itself. */
  private List<String> secrets() {
    List<String> out = new java.util.ArrayList<>();
    if (password != null && !password.isEmpty()) {
      out.add(password);
    }
    java.util.regex.Matcher m = URL_PASSWORD.matcher(url);
    while (m.find()) {
      out.add(m.group(1));
    }
    return out;
  }

  private static final java.util.regex.Pattern URL_PASSWORD =
      java.util.regex.Pattern.compile("(?i)password=([^&;]+)");

  @Override
  public String toString() {
    return redactedUrl();
  }
}
