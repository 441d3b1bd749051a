// Command strait is a Kafka gateway: unmodified Kafka clients connect to it,
// and it forwards their traffic to a backing Kafka cluster. Without
// KAFKA_BOOTSTRAP_SERVERS it starts an embedded in-memory cluster, so
// `go run .` gives a working gateway on localhost:6969. With arguments
// (`strait apply|get|delete|help`) it is instead the command line client of
// a running node's admin API.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"

	"github.com/strait-gateway/strait/cli"
	"github.com/strait-gateway/strait/server"
)

func main() {
	if len(os.Args) > 1 { // apply, get, delete, help: the admin API client
		os.Exit(cli.Run(os.Args[1:], os.LookupEnv, os.Stdout, os.Stderr))
	}
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "strait:", err)
		os.Exit(1)
	}
}

func run() error {
	cfg, err := server.FromEnv(os.LookupEnv)
	if err != nil {
		return err
	}
	log, err := newLogger(os.Getenv("GATEWAY_LOG_LEVEL"), os.Getenv("GATEWAY_LOG_FORMAT"))
	if err != nil {
		return err
	}
	defer func() { _ = log.Sync() }()

	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	srv, err := server.Start(ctx, cfg, log.Named("strait"))
	if err != nil {
		return err
	}
	<-ctx.Done()
	log.Info("shutting down: draining connections", zap.Duration("timeout", cfg.DrainTimeout))
	dctx, cancel := context.WithTimeout(context.Background(), cfg.DrainTimeout)
	defer cancel()
	if err := srv.Shutdown(dctx); err != nil {
		log.Warn("shutdown incomplete", zap.Error(err))
	}
	log.Info("stopped")
	return nil
}

// newLogger returns a logger at the given level (default info) writing
// JSON (format json, the default) or human-readable lines (console).
func newLogger(level, format string) (*zap.Logger, error) {
	lvl := zapcore.InfoLevel
	if level != "" {
		if err := lvl.Set(level); err != nil {
			return nil, fmt.Errorf("config: GATEWAY_LOG_LEVEL %q: %w", level, err)
		}
	}
	cfg := zap.NewProductionConfig()
	cfg.Level = zap.NewAtomicLevelAt(lvl)
	cfg.Sampling = nil
	switch format {
	case "", "json":
	case "console":
		cfg.Encoding = "console"
		cfg.EncoderConfig = zap.NewDevelopmentEncoderConfig()
		cfg.EncoderConfig.EncodeTime = zapcore.ISO8601TimeEncoder
	default:
		return nil, fmt.Errorf("config: GATEWAY_LOG_FORMAT %q: expect json or console", format)
	}
	return cfg.Build()
}
