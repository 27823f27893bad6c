// Stops things in order, each one even when a stop before it failed; rethrows the first failure at the end. For
// tests and benches that start a devnet and Mayors: a Mayor that fails to stop must not leave the devnet running.
export async function stopEach(...stops: (() => Promise<unknown> | unknown)[]): Promise<void> {
  let first: { error: unknown } | undefined;
  for (const stop of stops) {
    try {
      await stop();
    } catch (error) {
      first ??= { error };
    }
  }
  if (first) throw first.error;
}
