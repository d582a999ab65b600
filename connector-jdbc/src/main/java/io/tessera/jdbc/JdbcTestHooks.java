package io.tessera.jdbc;

/**
 * Fault injection for tests in other modules (the fault matrix), acting on the driver's JVM. Not
 * for production use.
 */
public final class JdbcTestHooks {
  private JdbcTestHooks() {}

  /** The next commit=two-phase commit records its decision, then fails (commits nothing). */
  public static void twoPhaseDriverDiesAfterDecision() {
    TwoPhaseCommit.dieAfterDecisionForTests = true;
  }

  /**
   * Runs {@code action} on the driver once, at the start of the next atomic publish, before it
   * takes the write lock: a write that commits meanwhile, as another job could.
   */
  public static void beforeNextPublish(Runnable action) {
    AtomicPublish.beforeNextPublish.set(action);
  }
}
