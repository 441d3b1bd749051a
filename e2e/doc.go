// Package e2e holds Strait's end-to-end tests: a real Apache Kafka 4.x
// (started from Maven Central jars by kafka/kafka.sh), a Strait node in
// front of it, and real clients of several ecosystems (Java, librdkafka,
// Python, kafkajs, sarama, franz-go) producing and consuming through the
// gateway. The same suite also runs against the embedded cluster. With
// -short only the embedded cluster is used, and the run says so.
package e2e
