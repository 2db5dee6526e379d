// Command kvstore runs the key-value store as an HTTP server.
package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/example/kvstore/server"
	"github.com/example/kvstore/store"
)

type config struct {
	addr            string
	dataDir         string
	apiKeysFile     string
	syncWrites      bool
	sweepInterval   time.Duration
	compactInterval time.Duration
	shutdownTimeout time.Duration
}

func parseFlags(args []string) (config, error) {
	var cfg config
	fs := flag.NewFlagSet("kvstore", flag.ContinueOnError)
	fs.StringVar(&cfg.addr, "addr", ":8080", "address to listen on")
	fs.StringVar(&cfg.dataDir, "data", "./data", "directory for WAL segments")
	fs.StringVar(&cfg.apiKeysFile, "api-keys", "", "file with one API key per line (empty disables auth)")
	fs.BoolVar(&cfg.syncWrites, "sync", true, "fsync the WAL after every write")
	fs.DurationVar(&cfg.sweepInterval, "sweep-interval", time.Minute, "how often expired keys are removed")
	fs.DurationVar(&cfg.compactInterval, "compact-interval", time.Hour, "how often WAL segments are compacted (0 = never)")
	fs.DurationVar(&cfg.shutdownTimeout, "shutdown-timeout", 15*time.Second, "grace period for in-flight requests")
	if err := fs.Parse(args); err != nil {
		return cfg, err
	}
	return cfg, nil
}

// loadAPIKeys reads one key per line, ignoring blank lines and # comments.
func loadAPIKeys(path string) ([]string, error) {
	if path == "" {
		return nil, nil
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var keys []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line != "" && !strings.HasPrefix(line, "#") {
			keys = append(keys, line)
		}
	}
	return keys, sc.Err()
}

// compactPeriodically runs Store.Compact on a timer until ctx is cancelled.
func compactPeriodically(ctx context.Context, st *store.Store, every time.Duration, logger *slog.Logger) {
	ticker := time.NewTicker(every)
	defer ticker.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-ticker.C:
			stats, err := st.Compact()
			if err != nil {
				logger.Error("compaction failed", "err", err)
				continue
			}
			logger.Info("compaction finished", "segments", stats.SegmentsMerged,
				"kept", stats.RecordsKept, "took", stats.Duration)
		}
	}
}

// run starts the server and blocks until SIGINT or SIGTERM, then shuts down
// gracefully: it stops accepting connections, waits up to shutdownTimeout for
// in-flight requests, and finally closes the store so the WAL is flushed.
func run(cfg config, logger *slog.Logger) error {
	keys, err := loadAPIKeys(cfg.apiKeysFile)
	if err != nil {
		return fmt.Errorf("load api keys: %w", err)
	}
	opts := store.DefaultOptions()
	opts.SyncWrites = cfg.syncWrites
	opts.SweepInterval = cfg.sweepInterval
	st, err := store.Open(cfg.dataDir, opts)
	if err != nil {
		return fmt.Errorf("open store: %w", err)
	}
	defer st.Close()

	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	if cfg.compactInterval > 0 {
		go compactPeriodically(ctx, st, cfg.compactInterval, logger)
	}

	srv := &http.Server{
		Addr:              cfg.addr,
		Handler:           server.New(st, logger, keys),
		ReadHeaderTimeout: 5 * time.Second,
		IdleTimeout:       2 * time.Minute,
	}
	errCh := make(chan error, 1)
	go func() {
		logger.Info("kvstore listening", "addr", cfg.addr, "data", cfg.dataDir, "auth", len(keys) > 0)
		errCh <- srv.ListenAndServe()
	}()

	select {
	case err := <-errCh:
		if !errors.Is(err, http.ErrServerClosed) {
			return err
		}
		return nil
	case <-ctx.Done():
	}
	logger.Info("shutting down", "timeout", cfg.shutdownTimeout)
	shutdownCtx, cancel := context.WithTimeout(context.Background(), cfg.shutdownTimeout)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); err != nil {
		return fmt.Errorf("graceful shutdown: %w", err)
	}
	return nil
}

func main() {
	logger := slog.New(slog.NewJSONHandler(os.Stderr, nil))
	cfg, err := parseFlags(os.Args[1:])
	if err != nil {
		os.Exit(2)
	}
	if err := run(cfg, logger); err != nil {
		logger.Error("kvstore exited", "err", err)
		os.Exit(1)
	}
}
