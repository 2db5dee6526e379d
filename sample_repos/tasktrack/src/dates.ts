const DAY_MS = 24 * 60 * 60 * 1000;

const WEEKDAYS = ["sunday", "monday", "tuesday", "wednesday", "thursday", "friday", "saturday"];

/** Midnight (local time) at the start of the given day. */
export function startOfDay(date: Date): Date {
  return new Date(date.getFullYear(), date.getMonth(), date.getDate());
}

export function addDays(date: Date, days: number): Date {
  const result = new Date(date.getTime());
  result.setDate(result.getDate() + days);
  return result;
}

/** Format a date as YYYY-MM-DD in local time. */
export function toISODate(date: Date): string {
  const y = date.getFullYear();
  const m = String(date.getMonth() + 1).padStart(2, "0");
  const d = String(date.getDate()).padStart(2, "0");
  return `${y}-${m}-${d}`;
}

/**
 * Parse a human-friendly due date relative to `now`.
 *
 * Understands "today", "tomorrow", "yesterday", "in 3 days", "in 2 weeks",
 * weekday names ("friday", "next monday"), "eow" (end of week) and plain
 * ISO dates. Returns null when the input cannot be understood.
 */
export function parseRelativeDate(input: string, now: Date = new Date()): string | null {
  const text = input.trim().toLowerCase();
  const today = startOfDay(now);
  if (text === "today") return toISODate(today);
  if (text === "tomorrow" || text === "tmr") return toISODate(addDays(today, 1));
  if (text === "yesterday") return toISODate(addDays(today, -1));
  if (text === "eow") return toISODate(addDays(today, (5 - today.getDay() + 7) % 7));

  const inMatch = /^in\s+(\d+)\s*(day|days|d|week|weeks|w)$/.exec(text);
  if (inMatch) {
    const amount = Number(inMatch[1]);
    const unit = inMatch[2].startsWith("w") ? 7 : 1;
    return toISODate(addDays(today, amount * unit));
  }

  const weekday = text.replace(/^next\s+/, "");
  const index = WEEKDAYS.indexOf(weekday);
  if (index >= 0) {
    let delta = (index - today.getDay() + 7) % 7;
    if (delta === 0 || text.startsWith("next ")) delta += 7;
    return toISODate(addDays(today, delta));
  }

  if (/^\d{4}-\d{2}-\d{2}$/.test(text)) {
    const parsed = new Date(`${text}T00:00:00`);
    return Number.isNaN(parsed.getTime()) ? null : text;
  }
  return null;
}

/** Number of whole days from `now` until the ISO date `due` (negative if past). */
export function daysUntil(due: string, now: Date = new Date()): number {
  const dueDate = new Date(`${due}T00:00:00`);
  return Math.round((dueDate.getTime() - startOfDay(now).getTime()) / DAY_MS);
}

export function isOverdue(due: string | undefined, now: Date = new Date()): boolean {
  return due !== undefined && daysUntil(due, now) < 0;
}
