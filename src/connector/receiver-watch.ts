// A ClaimReceiver guarded by its own closure watcher: what a party that is paid through channels but runs no
// Connector (a provider Mayor) needs. The watcher redeems the receiver's best claims when a sender starts closing,
// and the receiver refuses new claims on a channel from the moment the watcher sees it closing.
import { type ClaimWatcher, type ClaimWatcherOptions, watchClosures } from '../chain/watcher.js';
import type { ClaimReceiver } from './claim-receiver.js';

export type ReceiverWatchOptions = Omit<ClaimWatcherOptions, 'bestClaim' | 'knownChannels'>;

/**
 * Starts a closure watcher for `receiver`'s channels (`options.clients` must be the receiver's wallet). Pass
 * `fromBlock` / `onScanned` to resume after a restart; `onAttempt` to log each redemption attempt. Stop it with
 * `stop()` when the receiver is done.
 */
export function watchReceiver(receiver: ClaimReceiver, options: ReceiverWatchOptions): ClaimWatcher {
  return watchClosures({
    ...options,
    bestClaim: (id) => receiver.bestClaim(id),
    knownChannels: () => receiver.channelIds(),
    onClosing: (id, closesAt) => {
      receiver.markClosing(id, closesAt);
      options.onClosing?.(id, closesAt);
    },
    onClaimed: (id, result) => {
      receiver.markClaimed(id, result.totalClaimed);
      options.onClaimed?.(id, result);
    },
  });
}
