// Package server exposes a store.Store over a small JSON/HTTP API.
package server

import (
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"time"

	"github.com/example/kvstore/store"
)

// MaxValueBytes is the largest request body accepted by PUT.
const MaxValueBytes = 1 << 20

// Server routes HTTP requests to a store.
type Server struct {
	store   *store.Store
	logger  *slog.Logger
	handler http.Handler
}

// errorBody is the JSON document returned for every failed request.
type errorBody struct {
	Error   string `json:"error"`
	Message string `json:"message"`
}

// New builds the route table and wraps it in the standard middleware chain:
// panic recovery, request logging and API key authentication.
func New(st *store.Store, logger *slog.Logger, apiKeys []string) *Server {
	s := &Server{store: st, logger: logger}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", s.handleHealth)
	mux.HandleFunc("GET /v1/kv/{key}", s.handleGet)
	mux.HandleFunc("PUT /v1/kv/{key}", s.handlePut)
	mux.HandleFunc("DELETE /v1/kv/{key}", s.handleDelete)
	mux.HandleFunc("GET /v1/keys", s.handleListKeys)
	mux.HandleFunc("POST /v1/admin/compact", s.handleCompact)
	s.handler = Chain(mux, Recoverer(logger), RequestLogger(logger), APIKeyAuth(apiKeys))
	return s
}

func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.handler.ServeHTTP(w, r)
}

// writeJSONError sends a JSON error document such as
// {"error":"not_found","message":"store: key not found"} with the given status.
func writeJSONError(w http.ResponseWriter, status int, code, message string) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(errorBody{Error: code, Message: message})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}

// storeErrorStatus maps store errors to HTTP status codes and error codes.
func storeErrorStatus(err error) (int, string) {
	switch {
	case errors.Is(err, store.ErrNotFound):
		return http.StatusNotFound, "not_found"
	case errors.Is(err, store.ErrEmptyKey):
		return http.StatusBadRequest, "bad_key"
	case errors.Is(err, store.ErrClosed):
		return http.StatusServiceUnavailable, "unavailable"
	default:
		return http.StatusInternalServerError, "internal"
	}
}

func (s *Server) handleHealth(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, map[string]any{"status": "ok", "keys": s.store.Len()})
}

// handleGet returns the raw value bytes as application/octet-stream.
func (s *Server) handleGet(w http.ResponseWriter, r *http.Request) {
	value, err := s.store.Get(r.PathValue("key"))
	if err != nil {
		status, code := storeErrorStatus(err)
		writeJSONError(w, status, code, err.Error())
		return
	}
	w.Header().Set("Content-Type", "application/octet-stream")
	w.Header().Set("Content-Length", strconv.Itoa(len(value)))
	w.Write(value)
}

// handlePut stores the request body. An optional ?ttl=30s query parameter
// makes the key expire.
func (s *Server) handlePut(w http.ResponseWriter, r *http.Request) {
	key := r.PathValue("key")
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, MaxValueBytes))
	if err != nil {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			writeJSONError(w, http.StatusRequestEntityTooLarge, "too_large", "value exceeds 1 MiB")
			return
		}
		writeJSONError(w, http.StatusBadRequest, "bad_body", err.Error())
		return
	}
	if raw := r.URL.Query().Get("ttl"); raw != "" {
		ttl, perr := time.ParseDuration(raw)
		if perr != nil || ttl <= 0 {
			writeJSONError(w, http.StatusBadRequest, "bad_ttl", "ttl must be a positive duration like 30s or 5m")
			return
		}
		err = s.store.PutWithTTL(key, body, ttl)
	} else {
		err = s.store.Put(key, body)
	}
	if err != nil {
		status, code := storeErrorStatus(err)
		writeJSONError(w, status, code, err.Error())
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (s *Server) handleDelete(w http.ResponseWriter, r *http.Request) {
	if err := s.store.Delete(r.PathValue("key")); err != nil {
		status, code := storeErrorStatus(err)
		writeJSONError(w, status, code, err.Error())
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (s *Server) handleListKeys(w http.ResponseWriter, r *http.Request) {
	keys := s.store.Keys(r.URL.Query().Get("prefix"))
	writeJSON(w, http.StatusOK, map[string]any{"keys": keys, "count": len(keys)})
}

// handleCompact triggers a synchronous compaction and reports its statistics.
func (s *Server) handleCompact(w http.ResponseWriter, r *http.Request) {
	stats, err := s.store.Compact()
	if err != nil {
		s.logger.Error("compaction failed", "err", err)
		status, code := storeErrorStatus(err)
		writeJSONError(w, status, code, err.Error())
		return
	}
	writeJSON(w, http.StatusOK, stats)
}
