// What skills may ask of the Mayor: post a job (recorded and paid like any other), publish a private reply,
// open a gift wrap (the key stays in the Mayor).
import { IlpPacketType } from '../../ilp/types.js';
import { unwrapEvent } from '../../nostr/nip59.js';
import type { SkillContext } from '../../skills/types.js';
import { encodeEventBytes } from '../../toon/index.js';
import { MayorError } from '../runtime/errors.js';
import { giftWrapSigned } from '../runtime/private-jobs.js';
import type { LifecycleDeps } from './deps.js';
import type { Posting } from './posting.js';

/** `posting` is read lazily: the pipeline (which needs this context) is built before the posting part. */
export function skillContext(deps: LifecycleDeps, posting: () => Posting): SkillContext {
  return {
    identityPubkey: deps.pubkey,
    postJob: async (template, o) => {
      const p = posting();
      const { jobId } = await p.post(p.sign(template), o?.callbackSkill ?? 'ci-cd-callback', o?.chainId);
      return { jobId };
    },
    // Replies to private requests: wrapped to the one recipient, then a paid write like any other event.
    publishPrivate: async (template, recipient) => {
      const att = deps.att();
      if (!att) throw new MayorError('STOPPED', 'Not attached to a node: nothing can be published.');
      const wrap = giftWrapSigned(posting().sign(template), deps.secretKey, recipient);
      const { reply } = await att.writeToRelay(encodeEventBytes(wrap));
      if (reply.type !== IlpPacketType.Fulfill)
        throw new MayorError(
          'POST_REJECTED',
          `The relay refused a gift wrap: ${reply.code} ${reply.message}`,
        );
    },
    // A wrap the Mayor has just opened itself is not decrypted twice (same verified id, same result).
    unwrapGiftWrap: (wrap) => deps.openedWraps.get(wrap.id) ?? unwrapEvent(wrap, deps.secretKey),
  };
}
