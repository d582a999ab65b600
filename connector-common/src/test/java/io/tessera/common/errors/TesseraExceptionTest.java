package io.tessera.common.errors;

import static org.assertj.core.api.Assertions.assertThat;

import org.apache.spark.ErrorMessageFormat;
import org.apache.spark.SparkThrowable;
import org.apache.spark.SparkThrowableHelper;
import org.junit.jupiter.api.Test;

/** Tessera's errors are Spark-native: Spark's own formatting shows their condition and SQLSTATE. */
class TesseraExceptionTest {
  @Test
  void isASparkThrowableWithConditionAndSqlState() {
    TesseraException e =
        new TesseraException(TesseraError.COMMIT_OUTCOME_UNKNOWN, "The database did not answer");

    assertThat(e).isInstanceOf(SparkThrowable.class);
    assertThat(e.getCondition()).isEqualTo("TESSERA_COMMIT_OUTCOME_UNKNOWN");
    assertThat(e.getErrorClass()).isEqualTo("TESSERA_COMMIT_OUTCOME_UNKNOWN");
    assertThat(e.getSqlState()).isEqualTo("08007");
    assertThat(e.isInternalError()).isFalse();
    assertThat(e.getMessage()).isEqualTo("[COMMIT_OUTCOME_UNKNOWN] The database did not answer");
  }

  @Test
  void sparksThriftAndConnectFormattingShowsIt() {
    TesseraException e =
        new TesseraException(TesseraError.UNKNOWN_OPTION, "Unknown option 'batchsise'");

    String standard = SparkThrowableHelper.getMessage(e, ErrorMessageFormat.STANDARD());
    assertThat(standard)
        .contains("\"errorClass\" : \"TESSERA_UNKNOWN_OPTION\"")
        .contains("\"sqlState\" : \"22023\"")
        .contains("Unknown option 'batchsise'");
    assertThat(SparkThrowableHelper.getMessage(e, ErrorMessageFormat.PRETTY()))
        .contains("Unknown option 'batchsise'");
  }

  @Test
  void everyErrorHasAFiveCharacterSqlState() {
    for (TesseraError error : TesseraError.values()) {
      assertThat(error.sqlState()).as(error.name()).hasSize(5);
    }
  }
}
