package io.tessera.common.redact;

import static org.assertj.core.api.Assertions.assertThat;

import java.sql.SQLException;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class RedactionTest {
  @Test
  void recognisesSecretKeys() {
    assertThat(Redaction.isSecretKey("password")).isTrue();
    assertThat(Redaction.isSecretKey("kafka.sasl.jaas.config")).isTrue();
    assertThat(Redaction.isSecretKey("fs.s3a.access.key")).isTrue();
    assertThat(Redaction.isSecretKey("ssl.key.password")).isTrue();
    assertThat(Redaction.isSecretKey("kafka.ssl.keystore.key")).isTrue();
    assertThat(Redaction.isSecretKey("kafka.basic.auth.user.info")).isTrue();
    assertThat(Redaction.isSecretKey("kafka.sasl.oauthbearer.token.endpoint.url")).isFalse();
    assertThat(Redaction.isSecretKey("es.net.ssl.keystore.pass")).isTrue();
    assertThat(Redaction.isSecretKey("ssl.key.pem")).isTrue();
    assertThat(Redaction.isSecretKey("kafka.client.secret")).isTrue();
    assertThat(Redaction.isSecretKey("kafka.ssl.keystore.location")).isFalse();
    assertThat(Redaction.isSecretKey("kafka.ssl.truststore.location")).isFalse();
    assertThat(Redaction.isSecretKey("kafka.ssl.keystore.type")).isFalse();
    assertThat(Redaction.isSecretKey("kafka.sasl.mechanism")).isFalse();
    assertThat(Redaction.isSecretKey("user")).isFalse();
    assertThat(Redaction.isSecretKey("batchSize")).isFalse();
  }

  @Test
  void redactsMapValuesOfSecretKeysAndSecretsInsideValues() {
    Map<String, String> out =
        Redaction.redactMap(
            Map.of(
                "password", "pw1",
                "url", "jdbc:postgresql://h/db?user=a&password=pw2&ssl=true",
                "user", "alice"));
    assertThat(out)
        .containsEntry("password", Redaction.REDACTED)
        .containsEntry(
            "url", "jdbc:postgresql://h/db?user=a&password=" + Redaction.REDACTED + "&ssl=true")
        .containsEntry("user", "alice");
  }

  @Test
  void passwordValuesAreRedactedUpToTheNextParameter() {
    assertThat(Redaction.redactText("jdbc:h2:mem:x;USER=sa;PASSWORD=ab,c)d;MODE=x"))
        .isEqualTo("jdbc:h2:mem:x;USER=sa;PASSWORD=" + Redaction.REDACTED + ";MODE=x");
  }

  @Test
  void redactsUrlUserInfoAndGivenValues() {
    assertThat(Redaction.redactText("mysql://bob:s3cr3t@host:3306/db"))
        .isEqualTo("mysql://bob:" + Redaction.REDACTED + "@host:3306/db");
    assertThat(Redaction.redactText("login failed for pw 'topsecret'", List.of("topsecret")))
        .isEqualTo("login failed for pw '" + Redaction.REDACTED + "'");
    assertThat(Redaction.redactText("sasl.jaas.config token=abc; next", List.of()))
        .isEqualTo("sasl.jaas.config token=" + Redaction.REDACTED + "; next");
  }

  @Test
  void redactsEveryUrlFormOfAPassword() {
    String r = Redaction.REDACTED;
    assertThat(Redaction.redactText("jdbc:mariadb://bob:p@ss:w0rd@db.example:3306/sales"))
        .isEqualTo("jdbc:mariadb://bob:" + r + "@db.example:3306/sales")
        .doesNotContain("w0rd");
    assertThat(Redaction.redactText("jdbc:oracle:thin:scott/tiger@db.example:1521/orcl"))
        .isEqualTo("jdbc:oracle:thin:scott/" + r + "@db.example:1521/orcl");
    assertThat(Redaction.redactText("jdbc:postgresql://h/db?user=a&PASSWORD=x1&sslpassword=x2"))
        .isEqualTo("jdbc:postgresql://h/db?user=a&PASSWORD=" + r + "&sslpassword=" + r);
    assertThat(Redaction.redactText("Driver={X};Server=h;Uid=a;Pwd=x3;"))
        .isEqualTo("Driver={X};Server=h;Uid=a;Pwd=" + r + ";");
    assertThat(Redaction.isSecretKey("pwd")).isTrue();
  }

  @Test
  void redactedThrowableKeepsChainAndStackButNotTheSecret() {
    SQLException cause = new SQLException("password authentication failed: hunter2");
    RuntimeException top = new RuntimeException("connect to jdbc:x?password=hunter2 failed", cause);
    RuntimeException redacted = Redaction.redactThrowable(top, List.of("hunter2"));

    assertThat(redacted.getMessage())
        .isEqualTo(
            "java.lang.RuntimeException: connect to jdbc:x?password="
                + Redaction.REDACTED
                + " failed");
    assertThat(redacted.getCause().getMessage())
        .isEqualTo("java.sql.SQLException: password authentication failed: " + Redaction.REDACTED);
    assertThat(redacted.getStackTrace()).isEqualTo(top.getStackTrace());
    assertThat(redacted.getCause().getCause()).isNull();
  }
}
