import type { TaskStore } from "./store.js";
import type { SyncResult, Task } from "./types.js";

export interface SyncOptions {
  serverUrl: string;
  token: string;
  timeoutMs?: number;
}

/**
 * Decide which version of a task wins when it was changed both locally and
 * on the server since the last sync.
 *
 * Strategy: last writer wins, using `updatedAt` timestamps. On an exact tie a
 * deletion beats an edit (so deleted tasks do not resurrect), and otherwise
 * the server copy wins so that every client converges on the same state.
 */
export function resolveConflict(local: Task, remote: Task): Task {
  if (local.updatedAt > remote.updatedAt) return local;
  if (remote.updatedAt > local.updatedAt) return remote;
  if (local.deleted && !remote.deleted) return local;
  return remote;
}

/** Merge the local task list with the tasks the server reported as changed. */
export function mergeTasks(local: Task[], remoteChanges: Task[], lastSyncAt: number) {
  const byId = new Map(local.map((t) => [t.id, t]));
  let conflicts = 0;
  for (const remote of remoteChanges) {
    const mine = byId.get(remote.id);
    if (!mine) {
      byId.set(remote.id, remote);
    } else if (mine.updatedAt > lastSyncAt) {
      conflicts += 1;
      byId.set(remote.id, resolveConflict(mine, remote));
    } else {
      byId.set(remote.id, remote);
    }
  }
  return { merged: [...byId.values()], conflicts };
}

export class SyncClient {
  constructor(private readonly options: SyncOptions) {}

  private async request<T>(method: string, path: string, body?: unknown): Promise<T> {
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(), this.options.timeoutMs ?? 10_000);
    try {
      const res = await fetch(new URL(path, this.options.serverUrl), {
        method,
        headers: {
          Authorization: `Bearer ${this.options.token}`,
          "Content-Type": "application/json",
        },
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: controller.signal,
      });
      if (!res.ok) {
        throw new Error(`sync server answered ${res.status} ${res.statusText} for ${method} ${path}`);
      }
      return (await res.json()) as T;
    } finally {
      clearTimeout(timer);
    }
  }

  /** Download every task changed on the server after `since` (epoch ms). */
  pull(since: number): Promise<{ tasks: Task[]; serverTime: number }> {
    return this.request("GET", `/v1/tasks?since=${since}`);
  }

  push(tasks: Task[]): Promise<{ accepted: number }> {
    return this.request("POST", "/v1/tasks/batch", { tasks });
  }

  /**
   * Two-way sync: pull remote changes, merge them (resolving conflicts),
   * push everything that changed locally, then persist the merged store.
   */
  async sync(store: TaskStore): Promise<SyncResult> {
    const lastSyncAt = store.lastSyncAt;
    const { tasks: remote, serverTime } = await this.pull(lastSyncAt);
    const { merged, conflicts } = mergeTasks(store.all(true), remote, lastSyncAt);
    const outgoing = merged.filter((t) => t.updatedAt > lastSyncAt && !remote.includes(t));
    const { accepted } = outgoing.length > 0 ? await this.push(outgoing) : { accepted: 0 };
    store.replaceAll(merged, serverTime);
    await store.save();
    return { pulled: remote.length, pushed: accepted, conflicts };
  }
}
