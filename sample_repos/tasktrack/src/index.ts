#!/usr/bin/env node
import * as os from "node:os";
import * as path from "node:path";
import { parseRelativeDate } from "./dates.js";
import { applyFilter } from "./filter.js";
import { renderTable } from "./format.js";
import { TaskStore } from "./store.js";
import { SyncClient } from "./sync.js";
import type { Priority } from "./types.js";

export interface ParsedArgs {
  command: string;
  positional: string[];
  flags: Record<string, string | boolean>;
}

const USAGE = `usage: tt <command> [options]

commands:
  add <title> [--due DATE] [--tag T]... [--pri high|medium|low]
  list [FILTER...]          show tasks, e.g. "tt list tag:work due:today"
  done <id>...              mark tasks as completed
  rm <id>...                delete tasks
  edit <id> [--title T] [--due DATE] [--pri P]
  sync                      two-way sync with $TASKTRACK_SERVER
  help                      show this message

global options:
  --file PATH               task file (default: $TASKTRACK_FILE or ~/.tasktrack.json)
  --no-color                disable ANSI colours`;

/**
 * Split argv into a command, positional arguments and --flags. Repeated
 * flags (like --tag) are joined with commas; `--` ends flag parsing.
 */
export function parseArgs(argv: string[]): ParsedArgs {
  const [command = "list", ...rest] = argv;
  const positional: string[] = [];
  const flags: Record<string, string | boolean> = {};
  for (let i = 0; i < rest.length; i++) {
    const arg = rest[i];
    if (arg === "--") {
      positional.push(...rest.slice(i + 1));
      break;
    }
    if (arg.startsWith("--")) {
      const [name, inline] = arg.slice(2).split("=", 2);
      const next = rest[i + 1];
      let value: string | boolean = true;
      if (inline !== undefined) value = inline;
      else if (next !== undefined && !next.startsWith("--") && !name.startsWith("no-")) value = rest[++i];
      const previous = flags[name];
      flags[name] = typeof previous === "string" && typeof value === "string" ? `${previous},${value}` : value;
    } else {
      positional.push(arg);
    }
  }
  return { command, positional, flags };
}

export function resolveStorePath(flags: ParsedArgs["flags"], env: NodeJS.ProcessEnv = process.env): string {
  if (typeof flags.file === "string") return path.resolve(flags.file);
  if (env.TASKTRACK_FILE) return path.resolve(env.TASKTRACK_FILE);
  return path.join(os.homedir(), ".tasktrack.json");
}

function requireDate(value: string | boolean | undefined): string | undefined {
  if (typeof value !== "string") return undefined;
  const date = parseRelativeDate(value);
  if (!date) throw new Error(`cannot understand due date "${value}"`);
  return date;
}

function requirePriority(value: string | boolean | undefined): Priority | undefined {
  if (value === undefined) return undefined;
  if (value === "high" || value === "medium" || value === "low") return value;
  throw new Error(`priority must be high, medium or low, not "${value}"`);
}

/**
 * Execute one parsed command against the task store, printing through `out`,
 * and return the process exit code. Throws on user errors; `main` turns
 * those into exit code 1.
 */
export async function runCommand(args: ParsedArgs, out: (line: string) => void): Promise<number> {
  const { command, positional, flags } = args;
  const store = new TaskStore(resolveStorePath(flags));
  const color = !flags["no-color"] && process.stdout.isTTY === true && !process.env.NO_COLOR;

  switch (command) {
    case "add": {
      const title = positional.join(" ");
      if (!title) throw new Error("add: missing task title");
      await store.load();
      const tags = typeof flags.tag === "string" ? flags.tag.split(",") : [];
      const task = store.add({
        title,
        due: requireDate(flags.due),
        tags,
        priority: requirePriority(flags.pri),
      });
      await store.save();
      out(`added task ${task.id}${task.due ? ` (due ${task.due})` : ""}`);
      return 0;
    }

    case "list":
    case "ls": {
      await store.load();
      const expression = positional.join(" ");
      const includeDone = flags.all === true || /\bis:done\b/.test(expression);
      let tasks = applyFilter(store.all(), expression);
      if (!includeDone) tasks = tasks.filter((t) => !t.done);
      if (tasks.length === 0) {
        out(expression ? `no tasks match "${expression}"` : "no tasks - add one with: tt add <title>");
        return 0;
      }
      out(renderTable(tasks, { color }));
      return 0;
    }

    case "done":
    case "rm": {
      if (positional.length === 0) throw new Error(`${command}: give at least one task id`);
      await store.load();
      const missing: string[] = [];
      for (const id of positional) {
        if (!store.get(id)) {
          missing.push(id);
          continue;
        }
        if (command === "done") store.complete(id);
        else store.delete(id);
      }
      await store.save();
      const changed = positional.length - missing.length;
      out(`${command === "done" ? "completed" : "deleted"} ${changed} task(s)`);
      if (missing.length > 0) {
        out(`unknown id(s): ${missing.join(", ")}`);
        return 1;
      }
      return 0;
    }

    case "edit": {
      const [id] = positional;
      if (!id) throw new Error("edit: missing task id");
      await store.load();
      const changes: Parameters<TaskStore["update"]>[1] = {};
      if (typeof flags.title === "string") changes.title = flags.title;
      if (flags.due !== undefined) changes.due = requireDate(flags.due);
      if (flags.pri !== undefined) changes.priority = requirePriority(flags.pri);
      if (typeof flags.tag === "string") changes.tags = flags.tag.split(",");
      if (Object.keys(changes).length === 0) throw new Error("edit: nothing to change");
      const task = store.update(id, changes);
      await store.save();
      out(`updated task ${task.id}`);
      return 0;
    }

    case "sync": {
      const serverUrl = process.env.TASKTRACK_SERVER;
      const token = process.env.TASKTRACK_TOKEN;
      if (!serverUrl || !token) {
        throw new Error("sync: set TASKTRACK_SERVER and TASKTRACK_TOKEN first");
      }
      await store.load();
      const client = new SyncClient({ serverUrl, token });
      const result = await client.sync(store);
      out(`pulled ${result.pulled}, pushed ${result.pushed}, resolved ${result.conflicts} conflict(s)`);
      return 0;
    }

    case "help":
    case "--help":
    case "-h":
      out(USAGE);
      return 0;

    default:
      out(`unknown command "${command}"`);
      out(USAGE);
      return 2;
  }
}

async function main(): Promise<void> {
  try {
    process.exitCode = await runCommand(parseArgs(process.argv.slice(2)), (line) => console.log(line));
  } catch (err) {
    console.error(`tt: ${(err as Error).message}`);
    process.exitCode = 1;
  }
}

void main();
