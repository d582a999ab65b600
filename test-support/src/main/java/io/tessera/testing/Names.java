package io.tessera.testing;

import java.util.Locale;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicInteger;

/** Unique, lower-case names for tables, schemas and topics, so tests never share state. */
public final class Names {
  private static final AtomicInteger COUNTER = new AtomicInteger();
  private static final String RUN = UUID.randomUUID().toString().substring(0, 6);

  private Names() {}

  /** {@code prefix} followed by a suffix unique in this JVM and across runs. */
  public static String unique(String prefix) {
    return (prefix + "_" + RUN + "_" + COUNTER.incrementAndGet()).toLowerCase(Locale.ROOT);
  }
}
