// Test support for the provider. `FakeNetwork` is an IN-PROCESS FAKE of the Mayor runtime's network side
// (signing is real, with a real key; "publishing" stores the event and charges bytes × price like the relay
// would, without a relay or ILP). Everything else in these tests is real: git, tar, bwrap, child processes.
import { execFileSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import type { PaymentInput } from '../../../src/mayor/audit/types.js';
import {
  type ProviderAudit,
  type ProviderNetwork,
  type ProviderOptions,
  ProviderService,
} from '../../../src/mayor/provider/index.js';
import { finalizeEvent } from '../../../src/nostr/event.js';
import { generateSecretKey, getPublicKey } from '../../../src/nostr/keys.js';
import { buildJobRequest, type JobInput } from '../../../src/nostr/nip90.js';
import type { EventTemplate, NostrEvent } from '../../../src/nostr/types.js';
import { encodeEventBytes } from '../../../src/toon/index.js';

export const FIXTURES = path.resolve(
  path.dirname(fileURLToPath(import.meta.url)),
  '../../fixtures/sample-repos',
);

export class FakeNetwork implements ProviderNetwork {
  readonly secretKey = generateSecretKey();
  readonly pubkey = getPublicKey(this.secretKey);
  readonly published: NostrEvent[] = [];
  constructor(readonly pricePerByte = 10n) {}
  sign(template: EventTemplate): NostrEvent {
    return finalizeEvent(template, this.secretKey);
  }
  async publishPaid(event: NostrEvent): Promise<{ fee: bigint }> {
    this.published.push(event);
    return { fee: BigInt(encodeEventBytes(event).length) * this.pricePerByte };
  }
  ofKind(kind: number, jobId?: string): NostrEvent[] {
    return this.published.filter(
      (e) => e.kind === kind && (!jobId || e.tags.some((t) => t[0] === 'e' && t[1] === jobId)),
    );
  }
}

export class FakeAudit implements ProviderAudit {
  readonly entries: PaymentInput[] = [];
  record(entry: PaymentInput): void {
    this.entries.push(entry);
  }
}

/** A provider on `home` with the tests' defaults (its address, ci-cd-linux at 500); `options` adds or overrides. */
export function startProvider(
  home: string,
  network: FakeNetwork,
  options: Partial<ProviderOptions> = {},
): ReturnType<typeof ProviderService.start> {
  return ProviderService.start({
    home,
    pubkey: network.pubkey,
    ilpAddress: 'g.crosstown.provider',
    prices: { 'ci-cd-linux': 500n },
    network,
    ...options,
  });
}

export function tempHome(prefix = 'provider-'): string {
  return mkdtempSync(path.join(tmpdir(), prefix));
}

export function tarGzBase64(dir: string): string {
  return execFileSync('tar', ['-czf', '-', '-C', dir, '.']).toString('base64');
}

export interface RequestSpec {
  command: string;
  jobType?: string;
  bid?: bigint | null;
  tarDir?: string;
  inputs?: JobInput[];
  params?: Record<string, string>;
  provider?: string;
}

export const requester = (() => {
  const secretKey = generateSecretKey();
  return { secretKey, pubkey: getPublicKey(secretKey) };
})();

export function jobRequest(spec: RequestSpec, secretKey = requester.secretKey): NostrEvent {
  const inputs: JobInput[] = [...(spec.inputs ?? [])];
  if (spec.tarDir) inputs.push({ data: tarGzBase64(spec.tarDir), type: 'tar.gz+base64' });
  const template = buildJobRequest({
    jobType: spec.jobType ?? 'ci-cd-linux',
    inputs,
    params: { command: spec.command, ...spec.params },
    ...(spec.bid !== null && { bid: spec.bid ?? 1000n }),
    ...(spec.provider !== undefined && { provider: spec.provider }),
    relays: [],
    content: '',
  });
  // Distinct created_at/content per call would be needed for identical specs: a nonce tag keeps ids unique.
  template.tags.push(['nonce', Math.random().toString(36).slice(2)]);
  return finalizeEvent(template, secretKey);
}

export interface TarSpec {
  name: string;
  /** '0' file, '2' symlink, '1' hard link, '5' dir, '3' char device, 'L' GNU long name, 'x' pax header. */
  type?: string;
  body?: string;
  linkname?: string;
}

/** A hand-made ustar archive (gzip'd): system tar refuses to CREATE the hostile entries these tests need. */
export function makeTarGz(entries: TarSpec[]): Buffer {
  const blocks: Buffer[] = [];
  for (const e of entries) {
    const body = Buffer.from(e.body ?? '');
    const h = Buffer.alloc(512);
    h.write(e.name.slice(0, 100), 0, 'utf8');
    h.write('0000644\0', 100);
    h.write('0000000\0', 108);
    h.write('0000000\0', 116);
    h.write(`${body.length.toString(8).padStart(11, '0')}\0`, 124);
    h.write('00000000000\0', 136);
    h.write(e.type ?? '0', 156);
    if (e.linkname) h.write(e.linkname, 157);
    h.write('ustar\0', 257);
    h.write('00', 263);
    h.fill(' ', 148, 156);
    let sum = 0;
    for (const b of h) sum += b;
    h.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148);
    blocks.push(h, body, Buffer.alloc((512 - (body.length % 512)) % 512));
  }
  blocks.push(Buffer.alloc(1024));
  return gzipSync(Buffer.concat(blocks));
}

/**
 * Settlement terms and BTP URL for a provider SPSP responder (createProviderSpsp) that is called directly, never
 * dialled: made-up addresses, a port nothing listens on.
 */
export const UNDIALLED_SPSP = {
  settlement: {
    chainId: 31337,
    token: `0x${'1'.repeat(40)}`,
    channelContract: `0x${'2'.repeat(40)}`,
    settlementAddress: `0x${'3'.repeat(40)}`,
  },
  btpUrl: 'ws://127.0.0.1:1',
} as const;
