package store

import (
	"errors"
	"time"
)

// ErrNoTTL is returned by TTL for keys that never expire.
var ErrNoTTL = errors.New("store: key has no ttl")

func (e entry) expired(now time.Time) bool {
	return e.expiresAt != 0 && e.expiresAt <= now.UnixNano()
}

// PutWithTTL stores value under key and makes it expire after ttl. Expired
// keys are invisible to Get immediately and are physically removed by the
// background sweeper.
func (s *Store) PutWithTTL(key string, value []byte, ttl time.Duration) error {
	if ttl <= 0 {
		return errors.New("store: ttl must be positive")
	}
	return s.put(key, value, time.Now().Add(ttl).UnixNano())
}

// TTL returns how long key has left to live.
func (s *Store) TTL(key string) (time.Duration, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	e, ok := s.data[key]
	now := time.Now()
	if !ok || e.expired(now) {
		return 0, ErrNotFound
	}
	if e.expiresAt == 0 {
		return 0, ErrNoTTL
	}
	return time.Duration(e.expiresAt - now.UnixNano()), nil
}

// sweepExpired deletes every expired key from memory and returns how many
// were removed. No tombstones are written: on replay the stored expiry time
// alone is enough to skip the record.
func (s *Store) sweepExpired(now time.Time) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	removed := 0
	for key, e := range s.data {
		if e.expired(now) {
			delete(s.data, key)
			removed++
		}
	}
	return removed
}

// startSweeper launches the background goroutine that removes expired keys
// every interval until Close is called.
func (s *Store) startSweeper(interval time.Duration) {
	s.stopSweeper = make(chan struct{})
	s.sweeperDone = make(chan struct{})
	go func() {
		defer close(s.sweeperDone)
		ticker := time.NewTicker(interval)
		defer ticker.Stop()
		for {
			select {
			case now := <-ticker.C:
				s.sweepExpired(now)
			case <-s.stopSweeper:
				return
			}
		}
	}()
}
