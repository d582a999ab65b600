package io.tessera.jdbc;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.util.List;

/** A SQL statement (from the dialect) with its bound parameters. */
record SqlStatement(String sql, List<Object> params) {
  /** Runs the statement; returns the number of rows it changed. */
  long run(Connection c) throws SQLException {
    try (PreparedStatement ps = c.prepareStatement(sql)) {
      bind(ps, params);
      return ps.executeLargeUpdate();
    }
  }

  /** Binds {@code params} to the statement's {@code ?} parameters, in order. */
  static void bind(PreparedStatement ps, List<Object> params) throws SQLException {
    for (int i = 0; i < params.size(); i++) {
      ps.setObject(i + 1, params.get(i));
    }
  }
}
