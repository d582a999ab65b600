package io.tessera.jdbc;

import io.tessera.testing.DatabaseKind;

class PostgresStagingIT extends JdbcStagingContractIT {
  @Override
  DatabaseKind kind() {
    return DatabaseKind.POSTGRESQL;
  }
}
