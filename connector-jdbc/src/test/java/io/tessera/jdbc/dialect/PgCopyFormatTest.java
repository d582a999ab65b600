package io.tessera.jdbc.dialect;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.LocalDate;
import java.time.LocalDateTime;
import org.junit.jupiter.api.Test;

/** COPY text for dates and timestamps, in the notation PostgreSQL reads for every year. */
class PgCopyFormatTest {
  @Test
  void datesAndTimestampsUsePostgresNotation() {
    assertThat(PgCopyLoader.pgDate(LocalDate.of(2026, 11, 1))).isEqualTo("2026-11-01");
    assertThat(PgCopyLoader.pgDate(LocalDate.of(1582, 10, 10))).isEqualTo("1582-10-10");
    assertThat(PgCopyLoader.pgDate(LocalDate.of(0, 1, 1))).isEqualTo("0001-01-01 BC");
    assertThat(PgCopyLoader.pgDate(LocalDate.of(10000, 1, 1))).isEqualTo("10000-01-01");
    assertThat(PgCopyLoader.pgTimestamp(LocalDateTime.of(2026, 1, 2, 3, 4, 5, 6_000)))
        .isEqualTo("2026-01-02 03:04:05.000006");
    assertThat(PgCopyLoader.pgTimestamp(LocalDateTime.of(-1, 12, 31, 23, 59, 59, 999_999_000)))
        .isEqualTo("0002-12-31 23:59:59.999999 BC");
  }
}
