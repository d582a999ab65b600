package io.tessera.jdbc.dialect;

import io.tessera.common.errors.TesseraError;
import io.tessera.common.errors.TesseraException;
import io.tessera.common.redact.Redaction;
import java.util.ArrayList;
import java.util.List;
import java.util.ServiceLoader;

/** Finds the dialect for a JDBC URL among those registered with {@link ServiceLoader}. */
public final class JdbcDialects {
  private JdbcDialects() {}

  public static JdbcDialect forUrl(String url) {
    List<String> names = new ArrayList<>();
    for (JdbcDialect d :
        ServiceLoader.load(JdbcDialect.class, JdbcDialect.class.getClassLoader())) {
      if (d.acceptsUrl(url)) {
        return d;
      }
      names.add(d.name());
    }
    throw new TesseraException(
        TesseraError.INVALID_OPTION_VALUE,
        "Option 'url' has value '"
            + Redaction.redactText(url)
            + "' but tessera-jdbc has no dialect for it; supported databases: "
            + String.join(", ", names)
            + " (URLs starting jdbc:postgresql:, jdbc:mariadb:, jdbc:mysql:, jdbc:h2:)");
  }
}
