# Strait: the two commands a developer needs are `go run .` and `make test`.
GO ?= go
GOTESTFLAGS ?= -count=1 -timeout 60m

.PHONY: build test test-short fuzz bench deps docker clean

build:
	CGO_ENABLED=0 $(GO) build -o strait .

# deps installs what the end-to-end tests use: the Kafka jars, Apicurio
# Registry (a real schema registry), the Java harness, kafkajs, the Python
# clients and kcat.
deps:
	e2e/kafka/kafka.sh install
	e2e/registry/registry.sh install
	e2e/clients/java/build.sh
	e2e/clients/install.sh

# test runs everything: unit tests, fuzz seeds, and the end-to-end suite
# against real Apache Kafka (single node and three nodes) and the embedded
# cluster, with clients from every ecosystem.
test: deps
	$(GO) vet ./...
	$(GO) test $(GOTESTFLAGS) ./...

# test-short runs only the in-process tier (no real Kafka).
test-short:
	$(GO) test -short -count=1 ./...

# fuzz runs each fuzz target for a while.
FUZZTIME ?= 30s
fuzz:
	$(GO) test ./gateway -run XXX -fuzz FuzzRequestHeader -fuzztime $(FUZZTIME)
	$(GO) test ./gateway -run XXX -fuzz FuzzHasNodeEndpoints -fuzztime $(FUZZTIME)
	$(GO) test ./interceptor -run XXX -fuzz FuzzDecodeConfig -fuzztime $(FUZZTIME)
	$(GO) test ./encryption -run XXX -fuzz FuzzParse -fuzztime $(FUZZTIME)
	$(GO) test ./encryption/jsonfield -run XXX -fuzz FuzzReplace -fuzztime $(FUZZTIME)
	$(GO) test ./encryption/avrofield -run XXX -fuzz FuzzReplace -fuzztime $(FUZZTIME)
	$(GO) test ./encryption/protofield -run XXX -fuzz FuzzReplace -fuzztime $(FUZZTIME)
	$(GO) test ./concentration/offsetmap -run XXX -fuzz FuzzRestore -fuzztime $(FUZZTIME)
	$(GO) test ./concentration/offsetmap -run XXX -fuzz FuzzRoundTrip -fuzztime $(FUZZTIME)
	$(GO) test ./concentration -run XXX -fuzz FuzzFilter -fuzztime $(FUZZTIME)
	$(GO) test ./concentration -run XXX -fuzz FuzzDecodeTopic -fuzztime $(FUZZTIME)
	$(GO) test ./concentration -run XXX -fuzz FuzzDecodeCommit -fuzztime $(FUZZTIME)
	$(GO) test ./concentration -run XXX -fuzz FuzzCheckpointKey -fuzztime $(FUZZTIME)

# bench compares direct-to-broker and through-gateway load on a real broker.
bench:
	e2e/kafka/kafka.sh install
	e2e/registry/registry.sh install
	$(GO) run ./bench
	$(GO) test ./gateway -run XXX -bench Passthrough -benchtime 2s

docker:
	docker build -t strait .

clean:
	rm -rf strait .cache/bench
