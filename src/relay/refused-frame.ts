// What to answer a frame refused before parsing (over the frame budget, too large). NIP-01 clients wait on a REQ or
// COUNT until they see its subscription id again (EOSE, COUNT or CLOSED): a NOTICE alone leaves nostr-tools' count()
// and subscriptions pending forever. So the id is read from the frame's first bytes, without parsing the rest (the
// refusal must stay cheap), and the answer is `CLOSED <id> <reason>`; a frame without a readable id gets a NOTICE.
const HEAD = /^\s*\[\s*"(REQ|COUNT)"\s*,\s*("(?:[^"\\]|\\.)*")/;

/** The verb and subscription id of a REQ or COUNT frame, read from its head only; undefined for anything else. */
export function refusedFrameSubscription(
  data: Buffer,
  maxSubIdLength: number,
): { verb: 'REQ' | 'COUNT'; subId: string } | undefined {
  // An escaped id character takes at most 6 bytes (\uXXXX); the verb and punctuation fit in a few dozen.
  const head = data.subarray(0, 64 + maxSubIdLength * 6).toString('utf8');
  const match = HEAD.exec(head);
  if (!match) return undefined;
  let subId: unknown;
  try {
    subId = JSON.parse(match[2]!);
  } catch {
    return undefined;
  }
  if (typeof subId !== 'string' || subId.length === 0 || subId.length > maxSubIdLength) return undefined;
  return { verb: match[1] as 'REQ' | 'COUNT', subId };
}
