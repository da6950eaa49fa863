// Test support: waiting on a condition instead of sleeping. A wait ends as soon as the
// thing happens, and its deadline is generous, so a loaded machine slows a test down but
// never fails it; a deadline that passes says what was awaited.

export async function until(
  condition: () => boolean | Promise<boolean>,
  what: string | (() => string),
  timeoutMs = 20_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${typeof what === 'string' ? what : what()}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
