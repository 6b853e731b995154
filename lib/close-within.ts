/**
 * Node-RED gives a node 15 s to close and then logs it as hung; a source whose
 * fetch or unsubscribe hangs must not use all of it. What is still running
 * after the bound is abandoned, not awaited.
 */
export const CLOSE_BOUND_MS = 5000;

/** Resolves when `work` settles or after `boundMs`, whichever is first; never rejects. */
export function closeWithin(work: Promise<unknown>, boundMs = CLOSE_BOUND_MS): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const bound = new Promise<void>((resolve) => {
    timer = setTimeout(resolve, boundMs);
  });
  const settled = work.then(
    () => undefined,
    () => undefined,
  );
  return Promise.race([settled, bound]).finally(() => clearTimeout(timer));
}
