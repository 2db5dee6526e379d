import { daysUntil, isOverdue } from "./dates.js";
import type { Priority, Task } from "./types.js";

const ANSI = {
  reset: "\x1b[0m",
  red: "\x1b[31m",
  yellow: "\x1b[33m",
  dim: "\x1b[2m",
  bold: "\x1b[1m",
};

const PRIORITY_ORDER: Record<Priority, number> = { high: 0, medium: 1, low: 2 };

export interface RenderOptions {
  color: boolean;
  now?: Date;
  maxTitleWidth?: number;
}

/** Human-readable due column: "today", "tomorrow", "in 4d", "2d overdue". */
export function describeDue(due: string | undefined, now: Date): string {
  if (!due) return "";
  const days = daysUntil(due, now);
  if (days === 0) return "today";
  if (days === 1) return "tomorrow";
  if (days < 0) return `${-days}d overdue`;
  return days <= 14 ? `in ${days}d` : due;
}

function truncate(text: string, width: number): string {
  return text.length <= width ? text : text.slice(0, Math.max(0, width - 1)) + "…";
}

/**
 * Wrap a finished table row in ANSI colours: overdue open tasks are red,
 * tasks due today are yellow and completed tasks are dimmed.
 */
export function colorizeRow(row: string, task: Task, now: Date): string {
  if (task.done) return ANSI.dim + row + ANSI.reset;
  if (isOverdue(task.due, now)) return ANSI.red + ANSI.bold + row + ANSI.reset;
  if (task.due && daysUntil(task.due, now) === 0) return ANSI.yellow + row + ANSI.reset;
  return row;
}

export function sortTasks(tasks: Task[]): Task[] {
  return [...tasks].sort((a, b) => {
    if (a.done !== b.done) return a.done ? 1 : -1;
    const dueA = a.due ?? "9999-12-31";
    const dueB = b.due ?? "9999-12-31";
    if (dueA !== dueB) return dueA < dueB ? -1 : 1;
    return PRIORITY_ORDER[a.priority] - PRIORITY_ORDER[b.priority];
  });
}

/** Render tasks as an aligned plain-text table with ID, DUE, PRI, TITLE and TAGS columns. */
export function renderTable(tasks: Task[], options: RenderOptions): string {
  const now = options.now ?? new Date();
  const titleWidth = options.maxTitleWidth ?? 50;
  const header = ["ID", "DUE", "PRI", "TITLE", "TAGS"];
  const sorted = sortTasks(tasks);
  const rows = sorted.map((t) => [
    t.id,
    describeDue(t.due, now),
    t.priority[0].toUpperCase(),
    truncate((t.done ? "✓ " : "") + t.title, titleWidth),
    t.tags.map((tag) => `#${tag}`).join(" "),
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells: string[]) => cells.map((c, i) => c.padEnd(widths[i])).join("  ").trimEnd();
  const out = [options.color ? ANSI.bold + line(header) + ANSI.reset : line(header)];
  rows.forEach((cells, i) => {
    const text = line(cells);
    out.push(options.color ? colorizeRow(text, sorted[i], now) : text);
  });
  return out.join("\n");
}
