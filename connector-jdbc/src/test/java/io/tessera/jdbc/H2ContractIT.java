package io.tessera.jdbc;

import io.tessera.testing.DatabaseKind;

class H2ContractIT extends JdbcContractIT {
  @Override
  DatabaseKind kind() {
    return DatabaseKind.H2;
  }
}
