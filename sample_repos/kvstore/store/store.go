// Package store implements an embedded key-value store backed by a
// write-ahead log. All data is kept in memory; the log on disk is replayed
// when the store is opened and periodically compacted.
package store

import (
	"errors"
	"fmt"
	"os"
	"sort"
	"strings"
	"sync"
	"time"
)

var (
	// ErrNotFound is returned when a key does not exist or has expired.
	ErrNotFound = errors.New("store: key not found")
	// ErrClosed is returned by every method after Close has been called.
	ErrClosed = errors.New("store: closed")
	// ErrEmptyKey is returned when an empty key is passed to Put.
	ErrEmptyKey = errors.New("store: empty key")
)

// MaxKeySize limits the length of a key in bytes.
const MaxKeySize = 1024

// Options tune durability and background work.
type Options struct {
	// SyncWrites calls fsync after every write. Slower, but no acknowledged
	// write is lost on power failure.
	SyncWrites bool
	// MaxSegmentBytes is the size at which the WAL rolls over to a new segment.
	MaxSegmentBytes int64
	// SweepInterval controls how often expired keys are removed. Zero disables the sweeper.
	SweepInterval time.Duration
}

// DefaultOptions returns the options used by the kvstore server.
func DefaultOptions() Options {
	return Options{
		SyncWrites:      true,
		MaxSegmentBytes: 64 << 20,
		SweepInterval:   time.Minute,
	}
}

type entry struct {
	value     []byte
	expiresAt int64 // unix nanoseconds; 0 means the key never expires
}

// Store is a concurrency-safe key-value store. Reads take a shared lock and
// writes an exclusive one, so many readers can proceed in parallel.
type Store struct {
	mu     sync.RWMutex
	dir    string
	opts   Options
	data   map[string]entry
	wal    *WAL
	closed bool

	compactMu   sync.Mutex // serialises compactions
	stopSweeper chan struct{}
	sweeperDone chan struct{}
}

// Open loads the store in dir, creating the directory if needed. Existing
// WAL segments are replayed to rebuild the in-memory map before the store
// accepts new writes.
func Open(dir string, opts Options) (*Store, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("store: create data dir: %w", err)
	}
	s := &Store{dir: dir, opts: opts, data: make(map[string]entry)}
	now := time.Now().UnixNano()
	err := Replay(dir, func(rec Record) {
		switch {
		case rec.Op == OpDelete:
			delete(s.data, rec.Key)
		case rec.ExpiresAt != 0 && rec.ExpiresAt <= now:
			delete(s.data, rec.Key)
		default:
			s.data[rec.Key] = entry{value: rec.Value, expiresAt: rec.ExpiresAt}
		}
	})
	if err != nil {
		return nil, err
	}
	wal, err := OpenWAL(dir, opts.MaxSegmentBytes, opts.SyncWrites)
	if err != nil {
		return nil, err
	}
	s.wal = wal
	if opts.SweepInterval > 0 {
		s.startSweeper(opts.SweepInterval)
	}
	return s, nil
}

// Get returns a copy of the value stored under key.
func (s *Store) Get(key string) ([]byte, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.closed {
		return nil, ErrClosed
	}
	e, ok := s.data[key]
	if !ok || e.expired(time.Now()) {
		return nil, ErrNotFound
	}
	out := make([]byte, len(e.value))
	copy(out, e.value)
	return out, nil
}

// Put stores value under key, replacing any previous value and TTL.
func (s *Store) Put(key string, value []byte) error {
	return s.put(key, value, 0)
}

func (s *Store) put(key string, value []byte, expiresAt int64) error {
	if key == "" {
		return ErrEmptyKey
	}
	if len(key) > MaxKeySize {
		return fmt.Errorf("store: key longer than %d bytes", MaxKeySize)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return ErrClosed
	}
	buf := append([]byte(nil), value...)
	if err := s.wal.Append(Record{Op: OpPut, Key: key, Value: buf, ExpiresAt: expiresAt}); err != nil {
		return err
	}
	s.data[key] = entry{value: buf, expiresAt: expiresAt}
	return nil
}

// Delete removes key. Deleting a missing key returns ErrNotFound and writes
// nothing to the log.
func (s *Store) Delete(key string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return ErrClosed
	}
	if _, ok := s.data[key]; !ok {
		return ErrNotFound
	}
	if err := s.wal.Append(Record{Op: OpDelete, Key: key}); err != nil {
		return err
	}
	delete(s.data, key)
	return nil
}

// Keys returns all live keys with the given prefix in sorted order.
func (s *Store) Keys(prefix string) []string {
	s.mu.RLock()
	defer s.mu.RUnlock()
	now := time.Now()
	keys := make([]string, 0, len(s.data))
	for k, e := range s.data {
		if strings.HasPrefix(k, prefix) && !e.expired(now) {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	return keys
}

// Len reports the number of keys, including expired keys not yet swept.
func (s *Store) Len() int {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return len(s.data)
}

// Close stops the sweeper, flushes the log and releases the data directory.
func (s *Store) Close() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return ErrClosed
	}
	s.closed = true
	s.mu.Unlock()
	if s.stopSweeper != nil {
		close(s.stopSweeper)
		<-s.sweeperDone
	}
	return s.wal.Close()
}
