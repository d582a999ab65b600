package io.tessera.jdbc;

import io.tessera.testing.DatabaseKind;

class H2RowLevelIT extends JdbcRowLevelContractIT {
  @Override
  DatabaseKind kind() {
    return DatabaseKind.H2;
  }
}
