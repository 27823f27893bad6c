// Fault injection for crash tests (documented in docs/mayor.md). `CROSSTOWN_FAULT=<point>` makes a Mayor
// process stop at that point the first time it is reached: with CROSSTOWN_FAULT_MODE=pause (default) it
// prints `FAULT <point>` on stderr and waits forever, so the test can SIGKILL it exactly there; with
// `exit` it kills itself (SIGKILL). Off unless the variable is set; a no-op in normal runs.

export const FAULT_POINTS = [
  /** The job is recorded (posting, committed); its PREPARE is not sent yet. */
  'post-before-fulfill',
  /** The relay answered FULFILL; the `posted` transition is not made yet. */
  'fulfill-before-commit',
  /** A result event arrived and was verified; nothing about it is recorded yet. */
  'result-arrived',
  /** Job A is routed and job B recorded (one commit); B's PREPARE is not sent yet. */
  'before-next-job',
  /** The provider payment's intent is durable; its PREPARE is not sent yet. */
  'payment-before-send',
  /** The provider payment was FULFILLed (the provider has the money); the outcome is not recorded yet. */
  'payment-fulfilled',
  /** The node accepted a claim (BTP answer received); the new cumulative is not recorded in the state yet. */
  'claim-accepted',
  /** Provider mode: a requester's payment is recorded (earnings.jsonl, audit); its FULFILL is not returned yet. */
  'provider-payment-recorded',
  /** Provider mode: the node's claim for our earnings arrived; it is not checked or recorded yet. */
  'provider-claim-received',
] as const;
export type FaultPoint = (typeof FAULT_POINTS)[number];

export type FaultHook = (point: FaultPoint, detail: string) => Promise<void>;

export const noFaults: FaultHook = async () => {};

/** The hook `src/mayor/main.ts` installs from the environment. */
export function faultsFromEnv(env: Record<string, string | undefined> = process.env): FaultHook {
  const wanted = env.CROSSTOWN_FAULT;
  if (!wanted) return noFaults;
  if (!(FAULT_POINTS as readonly string[]).includes(wanted)) {
    throw new Error(`CROSSTOWN_FAULT=${wanted} is not a fault point: use one of ${FAULT_POINTS.join(', ')}.`);
  }
  const mode = env.CROSSTOWN_FAULT_MODE ?? 'pause';
  let fired = false;
  return async (point, detail) => {
    if (fired || point !== wanted) return;
    fired = true;
    process.stderr.write(`FAULT ${point} ${detail}\n`);
    if (mode === 'exit') process.kill(process.pid, 'SIGKILL');
    await new Promise<never>(() => {});
  };
}
