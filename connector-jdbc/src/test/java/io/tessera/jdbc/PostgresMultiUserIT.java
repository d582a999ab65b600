package io.tessera.jdbc;

import static io.tessera.jdbc.JdbcContractIT.events;
import static io.tessera.jdbc.JdbcContractIT.expected;
import static org.apache.spark.sql.functions.lit;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.tessera.testing.DatabaseKind;
import org.junit.jupiter.api.Test;

/**
 * PostgreSQL grants privileges per table and lets only a table's owner drop it, so a writer's
 * rights can be narrower than the schema's: each missing one is named before anything is written.
 */
class PostgresMultiUserIT extends MultiUserContractIT {
  @Override
  DatabaseKind kind() {
    return DatabaseKind.POSTGRESQL;
  }

  /**
   * An append-only user (INSERT and SELECT, no DELETE) appends atomically, since an append's lock
   * needs INSERT only; its overwrite is refused naming DELETE; the table holds exactly the append.
   */
  @Test
  void anAppendOnlyUserAppendsAndIsToldWhatAnOverwriteNeeds() throws Exception {
    String shared = table(admin, "shared");
    events(0, 5).writeTo(shared).create();
    String c = writer(true);
    db.grant("SELECT, INSERT", "shared", user(c));

    events(5, 9).writeTo(table(c, "shared")).append();
    String q = db.qualified("shared");
    assertThatThrownBy(() -> events(100, 110).writeTo(table(c, "shared")).overwrite(lit(true)))
        .hasMessageContaining("[MISSING_PRIVILEGE]")
        .hasMessageContaining("needs the privilege DELETE on " + q)
        .hasMessageContaining("GRANT DELETE ON " + q + " TO \"" + user(c) + "\"")
        .satisfies(this::assertNoSecrets);

    assertThat(rows(shared)).isEqualTo(expected(0, 9));
    assertNothingLeft();
  }

  /**
   * Replacing another user's table needs its owner's rights (PostgreSQL lets only the owner drop
   * it): refused before the query runs, naming the role to grant; the table is unchanged.
   */
  @Test
  void replacingAnotherUsersTableIsRefusedBeforeAnythingIsWritten() throws Exception {
    String a = writer(true);
    String b = writer(true);
    events(0, 5).writeTo(table(a, "a_events")).create();
    db.grant("SELECT, INSERT, DELETE", "a_events", user(b));

    assertThatThrownBy(() -> events(100, 110).writeTo(table(b, "a_events")).replace())
        .hasMessageContaining("[MISSING_PRIVILEGE]")
        .hasMessageContaining("needs the privilege ownership of " + db.qualified("a_events"))
        .hasMessageContaining(
            "ALTER TABLE "
                + db.qualified("a_events")
                + " OWNER TO \""
                + user(b)
                + "\" (as \""
                + user(a)
                + "\")")
        .hasMessageContaining("INSERT OVERWRITE")
        .satisfies(this::assertNoSecrets);
    assertThat(rows(table(admin, "a_events"))).isEqualTo(expected(0, 5));
    assertThat(db.tables()).containsExactly("a_events");

    // What the error suggests instead works.
    events(100, 110).writeTo(table(b, "a_events")).overwrite(lit(true));
    assertThat(rows(table(admin, "a_events"))).isEqualTo(expected(100, 110));
    assertNothingLeft();
  }
}
