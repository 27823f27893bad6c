// Dashboard update latency: from a source notification to the change being on the (fake) terminal screen,
// through Ink's real, throttled output path. Target: within 100 ms.

import { renderDashboard } from '../src/tui/index.js';
import { busySource, FakeStdin, FakeStdout, JOB_PRICE, waitFor } from '../test/tui/helpers.js';

export async function run(): Promise<void> {
  process.env.NODE_ENV = 'production';
  const source = busySource();
  const stdout = new FakeStdout(80, 24);
  const handle = renderDashboard(source, {
    stdout: stdout as unknown as NodeJS.WriteStream,
    stdin: new FakeStdin() as unknown as NodeJS.ReadStream,
  });
  await waitFor(
    () => stdout.screen(),
    (s) => s.includes('job-5abc123'),
  );
  const times: number[] = [];
  for (let n = 0; n < 60; n++) {
    // Events arrive at their own pace, not in lockstep with frames.
    await new Promise((r) => setTimeout(r, 15 + (n % 4) * 10));
    const id = `job-b${String(n).padStart(4, '0')}`;
    source.postJob({ id, jobType: 'ci-cd-linux', bytes: 100, price: JOB_PRICE });
    const { ms } = await waitFor(
      () => stdout.screen(),
      (s) => s.includes(id),
    );
    times.push(ms);
  }
  handle.unmount();
  times.sort((a, b) => a - b);
  const p50 = times[Math.floor(times.length / 2)]!;
  const p99 = times[Math.floor(times.length * 0.99)]!;
  console.log(
    `dashboard update latency (60 events, 80x24): p50 ${p50.toFixed(1)} ms, p99 ${p99.toFixed(1)} ms`,
  );
  console.log(`target: within 100 ms -> ${p99 < 100 ? 'met' : 'NOT met'} (p99)`);
}
