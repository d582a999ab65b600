package io.tessera.testing;

/**
 * The databases the JDBC suites run against. H2 is embedded and always present; PostgreSQL and
 * MariaDB are servers on 127.0.0.1 whose location can be overridden by environment variables {@code
 * TESSERA_<KIND>_URL}, {@code _USER} and {@code _PASSWORD}.
 */
public enum DatabaseKind {
  H2(null, null, null),
  POSTGRESQL("jdbc:postgresql://127.0.0.1:5432/test", "root", ""),
  MARIADB("jdbc:mariadb://127.0.0.1:3306/test", "root", "");

  private final String defaultUrl;
  private final String defaultUser;
  private final String defaultPassword;

  DatabaseKind(String defaultUrl, String defaultUser, String defaultPassword) {
    this.defaultUrl = defaultUrl;
    this.defaultUser = defaultUser;
    this.defaultPassword = defaultPassword;
  }

  String env(String suffix, String fallback) {
    String v = System.getenv("TESSERA_" + name() + "_" + suffix);
    return v == null ? fallback : v;
  }

  String serverUrl() {
    return env("URL", defaultUrl);
  }

  String user() {
    return env("USER", defaultUser);
  }

  String password() {
    return env("PASSWORD", defaultPassword);
  }
}
