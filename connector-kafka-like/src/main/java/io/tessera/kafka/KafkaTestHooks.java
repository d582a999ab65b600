package io.tessera.kafka;

/**
 * Fault injection for tests in other modules (the fault matrix), acting on the driver's JVM. Not
 * for production use.
 */
public final class KafkaTestHooks {
  private KafkaTestHooks() {}

  /**
   * The next exactly-once commit records its decision, commits {@code n} transactions and fails.
   */
  public static void failDriverAfterCommits(int n) {
    ExactlyOnceCommitter.failAfterCommitsForTests(n);
  }
}
