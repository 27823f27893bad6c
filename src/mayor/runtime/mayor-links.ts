// The Mayor's links as the operator sees them: a relay pool whose status changes go to the activity feed, and
// what attaching to the node found (a resync, the channel).
import type { EventEmitter } from 'node:events';
import { formatM2M } from '../../chain/units.js';
import type { ClientTlsOptions } from '../../transport/tls.js';
import type { MayorConfig } from '../config/index.js';
import type { ActivityKind } from '../lifecycle/deps.js';
import type { Attachment } from './attach.js';
import type { BackoffOptions } from './backoff.js';
import { RelayPool } from './relay-pool.js';

type Activity = (kind: ActivityKind, text: string, amount?: bigint) => void;

export function createPool(
  config: MayorConfig,
  secretKey: Uint8Array,
  activity: Activity,
  emitter: EventEmitter,
  options: { backoff?: BackoffOptions },
  tls: ClientTlsOptions | undefined,
  logger: { warn(m: string): void },
): RelayPool {
  const pool: RelayPool = new RelayPool({
    urls: config.relayUrls,
    secretKey,
    ...(options.backoff ? { backoff: options.backoff } : {}),
    ...(tls ? { tls } : {}),
    logger,
    onStatus: (s) => {
      if (s.status === 'connected') activity('connection', `Relay ${s.url} connected`);
      else if (s.status === 'disconnected' || s.status === 'error') {
        // Local mode only when no relay at all is left: with one relay up, jobs still post.
        const up = pool.states().filter((r) => r.status === 'connected').length;
        activity(
          'connection',
          `Relay ${s.url} ${s.status}${s.lastError ? `: ${s.lastError}` : ''}${up === 0 ? ' (local mode)' : ` (${up} of ${config.relayUrls.length} relays connected)`}`,
        );
      }
      emitter.emit('relay', s);
    },
  });
  return pool;
}

export function reportAttachment(att: Attachment, activity: Activity): void {
  if (att.resync) {
    const r = att.resync;
    activity(
      'channel',
      `Resynced with the node: cumulative ${formatM2M(r.cumulative)} M2M${r.recovered > 0n ? `, ${formatM2M(r.recovered)} M2M owed from before the restart` : ''}${r.paid > 0n ? `, paid ${formatM2M(r.paid)} M2M` : ''}`,
      r.paid,
    );
  }
  const ch = att.channel();
  activity(
    'channel',
    `Channel ${ch.channelId.slice(0, 10)}… (${att.channelSource}): ${formatM2M(ch.deposit - ch.cumulative)} M2M of ${formatM2M(ch.deposit)} M2M left`,
  );
}
