package store

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"time"
)

// CompactionStats describes the outcome of one compaction run.
type CompactionStats struct {
	SegmentsMerged int
	RecordsRead    int
	RecordsKept    int
	BytesBefore    int64
	BytesAfter     int64
	Duration       time.Duration
}

// mergeSegments reads the given segments oldest first and keeps only the
// newest record for every key. Tombstones and records whose TTL has passed
// are dropped, since nothing older remains for them to shadow.
func mergeSegments(paths []string, now time.Time) (map[string]Record, int, error) {
	latest := make(map[string]Record)
	read := 0
	for _, path := range paths {
		f, err := os.Open(path)
		if err != nil {
			return nil, 0, err
		}
		r := bufio.NewReader(f)
		for {
			rec, _, err := decodeRecord(r)
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				f.Close()
				return nil, 0, fmt.Errorf("compaction: read %s: %w", filepath.Base(path), err)
			}
			read++
			latest[rec.Key] = rec
		}
		f.Close()
	}
	for key, rec := range latest {
		if rec.Op == OpDelete || (rec.ExpiresAt != 0 && rec.ExpiresAt <= now.UnixNano()) {
			delete(latest, key)
		}
	}
	return latest, read, nil
}

// writeSegment writes records sorted by key to path via a temporary file
// that is fsynced and then renamed into place.
func writeSegment(path string, records map[string]Record) (int64, error) {
	keys := make([]string, 0, len(records))
	for k := range records {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	tmp := path + ".tmp"
	f, err := os.Create(tmp)
	if err != nil {
		return 0, err
	}
	w := bufio.NewWriter(f)
	var size int64
	for _, k := range keys {
		n, err := w.Write(encodeRecord(records[k]))
		if err != nil {
			f.Close()
			os.Remove(tmp)
			return 0, err
		}
		size += int64(n)
	}
	syncErr := w.Flush()
	if syncErr == nil {
		syncErr = f.Sync()
	}
	if err := errors.Join(syncErr, f.Close()); err != nil {
		os.Remove(tmp)
		return 0, err
	}
	return size, os.Rename(tmp, path)
}

func totalSize(paths []string) int64 {
	var n int64
	for _, p := range paths {
		if info, err := os.Stat(p); err == nil {
			n += info.Size()
		}
	}
	return n
}

// Compact rewrites all immutable WAL segments into a single segment that
// contains only live keys. The active segment is rotated first so that
// writes can continue while the old segments are merged in the background;
// the in-memory map is not touched.
//
// The merged data replaces the newest immutable segment (keeping its
// sequence number so replay order stays correct) and the older segments are
// deleted afterwards.
func (s *Store) Compact() (CompactionStats, error) {
	s.compactMu.Lock()
	defer s.compactMu.Unlock()
	start := time.Now()

	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return CompactionStats{}, ErrClosed
	}
	segs, err := s.wal.Rotate()
	s.mu.Unlock()
	if err != nil {
		return CompactionStats{}, fmt.Errorf("compaction: rotate: %w", err)
	}
	if len(segs) < 2 {
		return CompactionStats{SegmentsMerged: len(segs)}, nil
	}

	stats := CompactionStats{SegmentsMerged: len(segs), BytesBefore: totalSize(segs)}
	live, read, err := mergeSegments(segs, start)
	if err != nil {
		return stats, err
	}
	stats.RecordsRead = read
	stats.RecordsKept = len(live)

	target := segs[len(segs)-1]
	size, err := writeSegment(target, live)
	if err != nil {
		return stats, fmt.Errorf("compaction: write %s: %w", filepath.Base(target), err)
	}
	stats.BytesAfter = size
	for _, old := range segs[:len(segs)-1] {
		if err := os.Remove(old); err != nil && !errors.Is(err, os.ErrNotExist) {
			return stats, fmt.Errorf("compaction: remove %s: %w", filepath.Base(old), err)
		}
	}
	if dir, err := os.Open(s.dir); err == nil {
		dir.Sync() // persist the renames and removals
		dir.Close()
	}
	stats.Duration = time.Since(start)
	return stats, nil
}
