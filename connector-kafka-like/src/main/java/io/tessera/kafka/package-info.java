/**
 * Kafka and Kafka-protocol writes: {@code KafkaCatalog} (topics as tables) and the {@code
 * tessera-kafka} provider, batch and streaming. (Planned: see the connector-kafka-like issue.)
 */
package io.tessera.kafka;
