import { describe, expect, it } from 'vitest';
import * as api from '../../src/nostr/index.js';
import {
  isAddressableKind,
  isEphemeralKind,
  isRegularKind,
  isReplaceableKind,
  KIND_CLIENT_AUTH,
  KIND_GIFT_WRAP,
  KIND_HANDLER_INFO,
  KIND_JOB_FEEDBACK,
  KIND_JOB_REQUEST,
  KIND_JOB_RESULT,
  KIND_PEER_INFO,
  KIND_SEAL,
  KIND_SPSP_REQUEST,
  KIND_SPSP_RESPONSE,
} from '../../src/nostr/kinds.js';

type Range = 'regular' | 'replaceable' | 'ephemeral' | 'addressable' | 'none';
const classify = (k: number): Range[] => {
  const out: Range[] = [];
  if (isRegularKind(k)) out.push('regular');
  if (isReplaceableKind(k)) out.push('replaceable');
  if (isEphemeralKind(k)) out.push('ephemeral');
  if (isAddressableKind(k)) out.push('addressable');
  return out.length ? out : ['none'];
};

describe('kind ranges (NIP-01)', () => {
  it.each<[number, Range]>([
    [0, 'replaceable'],
    [1, 'regular'],
    [2, 'regular'],
    [3, 'replaceable'],
    [4, 'regular'],
    [44, 'regular'],
    [45, 'none'],
    [999, 'none'],
    [1000, 'regular'],
    [9999, 'regular'],
    [10000, 'replaceable'],
    [19999, 'replaceable'],
    [20000, 'ephemeral'],
    [29999, 'ephemeral'],
    [30000, 'addressable'],
    [39999, 'addressable'],
    [40000, 'none'],
  ])('%i is %s and nothing else', (kind, range) => {
    expect(classify(kind)).toEqual([range]);
  });

  it('places the project kinds in the right ranges', () => {
    expect([KIND_JOB_REQUEST, KIND_JOB_RESULT, KIND_JOB_FEEDBACK]).toEqual([5065, 6065, 7000]);
    expect(classify(KIND_JOB_REQUEST)).toEqual(['regular']);
    expect(classify(KIND_JOB_RESULT)).toEqual(['regular']);
    expect(classify(KIND_JOB_FEEDBACK)).toEqual(['regular']);
    expect(classify(KIND_HANDLER_INFO)).toEqual(['addressable']);
    expect(classify(KIND_PEER_INFO)).toEqual(['replaceable']);
    expect(classify(KIND_SPSP_REQUEST)).toEqual(['ephemeral']);
    expect(classify(KIND_SPSP_RESPONSE)).toEqual(['ephemeral']);
    expect(classify(KIND_CLIENT_AUTH)).toEqual(['ephemeral']);
    expect([KIND_SEAL, KIND_GIFT_WRAP, KIND_HANDLER_INFO, KIND_PEER_INFO]).toEqual([13, 1059, 31990, 10032]);
    expect([KIND_SPSP_REQUEST, KIND_SPSP_RESPONSE, KIND_CLIENT_AUTH]).toEqual([23194, 23195, 22242]);
  });
});

describe('public API (index.ts)', () => {
  it('exports the names other modules code against', () => {
    for (const name of [
      'generateSecretKey',
      'getPublicKey',
      'serializeEvent',
      'getEventHash',
      'finalizeEvent',
      'verifyEvent',
      'validateEventShape',
      'NostrError',
      'matchFilter',
      'matchFilters',
      'validateFilter',
      'applyLimit',
      'createRumor',
      'createSeal',
      'createWrap',
      'wrapEvent',
      'unwrapEvent',
      'buildJobRequest',
      'parseJobRequest',
      'buildJobResult',
      'parseJobResult',
      'buildJobFeedback',
      'parseJobFeedback',
      'buildHandlerInfo',
      'parseHandlerInfo',
      'buildPeerInfo',
      'parsePeerInfo',
      'buildSpspRequest',
      'parseSpspRequest',
      'buildSpspResponse',
      'parseSpspResponse',
    ]) {
      expect(typeof (api as Record<string, unknown>)[name], name).toBe('function');
    }
    for (const name of ['getConversationKey', 'encrypt', 'decrypt', 'calcPaddedLen']) {
      expect(typeof (api.nip44 as Record<string, unknown>)[name], name).toBe('function');
    }
  });
});
