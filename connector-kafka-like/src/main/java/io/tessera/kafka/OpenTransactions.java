package io.tessera.kafka;

import io.tessera.common.errors.TesseraError;
import io.tessera.common.errors.TesseraException;
import java.lang.reflect.Field;
import java.lang.reflect.Method;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.utils.AppInfoParser;
import org.apache.kafka.common.utils.ProducerIdAndEpoch;

/**
 * Completes a Kafka transaction that another producer (a task attempt's) began and left open.
 *
 * <p>Why internals: exactly-once needs the driver to decide, after the tasks finished, which task
 * attempts' transactions commit. Kafka's public API lets only the producer that began a transaction
 * end it, and KIP-939 ({@code prepareTransaction}/{@code completeTransaction}) is in no release.
 * So, as Flink's KafkaSink does, a new producer with the same {@code transactional.id} is given the
 * open transaction's producer id and epoch and put into the in-transaction state by reflection on
 * kafka-clients' {@code TransactionManager}; its {@code commitTransaction()} then ends that
 * transaction at the coordinator. Aborting needs no internals: {@code initTransactions()} under the
 * same id fences the old producer and aborts its open transaction.
 *
 * <p>This is the one place that touches internals. It is written for kafka-clients {@value
 * #SUPPORTED_CLIENT} (what Tessera ships, Spark 4.2's own) and checks that version and the fields
 * it needs before use ({@link #checkSupported}); {@code OpenTransactionsIT} fails loudly if an
 * upgrade breaks it. Brokers: transaction protocol version 1 (every broker through 3.9, and 4.x
 * brokers talking to 3.9 clients); the 4.x clients' protocol version 2 (KIP-890) bumps the epoch
 * per transaction and is not supported here.
 */
final class OpenTransactions {
  /** The kafka-clients version whose internals this class was written and tested against. */
  static final String SUPPORTED_CLIENT = "3.9.2";

  private OpenTransactions() {}

  /** The open transaction's identity, as the task reports it to the driver. */
  record Handle(String transactionalId, long producerId, short epoch)
      implements java.io.Serializable {}

  /** Fails with the reason when the kafka-clients on the class path is not the supported one. */
  static void checkSupported() {
    String version = AppInfoParser.getVersion();
    if (!SUPPORTED_CLIENT.equals(version)) {
      throw unsupported(
          "kafka-clients "
              + version
              + " is on the class path; Tessera's exactly-once completes"
              + " transactions with the internals of kafka-clients "
              + SUPPORTED_CLIENT);
    }
    try {
      Class<?> tm = Class.forName("org.apache.kafka.clients.producer.internals.TransactionManager");
      tm.getDeclaredField("producerIdAndEpoch");
      tm.getDeclaredField("transactionStarted");
      tm.getDeclaredMethod("transitionTo", stateClass());
      KafkaProducer.class.getDeclaredField("transactionManager");
    } catch (ReflectiveOperationException e) {
      throw unsupported("kafka-clients " + version + " lacks " + e.getMessage());
    }
  }

  /** The producer id and epoch of {@code producer}'s current transaction. */
  static Handle handleOf(KafkaProducer<?, ?> producer, String transactionalId) {
    try {
      Object tm = field(KafkaProducer.class, "transactionManager").get(producer);
      Method m = tm.getClass().getDeclaredMethod("producerIdAndEpoch");
      m.setAccessible(true);
      ProducerIdAndEpoch id = (ProducerIdAndEpoch) m.invoke(tm);
      return new Handle(transactionalId, id.producerId, id.epoch);
    } catch (ReflectiveOperationException e) {
      throw unsupported("reading the producer id and epoch failed: " + e);
    }
  }

  /**
   * Commits the open transaction {@code handle} names. Committing one that is committed already is
   * harmless; one that was aborted or fenced meanwhile fails (the coordinator refuses the epoch).
   */
  static void commit(Map<String, Object> producerConfig, Handle handle) {
    KafkaProducer<byte[], byte[]> p = producer(producerConfig, handle.transactionalId());
    try {
      resume(p, handle);
      p.commitTransaction();
    } finally {
      p.close(CLOSE_TIMEOUT);
    }
  }

  /** Aborts whatever transaction {@code transactionalId} left open, and fences its producer. */
  static void abort(Map<String, Object> producerConfig, String transactionalId) {
    KafkaProducer<byte[], byte[]> p = producer(producerConfig, transactionalId);
    try {
      p.initTransactions();
    } finally {
      p.close(CLOSE_TIMEOUT);
    }
  }

  /** A producer that only ended a transaction has nothing left to send. */
  private static final Duration CLOSE_TIMEOUT = Duration.ofSeconds(5);

  private static KafkaProducer<byte[], byte[]> producer(
      Map<String, Object> producerConfig, String transactionalId) {
    Map<String, Object> config = new HashMap<>(producerConfig);
    config.put(ProducerConfig.TRANSACTIONAL_ID_CONFIG, transactionalId);
    config.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, "true");
    config.put(ProducerConfig.ACKS_CONFIG, "all");
    config.put(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class.getName());
    config.put(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class.getName());
    return new KafkaProducer<>(config);
  }

  /**
   * Puts a fresh producer's transaction manager where the task's producer left it: the same
   * producer id and epoch, in a transaction. Only legal transitions are used (UNINITIALIZED ->
   * INITIALIZING -> READY -> IN_TRANSACTION), under the manager's lock.
   */
  private static void resume(KafkaProducer<byte[], byte[]> p, Handle handle) {
    try {
      Object tm = field(KafkaProducer.class, "transactionManager").get(p);
      Class<?> state = stateClass();
      Method transitionTo = tm.getClass().getDeclaredMethod("transitionTo", state);
      transitionTo.setAccessible(true);
      synchronized (tm) {
        transitionTo.invoke(tm, enumConstant(state, "INITIALIZING"));
        field(tm.getClass(), "producerIdAndEpoch")
            .set(tm, new ProducerIdAndEpoch(handle.producerId(), handle.epoch()));
        transitionTo.invoke(tm, enumConstant(state, "READY"));
        transitionTo.invoke(tm, enumConstant(state, "IN_TRANSACTION"));
        field(tm.getClass(), "transactionStarted").set(tm, true);
      }
    } catch (ReflectiveOperationException e) {
      throw unsupported("resuming transaction " + handle.transactionalId() + " failed: " + e);
    }
  }

  private static Class<?> stateClass() throws ClassNotFoundException {
    return Class.forName("org.apache.kafka.clients.producer.internals.TransactionManager$State");
  }

  @SuppressWarnings({"unchecked", "rawtypes"})
  private static Object enumConstant(Class<?> type, String name) {
    return Enum.valueOf((Class) type, name);
  }

  private static Field field(Class<?> type, String name) throws NoSuchFieldException {
    Field f = type.getDeclaredField(name);
    f.setAccessible(true);
    return f;
  }

  /** Closes a task's producer without ending its transaction (a plain close() would abort it). */
  static void leaveOpen(KafkaProducer<?, ?> producer) {
    producer.close(Duration.ZERO);
  }

  private static TesseraException unsupported(String why) {
    return new TesseraException(
        TesseraError.UNSUPPORTED_WRITE_MODE,
        "tessera-kafka cannot use delivery=exactly-once here: "
            + why
            + ". Use kafka-clients "
            + SUPPORTED_CLIENT
            + " (the version Tessera ships), or delivery=at-least-once");
  }
}
