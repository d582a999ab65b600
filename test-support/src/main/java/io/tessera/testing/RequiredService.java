package io.tessera.testing;

import org.junit.jupiter.api.Assumptions;

/**
 * What a test does when an external service it needs is missing: on a developer machine it is
 * skipped with a visible reason; on CI ({@code CI=true}) it fails, because CI must prove the
 * guarantees against every system.
 */
public final class RequiredService {
  private RequiredService() {}

  public static boolean onCi() {
    return "true".equalsIgnoreCase(System.getenv("CI"));
  }

  /** Skips (locally) or fails (on CI) the calling test. Never returns. */
  public static RuntimeException unavailable(String service, String reason, String fix) {
    String message = service + " is not reachable (" + reason + "); " + fix;
    if (onCi()) {
      throw new AssertionError("CI=true requires " + message);
    }
    Assumptions.abort(message);
    throw new IllegalStateException("unreachable");
  }
}
