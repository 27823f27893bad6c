import { getPublicKey } from '../../nostr/keys.js';
import { KIND_GIFT_WRAP } from '../../nostr/kinds.js';
import { type Unwrapped, unwrapEvent } from '../../nostr/nip59.js';
import type { NostrEvent } from '../../nostr/types.js';
import { decodeEvent } from '../../toon/index.js';
import { rumorToToon } from '../event.js';
import type { Skill, SkillMetadata, SkillResult } from '../types.js';

export interface EncryptedDmSkillOptions {
  /**
   * The Mayor's secret key. Optional: without it the skill asks the host's `context.unwrapGiftWrap`, so the
   * key can stay inside the Mayor.
   */
  secretKey?: Uint8Array;
  name?: string;
  priority?: number;
}

/** A SkillResult that also carries the decrypted message (the journey's `DecryptedContent`). */
export interface EncryptedDmResult extends SkillResult {
  decryptedContent?: string;
  senderPubkey?: string;
  /** What the pipeline did with the decrypted rumor, when a pipeline is present. */
  inner?: SkillResult;
}

export interface EncryptedDmSkill extends Skill {
  handleToon(payload: Uint8Array, metadata: SkillMetadata): Promise<EncryptedDmResult>;
}

/**
 * Kind 1059 (NIP-59 gift wrap carrying a NIP-44 encrypted rumor). Unwraps with the Mayor's key, then hands
 * the rumor back to the pipeline as TOON, routed by its own kind, with `metadata.private` naming the sender
 * so replies go back gift-wrapped. A tampered or misaddressed wrap is refused (not retried) with the reason.
 */
export function encryptedDmSkill(options: EncryptedDmSkillOptions = {}): EncryptedDmSkill {
  const ownPubkey = options.secretKey ? getPublicKey(options.secretKey) : undefined;
  return {
    name: options.name ?? 'encrypted-dm',
    description: 'Decrypts NIP-59 gift-wrapped DMs (kind 1059) and routes the inner event',
    ...(options.priority !== undefined && { priority: options.priority }),
    supportedEventKinds: () => [KIND_GIFT_WRAP],
    async handleToon(payload, metadata): Promise<EncryptedDmResult> {
      const refuse = (reason: string): EncryptedDmResult => {
        metadata.logger.warn(`rejected gift wrap: ${reason}`, { eventId: metadata.eventId });
        return { status: 'failed', retry: false, summary: `rejected gift wrap: ${reason}` };
      };
      let wrap: NostrEvent;
      try {
        wrap = decodeEvent(payload);
      } catch (error) {
        return refuse(`not a decodable event: ${(error as Error).message}`);
      }
      const me = ownPubkey ?? metadata.identityPubkey;
      const recipients = wrap.tags.filter((t) => t[0] === 'p').map((t) => t[1]);
      if (!recipients.includes(me)) {
        return refuse(`addressed to ${recipients.join(', ') || 'nobody'}, not to us (${me})`);
      }
      let opened: Unwrapped;
      try {
        if (options.secretKey) opened = unwrapEvent(wrap, options.secretKey);
        else if (metadata.context.unwrapGiftWrap) opened = await metadata.context.unwrapGiftWrap(wrap);
        else
          return {
            status: 'failed',
            retry: false,
            summary: 'no key to open gift wraps: pass secretKey or provide context.unwrapGiftWrap',
          };
      } catch (error) {
        // Bad MAC, seal signer != rumor author, bad signatures: all end here.
        return refuse((error as Error).message);
      }
      const { rumor, senderPubkey } = opened;
      metadata.logger.info(`opened a private kind ${rumor.kind} from ${senderPubkey}`, { wrapId: wrap.id });
      const base: EncryptedDmResult = {
        status: 'handled',
        decryptedContent: rumor.content,
        senderPubkey,
        data: { senderPubkey, rumorKind: rumor.kind, rumorId: rumor.id, wrapId: wrap.id },
      };
      if (!metadata.context.dispatch) {
        return {
          ...base,
          summary: `decrypted a private kind ${rumor.kind} from ${senderPubkey.slice(0, 8)}; no pipeline to route it`,
        };
      }
      const inner = await metadata.context.dispatch(rumorToToon(rumor), {
        eventId: rumor.id,
        receivedAt: metadata.receivedAt,
        ...(metadata.relayUrl !== undefined && { relayUrl: metadata.relayUrl }),
        private: { senderPubkey, wrapId: wrap.id },
      });
      // The wrap's fate is the inner event's: if the inner skill failed and may retry, retry the wrap.
      return {
        ...base,
        status: inner.status === 'failed' ? 'failed' : 'handled',
        ...(inner.retry !== undefined && { retry: inner.retry }),
        ...(inner.nextJobs && { nextJobs: inner.nextJobs }),
        inner,
        summary: `private kind ${rumor.kind} from ${senderPubkey.slice(0, 8)}: ${inner.summary ?? inner.status}`,
      };
    },
  };
}
