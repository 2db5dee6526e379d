package store

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
)

// Op identifies the kind of change stored in a log record.
type Op byte

const (
	OpPut    Op = 1
	OpDelete Op = 2 // a tombstone
)

// Record header layout (little endian):
//
//	crc32   uint32  checksum of everything after this field
//	op      uint8
//	expires int64   unix nanoseconds, 0 = no expiry
//	keyLen  uint32
//	valLen  uint32
const recordHeaderSize = 4 + 1 + 8 + 4 + 4

const segmentSuffix = ".wal"

// ErrCorruptRecord means a record's checksum did not match its contents.
var ErrCorruptRecord = errors.New("wal: corrupt record")

var crcTable = crc32.MakeTable(crc32.Castagnoli)

// Record is one entry of the write-ahead log.
type Record struct {
	Op        Op
	Key       string
	Value     []byte
	ExpiresAt int64
}

func encodeRecord(r Record) []byte {
	buf := make([]byte, recordHeaderSize+len(r.Key)+len(r.Value))
	buf[4] = byte(r.Op)
	binary.LittleEndian.PutUint64(buf[5:13], uint64(r.ExpiresAt))
	binary.LittleEndian.PutUint32(buf[13:17], uint32(len(r.Key)))
	binary.LittleEndian.PutUint32(buf[17:21], uint32(len(r.Value)))
	copy(buf[recordHeaderSize:], r.Key)
	copy(buf[recordHeaderSize+len(r.Key):], r.Value)
	binary.LittleEndian.PutUint32(buf[0:4], crc32.Checksum(buf[4:], crcTable))
	return buf
}

// decodeRecord reads one record and verifies its CRC32 checksum. It returns
// io.EOF at a clean end of file and io.ErrUnexpectedEOF for a torn write.
func decodeRecord(r *bufio.Reader) (Record, int, error) {
	header := make([]byte, recordHeaderSize)
	if _, err := io.ReadFull(r, header); err != nil {
		return Record{}, 0, err
	}
	keyLen := binary.LittleEndian.Uint32(header[13:17])
	valLen := binary.LittleEndian.Uint32(header[17:21])
	if keyLen > MaxKeySize || valLen > 64<<20 {
		return Record{}, 0, ErrCorruptRecord
	}
	body := make([]byte, int(keyLen)+int(valLen))
	if _, err := io.ReadFull(r, body); err != nil {
		if errors.Is(err, io.EOF) {
			err = io.ErrUnexpectedEOF
		}
		return Record{}, 0, err
	}
	crc := crc32.New(crcTable)
	crc.Write(header[4:])
	crc.Write(body)
	if crc.Sum32() != binary.LittleEndian.Uint32(header[0:4]) {
		return Record{}, 0, ErrCorruptRecord
	}
	rec := Record{
		Op:        Op(header[4]),
		ExpiresAt: int64(binary.LittleEndian.Uint64(header[5:13])),
		Key:       string(body[:keyLen]),
		Value:     body[keyLen:],
	}
	return rec, recordHeaderSize + len(body), nil
}

// WAL appends records to numbered segment files (000001.wal, 000002.wal, ...).
// Only the newest segment is ever written to.
type WAL struct {
	mu         sync.Mutex
	dir        string
	seq        int
	f          *os.File
	w          *bufio.Writer
	size       int64
	maxSize    int64
	syncWrites bool
}

func segmentPath(dir string, seq int) string {
	return filepath.Join(dir, fmt.Sprintf("%06d%s", seq, segmentSuffix))
}

// listSegments returns the segment files in dir ordered oldest first.
func listSegments(dir string) ([]string, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	type seg struct {
		seq  int
		path string
	}
	var segs []seg
	for _, e := range entries {
		name := e.Name()
		if e.IsDir() || !strings.HasSuffix(name, segmentSuffix) {
			continue
		}
		n, err := strconv.Atoi(strings.TrimSuffix(name, segmentSuffix))
		if err != nil {
			continue
		}
		segs = append(segs, seg{n, filepath.Join(dir, name)})
	}
	sort.Slice(segs, func(i, j int) bool { return segs[i].seq < segs[j].seq })
	paths := make([]string, len(segs))
	for i, s := range segs {
		paths[i] = s.path
	}
	return paths, nil
}

// OpenWAL opens the newest segment in dir for appending, creating 000001.wal
// if the directory is empty.
func OpenWAL(dir string, maxSize int64, syncWrites bool) (*WAL, error) {
	segs, err := listSegments(dir)
	if err != nil {
		return nil, err
	}
	seq := 1
	if len(segs) > 0 {
		seq, _ = strconv.Atoi(strings.TrimSuffix(filepath.Base(segs[len(segs)-1]), segmentSuffix))
	}
	w := &WAL{dir: dir, maxSize: maxSize, syncWrites: syncWrites}
	if err := w.openSegment(seq); err != nil {
		return nil, err
	}
	return w, nil
}

func (w *WAL) openSegment(seq int) error {
	f, err := os.OpenFile(segmentPath(w.dir, seq), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return fmt.Errorf("wal: open segment: %w", err)
	}
	info, err := f.Stat()
	if err != nil {
		f.Close()
		return err
	}
	w.seq, w.f, w.size = seq, f, info.Size()
	w.w = bufio.NewWriterSize(f, 64<<10)
	return nil
}

// Append writes one record to the end of the active segment. When the WAL was
// opened with syncWrites the data is fsynced to disk before Append returns.
// The segment is rotated once it grows past maxSize.
func (w *WAL) Append(rec Record) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	data := encodeRecord(rec)
	if _, err := w.w.Write(data); err != nil {
		return fmt.Errorf("wal: append: %w", err)
	}
	if err := w.w.Flush(); err != nil {
		return fmt.Errorf("wal: flush: %w", err)
	}
	if w.syncWrites {
		if err := w.f.Sync(); err != nil {
			return fmt.Errorf("wal: fsync: %w", err)
		}
	}
	w.size += int64(len(data))
	if w.maxSize > 0 && w.size >= w.maxSize {
		return w.rotateLocked()
	}
	return nil
}

// Rotate closes the active segment and starts a new, empty one. It returns
// the paths of all segments that are now immutable.
func (w *WAL) Rotate() ([]string, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if err := w.rotateLocked(); err != nil {
		return nil, err
	}
	segs, err := listSegments(w.dir)
	if err != nil {
		return nil, err
	}
	return segs[:len(segs)-1], nil
}

func (w *WAL) rotateLocked() error {
	if err := w.w.Flush(); err != nil {
		return err
	}
	if err := w.f.Sync(); err != nil {
		return err
	}
	if err := w.f.Close(); err != nil {
		return err
	}
	return w.openSegment(w.seq + 1)
}

// Close flushes buffered data, fsyncs and closes the active segment.
func (w *WAL) Close() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if err := w.w.Flush(); err != nil {
		return err
	}
	if err := w.f.Sync(); err != nil {
		return err
	}
	return w.f.Close()
}

// Replay reads every segment in dir, oldest first, and calls apply for each
// record. It is used on startup to rebuild the in-memory state.
//
// A torn or corrupt record at the very end of the newest segment is expected
// after a crash: the segment is truncated to the last good record and replay
// succeeds. Corruption anywhere else is reported as an error.
func Replay(dir string, apply func(Record)) error {
	segs, err := listSegments(dir)
	if err != nil {
		return err
	}
	for i, path := range segs {
		last := i == len(segs)-1
		f, err := os.Open(path)
		if err != nil {
			return err
		}
		r := bufio.NewReader(f)
		var offset int64
		for {
			rec, n, err := decodeRecord(r)
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				f.Close()
				if last && (errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, ErrCorruptRecord)) {
					if terr := os.Truncate(path, offset); terr != nil {
						return fmt.Errorf("wal: truncate torn tail of %s: %w", path, terr)
					}
					return nil
				}
				return fmt.Errorf("wal: %s at offset %d: %w", filepath.Base(path), offset, err)
			}
			apply(rec)
			offset += int64(n)
		}
		f.Close()
	}
	return nil
}
