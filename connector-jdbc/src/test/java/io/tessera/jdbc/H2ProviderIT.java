package io.tessera.jdbc;

import io.tessera.testing.DatabaseKind;

class H2ProviderIT extends JdbcProviderContractIT {
  @Override
  DatabaseKind kind() {
    return DatabaseKind.H2;
  }
}
