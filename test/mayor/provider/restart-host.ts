// A provider host in its own process, for the restart test: it starts the service on the home given in argv,
// accepts the job request in the given file, and then just waits (the test SIGKILLs it mid-job).
// Network side: the in-process FakeNetwork (see helpers.ts).
import { readFileSync } from 'node:fs';
import { FakeNetwork, startProvider } from './helpers.js';

const [home, requestFile, sandbox] = process.argv.slice(2) as [string, string, 'auto' | 'none'];
const network = new FakeNetwork();
const { service } = await startProvider(home, network, {
  sandbox,
  policy: { allowUnsandboxed: true },
});
const intake = await service.handleJobRequest(JSON.parse(readFileSync(requestFile, 'utf8')));
process.stdout.write(`${intake.status}\n`);
setInterval(() => {}, 1000);
