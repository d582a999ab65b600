package io.tessera.jdbc;

import io.tessera.testing.DatabaseKind;

class H2MultiUserIT extends MultiUserContractIT {
  @Override
  DatabaseKind kind() {
    return DatabaseKind.H2;
  }
}
