/**
 * The path of an installed component, or undefined when it is not installed, so a bench part
 * that needs it is skipped with a note instead of failing (the test harness throws instead).
 */
export function installed(locate: () => string): string | undefined {
  try {
    return locate();
  } catch {
    return undefined;
  }
}
