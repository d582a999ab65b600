package io.tessera.jdbc.dialect;

import static org.assertj.core.api.Assertions.assertThat;

import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.Statement;
import org.apache.spark.sql.catalyst.expressions.GenericInternalRow;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.apache.spark.unsafe.types.UTF8String;
import org.junit.jupiter.api.Test;

/**
 * A JDBC driver keeps a whole batch in memory, so the INSERT loader must send a batch once it holds
 * {@link BatchInsertLoader#MAX_BATCH_BYTES}, however many rows that is. Seen against a real (H2)
 * table: rows are there before the row-count batch is full.
 */
class BatchInsertLoaderTest {
  @Test
  void aBatchIsSentOnceItHoldsSixteenMebibytes() throws Exception {
    JdbcDialect h2 = JdbcDialects.forUrl("jdbc:h2:mem:loader");
    // A private in-memory database, gone when this connection closes.
    try (Connection c =
        DriverManager.getConnection("jdbc:h2:mem:loader_" + java.util.UUID.randomUUID())) {
      try (Statement st = c.createStatement()) {
        st.execute("CREATE TABLE \"big\" (\"id\" BIGINT, \"text\" CHARACTER LARGE OBJECT)");
      }
      StructType schema =
          new StructType().add("id", DataTypes.LongType).add("text", DataTypes.StringType);
      BulkLoader loader = h2.newLoader(c, "\"big\"", schema, null, 10_000);
      UTF8String threeMiB = UTF8String.fromString("x".repeat(3 << 20));
      long sentAt = -1;
      for (long id = 1; id <= 12 && sentAt < 0; id++) {
        loader.add(new GenericInternalRow(new Object[] {id, threeMiB}));
        if (count(c) > 0) {
          sentAt = id;
        }
      }
      // 3 MiB rows: the sixth brings the batch to 18 MiB, past the 16 MiB ceiling.
      assertThat(sentAt).as("rows added when the first batch was sent").isEqualTo(6);
      assertThat(count(c)).isEqualTo(6);
      loader.flush();
      assertThat(loader.rows()).isEqualTo(6);
      assertThat(count(c)).isEqualTo(6);
    }
  }

  private static long count(Connection c) throws Exception {
    try (Statement st = c.createStatement();
        ResultSet rs = st.executeQuery("SELECT COUNT(*) FROM \"big\"")) {
      rs.next();
      return rs.getLong(1);
    }
  }
}
