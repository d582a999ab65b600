package io.tessera.testing;

import static org.assertj.core.api.Assertions.assertThat;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.Statement;
import java.util.List;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/** Each database fixture: own schema, real transactions, cleanup. */
class DatabasesIT {
  @ParameterizedTest
  @EnumSource(DatabaseKind.class)
  void roundTripInOwnSchemaWithTransactions(DatabaseKind kind) throws Exception {
    String schema;
    try (TestDatabase db = TestDatabase.create(kind)) {
      schema = db.schema();
      String t = db.qualified("rows");
      db.execute("CREATE TABLE " + t + " (id INT NOT NULL, name VARCHAR(20))");

      try (Connection c = db.connect()) {
        c.setAutoCommit(false);
        try (PreparedStatement ps = c.prepareStatement("INSERT INTO " + t + " VALUES (?, ?)")) {
          ps.setInt(1, 1);
          ps.setString(2, "committed");
          ps.executeUpdate();
          c.commit();
          ps.setInt(1, 2);
          ps.setString(2, "rolled back");
          ps.executeUpdate();
          // Not yet visible to another session.
          assertThat(db.query("SELECT COUNT(*) FROM " + t).get(0).get(0)).asString().isEqualTo("1");
          c.rollback();
        }
      }

      assertThat(db.query("SELECT id, name FROM " + t + " ORDER BY id"))
          .containsExactly(List.of(1, "committed"));
      assertThat(db.tables()).containsExactly("rows");
    }
    if (kind != DatabaseKind.H2) {
      try (TestDatabase other = TestDatabase.create(kind);
          Connection c = other.connect();
          Statement st = c.createStatement()) {
        String sql =
            kind == DatabaseKind.MARIADB
                ? "SELECT COUNT(*) FROM information_schema.schemata WHERE schema_name = '"
                    + schema
                    + "'"
                : "SELECT COUNT(*) FROM information_schema.schemata WHERE schema_name = '"
                    + schema
                    + "'";
        var rs = st.executeQuery(sql);
        rs.next();
        assertThat(rs.getLong(1)).as("schema dropped on close").isZero();
      }
    }
  }
}
