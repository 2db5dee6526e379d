"""The token estimate against the real uncased BERT WordPiece tokenizer."""

from __future__ import annotations

import statistics
from collections.abc import Callable

import pytest
from tokenizers import Tokenizer

from indexer.tokens import HEADER_RESERVE, estimate_tokens, text_budget, token_weight

SAMPLES = {
    "retry.py": '''\
import random
import time
from dataclasses import dataclass


@dataclass(frozen=True)
class RetryPolicy:
    """How often and how long to wait before trying a request again."""

    max_attempts: int = 5
    base_delay: float = 0.25
    max_delay: float = 30.0

    def delay(self, attempt: int, retry_after: float | None = None) -> float:
        if retry_after is not None:
            return min(retry_after, self.max_delay)
        backoff = self.base_delay * (2 ** (attempt - 1))
        return min(self.max_delay, backoff * random.uniform(0.5, 1.5))


def call_with_retries(fn, policy: RetryPolicy = RetryPolicy()):
    for attempt in range(1, policy.max_attempts + 1):
        try:
            return fn()
        except ConnectionError as exc:
            if attempt == policy.max_attempts:
                raise RuntimeError(f"gave up after {attempt} attempts") from exc
            time.sleep(policy.delay(attempt))
''',
    "server.js": """\
const express = require("express");
const { TaskStore } = require("./store");

const app = express();
const store = new TaskStore(process.env.TASKS_FILE || "tasks.json");
app.use(express.json());

app.get("/api/tasks", async (req, res) => {
  const tasks = await store.all({ includeDone: req.query.done === "1" });
  res.json(tasks.map((t) => ({ id: t.id, title: t.title, dueAt: t.dueAt })));
});

app.post("/api/tasks", async (req, res, next) => {
  try {
    const task = await store.add({ title: req.body.title, dueAt: Date.parse(req.body.due) });
    res.status(201).json(task);
  } catch (err) {
    next(err);
  }
});

app.listen(Number(process.env.PORT) || 8080, () => console.log("listening"));
""",
    "handler.go": """\
package api

import (
    "encoding/json"
    "net/http"
    "strconv"
)

type TaskHandler struct {
    Store *TaskStore
}

func (h *TaskHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
    id, err := strconv.Atoi(r.URL.Query().Get("id"))
    if err != nil {
        http.Error(w, "bad id", http.StatusBadRequest)
        return
    }
    task, ok := h.Store.Get(id)
    if !ok {
        http.NotFound(w, r)
        return
    }
    w.Header().Set("Content-Type", "application/json")
    _ = json.NewEncoder(w).Encode(task)
}
""",
    "table.c": """\
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

typedef struct entry {
    char *key;
    uint64_t hash;
    struct entry *next;
} entry_t;

static uint64_t fnv1a(const char *s) {
    uint64_t h = 1469598103934665603ULL;
    while (*s) {
        h ^= (unsigned char)*s++;
        h *= 1099511628211ULL;
    }
    return h;
}

entry_t *table_find(entry_t **buckets, size_t nbuckets, const char *key) {
    uint64_t h = fnv1a(key);
    for (entry_t *e = buckets[h % nbuckets]; e != NULL; e = e->next) {
        if (e->hash == h && strcmp(e->key, key) == 0) return e;
    }
    return NULL;
}
""",
    "Cache.java": """\
package com.example.cache;

import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;

public final class LruCache<K, V> extends LinkedHashMap<K, V> {
    private final int capacity;
    private final Duration ttl;

    public LruCache(int capacity, Duration ttl) {
        super(16, 0.75f, true);
        this.capacity = capacity;
        this.ttl = ttl;
    }

    @Override
    protected boolean removeEldestEntry(Map.Entry<K, V> eldest) {
        return size() > capacity;
    }
}
""",
    "guide.md": """\
# Configuration

Settings are read from command-line flags first, then from environment variables, and
finally from built-in defaults. There is no configuration file until someone needs one.

## Where the index lives

By default the index is stored in your platform's user data directory, for example
`~/.local/share/gte-search` on Linux. Set `GTE_SEARCH_INDEX` to keep it somewhere else,
such as a fast local disk when your home directory is on a network share.

Re-indexing is incremental: files whose content hash has not changed are skipped, so a
second run over a large repository usually takes a few seconds.
""",
}


@pytest.fixture(scope="module")
def real_tokens(wordpiece: Tokenizer) -> Callable[[str], int]:
    """Token count of the real tokenizer, without [CLS]/[SEP]."""
    return lambda text: len(wordpiece.encode(text, add_special_tokens=False).ids)


def windows(size: int) -> list[str]:
    """Every run of `size` consecutive lines of every sample, all-blank runs left out."""
    pieces = []
    for text in SAMPLES.values():
        rows = text.splitlines()
        pieces += ["\n".join(rows[i : i + size]) for i in range(len(rows) - size + 1)]
    return [p for p in pieces if p.strip()]


@pytest.mark.parametrize("size", [3, 8, 20])
def test_the_estimate_rarely_undercounts_and_overcounts_moderately(
    size: int, real_tokens: Callable[[str], int]
) -> None:
    pairs = [(estimate_tokens(p), real_tokens(p)) for p in windows(size)]

    covered = sum(estimate >= real for estimate, real in pairs) / len(pairs)
    ratio = statistics.mean(estimate / real for estimate, real in pairs)
    assert covered >= 0.95
    assert ratio <= 1.6


@pytest.mark.parametrize("name", SAMPLES)
def test_whole_files_are_never_undercounted(name: str, real_tokens: Callable[[str], int]) -> None:
    text = SAMPLES[name]
    # Prose is overcounted more: long English words are single WordPieces more often.
    slack = 1.8 if name.endswith(".md") else 1.6
    assert real_tokens(text) <= estimate_tokens(text) <= slack * real_tokens(text)


@pytest.mark.parametrize(
    "text",
    ["(){}[];,.", "x = y + 1", "naïve café", "日本語のテキスト", "a 🙂 b", "  \t  "],
)
def test_symbols_accents_and_cjk_are_counted_like_bert(
    text: str, real_tokens: Callable[[str], int]
) -> None:
    assert real_tokens(text) <= estimate_tokens(text) <= real_tokens(text) + 3


def test_the_estimate_adds_up_over_lines() -> None:
    # The packers price a range of lines as the sum of its lines.
    rows = SAMPLES["retry.py"].split("\n")
    assert sum(token_weight(row) for row in rows) == pytest.approx(
        token_weight(SAMPLES["retry.py"])
    )
    assert estimate_tokens("") == 0


def test_the_text_budget_leaves_room_for_the_header(real_tokens: Callable[[str], int]) -> None:
    assert text_budget(512, "src/app.py", "Client.send") == 512 - HEADER_RESERVE
    long_path = "/".join(["some_rather_long_directory_name"] * 10) + "/module.py"
    budget = text_budget(512, long_path, "Client.send")
    assert budget + real_tokens(f"{long_path} | Client.send") + 2 <= 512
