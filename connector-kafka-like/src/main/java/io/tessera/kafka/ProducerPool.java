package io.tessera.kafka;

import java.time.Duration;
import java.util.HashMap;
import java.util.Iterator;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.common.Metric;
import org.apache.kafka.common.MetricName;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One idempotent producer per executor JVM and producer configuration, shared by the tasks that
 * write with that configuration (a {@link KafkaProducer} is thread-safe), as Spark's own Kafka sink
 * does. A producer is leased per task and returned at the end of the task; one that no task has
 * used for {@link #IDLE_TIMEOUT} is closed. A producer that saw a failed send is retired: new tasks
 * get a fresh one, and it is closed (flushing what it still holds) once its last task returns it.
 *
 * <p>Each task keeps its own callbacks and its own error; {@code flush()} on a shared producer
 * waits for every task's records, which is what a task's commit needs anyway.
 */
final class ProducerPool {
  private static final Logger LOG = LoggerFactory.getLogger(ProducerPool.class);

  /** How long an unused producer stays open (Spark's own sink: 10 minutes). */
  static final Duration IDLE_TIMEOUT = Duration.ofMinutes(10);

  private static final Duration CLOSE_TIMEOUT = Duration.ofSeconds(30);

  private static final Map<String, Entry> POOL = new HashMap<>();
  private static final ScheduledExecutorService SWEEPER =
      Executors.newSingleThreadScheduledExecutor(
          r -> {
            Thread t = new Thread(r, "tessera-kafka-producer-pool");
            t.setDaemon(true);
            return t;
          });
  private static long created;
  private static final java.util.concurrent.atomic.AtomicInteger CLOSING =
      new java.util.concurrent.atomic.AtomicInteger();

  static {
    SWEEPER.scheduleWithFixedDelay(ProducerPool::closeIdle, 1, 1, TimeUnit.MINUTES);
    Runtime.getRuntime()
        .addShutdownHook(new Thread(ProducerPool::closeAll, "tessera-kafka-producer-pool-stop"));
  }

  private ProducerPool() {}

  /** A producer for {@code config}, shared with other tasks using the same configuration. */
  static Lease acquire(Map<String, Object> config) {
    String key = key(config);
    synchronized (ProducerPool.class) {
      Entry entry = POOL.get(key);
      if (entry != null) {
        entry.leases++;
        return new Lease(key, entry);
      }
    }
    // Built outside the lock: a producer's constructor may resolve hosts or log in (Kerberos,
    // OAuth), and other tasks must not wait for that. Two tasks racing here both build one; the
    // loser closes its own, which never sent anything.
    KafkaProducer<byte[], byte[]> fresh = new KafkaProducer<>(new HashMap<>(config));
    synchronized (ProducerPool.class) {
      Entry entry = POOL.get(key);
      if (entry == null) {
        entry = new Entry(fresh);
        POOL.put(key, entry);
        created++;
        fresh = null;
      }
      entry.leases++;
      Lease lease = new Lease(key, entry);
      if (fresh != null) {
        fresh.close(Duration.ZERO);
      }
      return lease;
    }
  }

  /** Waits until every retired or idle producer being closed has closed (for tests). */
  static void awaitClosing(Duration timeout) throws InterruptedException {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (CLOSING.get() > 0 && System.nanoTime() < deadline) {
      Thread.sleep(50);
    }
  }

  /** Producers created in this JVM so far (for tests and the closing note's measurement). */
  static synchronized long createdCount() {
    return created;
  }

  /** The key of a configuration: every setting in a stable order (values stay in memory only). */
  private static String key(Map<String, Object> config) {
    StringBuilder sb = new StringBuilder();
    new TreeMap<>(config).forEach((k, v) -> sb.append(k).append('\u0000').append(v).append('\n'));
    return sb.toString();
  }

  private static void closeIdle() {
    long now = System.nanoTime();
    synchronized (ProducerPool.class) {
      for (Iterator<Entry> it = POOL.values().iterator(); it.hasNext(); ) {
        Entry e = it.next();
        if (e.leases == 0 && now - e.lastReturned > IDLE_TIMEOUT.toNanos()) {
          it.remove();
          e.closeLater();
        }
      }
    }
  }

  private static void closeAll() {
    synchronized (ProducerPool.class) {
      POOL.values().forEach(e -> e.producer.close(CLOSE_TIMEOUT));
      POOL.clear();
    }
  }

  /** A pooled producer and the bookkeeping of its leases. Guarded by the pool's lock. */
  private static final class Entry {
    final KafkaProducer<byte[], byte[]> producer;
    int leases;
    boolean retired;
    long lastReturned = System.nanoTime();
    double retriesAttributed;

    Entry(KafkaProducer<byte[], byte[]> producer) {
      this.producer = producer;
    }

    /** Closes without holding the pool's lock: close waits for records still in flight. */
    void closeLater() {
      CLOSING.incrementAndGet();
      Thread t =
          new Thread(
              () -> {
                try {
                  producer.close(CLOSE_TIMEOUT);
                } catch (RuntimeException e) {
                  LOG.warn("tessera-kafka: closing a producer failed: {}", e.toString());
                } finally {
                  CLOSING.decrementAndGet();
                }
              },
              "tessera-kafka-producer-close");
      t.setDaemon(true);
      t.start();
    }
  }

  /** The records {@code producer} retried since it was created. */
  static double retryTotal(KafkaProducer<byte[], byte[]> producer) {
    double total = 0;
    for (Map.Entry<MetricName, ? extends Metric> m : producer.metrics().entrySet()) {
      if (m.getKey().name().equals("record-retry-total")
          && m.getKey().group().equals("producer-metrics")) {
        Object v = m.getValue().metricValue();
        total = v instanceof Number n ? n.doubleValue() : 0;
      }
    }
    return total;
  }

  /** One task's use of a pooled producer; return it exactly once with {@link #release}. */
  static final class Lease {
    private final String key;
    private final Entry entry;
    private boolean released;

    private Lease(String key, Entry entry) {
      this.key = key;
      this.entry = entry;
    }

    KafkaProducer<byte[], byte[]> producer() {
      return entry.producer;
    }

    /**
     * Retries the producer made since the last call from any task: each retry is counted by one
     * task only, so the sum over tasks is the producer's total.
     */
    long claimRetries() {
      double total = retryTotal(entry.producer);
      synchronized (ProducerPool.class) {
        double claimed = Math.max(0, total - entry.retriesAttributed);
        entry.retriesAttributed = Math.max(entry.retriesAttributed, total);
        return (long) claimed;
      }
    }

    /**
     * Returns the producer. {@code failed}: a send of this task failed, so the producer is retired
     * (new tasks get a fresh one) and closed once no task uses it.
     */
    void release(boolean failed) {
      synchronized (ProducerPool.class) {
        if (released) {
          return;
        }
        released = true;
        entry.leases--;
        entry.lastReturned = System.nanoTime();
        if (failed && !entry.retired) {
          entry.retired = true;
          POOL.remove(key, entry);
        }
        if (entry.retired && entry.leases == 0) {
          entry.closeLater();
        }
      }
    }
  }
}
