package io.tessera.jdbc;

import io.tessera.testing.DatabaseKind;

class PostgresStreamingIT extends JdbcStreamingContractIT {
  @Override
  DatabaseKind kind() {
    return DatabaseKind.POSTGRESQL;
  }
}
