import { promises as fs } from "node:fs";
import * as path from "node:path";
import { randomBytes } from "node:crypto";
import type { Priority, StoreFile, Task } from "./types.js";

const EMPTY_STORE: StoreFile = { version: 1, lastSyncAt: 0, tasks: [] };

export interface NewTask {
  title: string;
  due?: string;
  tags?: string[];
  priority?: Priority;
}

/**
 * Keeps the task list in a single JSON file (by default ~/.tasktrack.json).
 *
 * All mutating methods only change the in-memory copy; call `save()` to
 * persist. Saving is atomic, so a crash never leaves a half-written file.
 */
export class TaskStore {
  private data: StoreFile = { ...EMPTY_STORE, tasks: [] };

  constructor(private readonly filePath: string) {}

  async load(): Promise<void> {
    try {
      const raw = await fs.readFile(this.filePath, "utf8");
      const parsed = JSON.parse(raw) as StoreFile;
      if (parsed.version !== 1 || !Array.isArray(parsed.tasks)) {
        throw new Error(`${this.filePath}: unsupported store format`);
      }
      this.data = parsed;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === "ENOENT") {
        this.data = { ...EMPTY_STORE, tasks: [] };
        return;
      }
      throw err;
    }
  }

  /**
   * Write the store to disk atomically: the JSON is written to a temporary
   * file in the same directory, flushed with fsync, and then renamed over the
   * real file. rename() is atomic on POSIX filesystems.
   */
  async save(): Promise<void> {
    const dir = path.dirname(this.filePath);
    await fs.mkdir(dir, { recursive: true });
    const tmp = path.join(dir, `.${path.basename(this.filePath)}.${randomBytes(4).toString("hex")}.tmp`);
    const handle = await fs.open(tmp, "w", 0o600);
    try {
      await handle.writeFile(JSON.stringify(this.data, null, 2) + "\n", "utf8");
      await handle.sync();
    } finally {
      await handle.close();
    }
    await fs.rename(tmp, this.filePath);
  }

  private nextId(): string {
    const max = this.data.tasks.reduce((acc, t) => Math.max(acc, Number.parseInt(t.id, 10) || 0), 0);
    return String(max + 1);
  }

  add(input: NewTask, now: number = Date.now()): Task {
    const title = input.title.trim();
    if (!title) throw new Error("task title must not be empty");
    const task: Task = {
      id: this.nextId(),
      title,
      done: false,
      due: input.due,
      tags: [...new Set((input.tags ?? []).map((t) => t.toLowerCase()))],
      priority: input.priority ?? "medium",
      createdAt: now,
      updatedAt: now,
    };
    this.data.tasks.push(task);
    return task;
  }

  get(id: string): Task | undefined {
    return this.data.tasks.find((t) => t.id === id && !t.deleted);
  }

  complete(id: string, now: number = Date.now()): Task {
    const task = this.get(id);
    if (!task) throw new Error(`no task with id ${id}`);
    task.done = true;
    task.updatedAt = now;
    return task;
  }

  /** Soft-delete a task; it is removed for good after the next sync. */
  delete(id: string, now: number = Date.now()): void {
    const task = this.get(id);
    if (!task) throw new Error(`no task with id ${id}`);
    task.deleted = true;
    task.updatedAt = now;
  }

  update(id: string, changes: Partial<Pick<Task, "title" | "due" | "tags" | "priority">>, now = Date.now()): Task {
    const task = this.get(id);
    if (!task) throw new Error(`no task with id ${id}`);
    Object.assign(task, changes, { updatedAt: now });
    return task;
  }

  all(includeDeleted = false): Task[] {
    return this.data.tasks.filter((t) => includeDeleted || !t.deleted);
  }

  replaceAll(tasks: Task[], lastSyncAt: number): void {
    this.data = { version: 1, lastSyncAt, tasks: tasks.filter((t) => !t.deleted) };
  }

  get lastSyncAt(): number {
    return this.data.lastSyncAt;
  }
}
