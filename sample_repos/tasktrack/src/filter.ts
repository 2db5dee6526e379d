import { isOverdue, parseRelativeDate } from "./dates.js";
import type { Filter, Priority, Task } from "./types.js";

const PRIORITIES: Priority[] = ["high", "medium", "low"];

/**
 * Parse a filter expression such as `due:today tag:work -tag:later pri:high`.
 *
 * Supported terms:
 *   tag:NAME / +NAME   task must carry the tag
 *   -tag:NAME          task must not carry the tag
 *   due:DATE           due on that (relative) date
 *   before:DATE        due strictly before that date
 *   is:overdue         due in the past and not done
 *   is:done / is:open  completion state
 *   pri:LEVEL          priority high, medium or low
 * Anything else is a case-insensitive word that must appear in the title.
 */
export function parseFilter(expression: string, now: Date = new Date()): Filter {
  const filter: Filter = { tags: [], excludedTags: [], text: [] };
  for (const token of expression.split(/\s+/).filter(Boolean)) {
    const [key, ...rest] = token.split(":");
    const value = rest.join(":");
    if (token.startsWith("+") && token.length > 1) {
      filter.tags.push(token.slice(1).toLowerCase());
    } else if (key === "tag" && value) {
      filter.tags.push(value.toLowerCase());
    } else if (key === "-tag" && value) {
      filter.excludedTags.push(value.toLowerCase());
    } else if (key === "due" || key === "before") {
      const date = parseRelativeDate(value, now);
      if (!date) throw new Error(`cannot understand date "${value}" in filter`);
      if (key === "due") filter.dueOn = date;
      else filter.dueBefore = date;
    } else if (key === "is" && value === "overdue") {
      filter.overdue = true;
    } else if (key === "is" && (value === "done" || value === "open")) {
      filter.done = value === "done";
    } else if ((key === "pri" || key === "priority") && PRIORITIES.includes(value as Priority)) {
      filter.priority = value as Priority;
    } else {
      filter.text.push(token.toLowerCase());
    }
  }
  return filter;
}

export function matchesFilter(task: Task, filter: Filter, now: Date = new Date()): boolean {
  if (task.deleted) return false;
  if (filter.done !== undefined && task.done !== filter.done) return false;
  if (filter.priority && task.priority !== filter.priority) return false;
  if (!filter.tags.every((t) => task.tags.includes(t))) return false;
  if (filter.excludedTags.some((t) => task.tags.includes(t))) return false;
  if (filter.dueOn && task.due !== filter.dueOn) return false;
  if (filter.dueBefore && (!task.due || task.due >= filter.dueBefore)) return false;
  if (filter.overdue && (task.done || !isOverdue(task.due, now))) return false;
  const title = task.title.toLowerCase();
  return filter.text.every((word) => title.includes(word));
}

export function applyFilter(tasks: Task[], expression: string, now: Date = new Date()): Task[] {
  const filter = parseFilter(expression, now);
  return tasks.filter((task) => matchesFilter(task, filter, now));
}
