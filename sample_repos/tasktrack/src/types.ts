/** Priority levels, from most to least urgent. */
export type Priority = "high" | "medium" | "low";

/** A single task as stored on disk and exchanged with the sync server. */
export interface Task {
  id: string;
  title: string;
  done: boolean;
  /** Due date as an ISO calendar date (YYYY-MM-DD), if any. */
  due?: string;
  tags: string[];
  priority: Priority;
  /** Milliseconds since the epoch. */
  createdAt: number;
  /** Milliseconds since the epoch; bumped on every change and used for sync. */
  updatedAt: number;
  /** Soft-deleted tasks are kept until the next successful sync. */
  deleted?: boolean;
}

/** The parsed form of a filter expression such as `due:today tag:work -done`. */
export interface Filter {
  tags: string[];
  excludedTags: string[];
  dueBefore?: string;
  dueOn?: string;
  overdue?: boolean;
  done?: boolean;
  priority?: Priority;
  text: string[];
}

/** Shape of the JSON file written by TaskStore. */
export interface StoreFile {
  version: 1;
  lastSyncAt: number;
  tasks: Task[];
}

export interface SyncResult {
  pulled: number;
  pushed: number;
  conflicts: number;
}
