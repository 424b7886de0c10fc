/** A tiny element builder: text goes in as text nodes (never HTML), so no escaping is needed. */
type Child = Node | string | number | null | undefined | false;

export function h<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attributes: Record<string, string | boolean | undefined> = {},
  ...children: Child[]
): HTMLElementTagNameMap[K] {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (value === undefined || value === false) continue;
    element.setAttribute(name, value === true ? '' : value);
  }
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    element.append(child instanceof Node ? child : String(child));
  }
  return element;
}

export function byId<T extends HTMLElement = HTMLElement>(id: string): T {
  const element = document.getElementById(id);
  if (!element) throw new Error(`page is missing #${id}`);
  return element as T;
}

/** Shows an error where the person looks, not only in the console. */
export function showProblem(target: HTMLElement, error: unknown): void {
  target.textContent = error instanceof Error ? error.message : String(error);
  target.hidden = false;
}

/** Runs `refresh` now and every `intervalMs`, one at a time (a slow answer never piles up requests). */
export function poll(refresh: () => Promise<void>, intervalMs: number): { now: () => Promise<void> } {
  let running: Promise<void> | null = null;
  const run = (): Promise<void> => {
    running ??= refresh().finally(() => {
      running = null;
    });
    return running;
  };
  void run();
  setInterval(() => void run(), intervalMs);
  return { now: run };
}
