import { useMemo, useState } from "react";
import { applyFilter } from "../filter.js";
import { describeDue } from "../format.js";
import { isOverdue } from "../dates.js";
import type { Task } from "../types.js";

interface TaskRowProps {
  task: Task;
  now: Date;
  onToggle: (id: string) => void;
}

/** One row of the web dashboard: a checkbox, the title, tags and due date. */
export function TaskRow({ task, now, onToggle }: TaskRowProps) {
  const overdue = !task.done && isOverdue(task.due, now);
  return (
    <li className={overdue ? "task task--overdue" : task.done ? "task task--done" : "task"}>
      <input type="checkbox" checked={task.done} onChange={() => onToggle(task.id)} />
      <span className="task__title">{task.title}</span>
      {task.tags.map((tag) => (
        <span key={tag} className="task__tag">
          #{tag}
        </span>
      ))}
      <time className="task__due">{describeDue(task.due, now)}</time>
    </li>
  );
}

export interface TaskListProps {
  tasks: Task[];
  onToggle: (id: string) => void;
  initialFilter?: string;
}

/**
 * Dashboard list with a live filter box. The filter uses the same syntax as
 * the CLI (`tag:work due:today`); invalid expressions show an inline error
 * instead of clearing the list.
 */
export function TaskList({ tasks, onToggle, initialFilter = "" }: TaskListProps) {
  const [query, setQuery] = useState(initialFilter);
  const now = useMemo(() => new Date(), []);
  const { visible, error } = useMemo(() => {
    try {
      return { visible: applyFilter(tasks, query, now), error: null as string | null };
    } catch (err) {
      return { visible: tasks, error: (err as Error).message };
    }
  }, [tasks, query, now]);

  return (
    <section className="task-list">
      <input
        className="task-list__filter"
        placeholder="Filter, e.g. tag:work due:today"
        value={query}
        onChange={(event) => setQuery(event.target.value)}
      />
      {error && <p className="task-list__error">{error}</p>}
      <ul>
        {visible.map((task) => (
          <TaskRow key={task.id} task={task} now={now} onToggle={onToggle} />
        ))}
      </ul>
      <footer>
        {visible.length} of {tasks.length} tasks
      </footer>
    </section>
  );
}
