// What to answer a frame refused before parsing (over the frame budget, too large). NIP-01 clients wait on a REQ or
// COUNT until they see its subscription id again (EOSE, COUNT or CLOSED), and on an EVENT until they see its OK: a
// NOTICE alone leaves nostr-tools' count(), publish() and subscriptions pending forever. So the id is read without
// parsing the frame (the refusal must stay cheap): a subscription id from its first bytes (`CLOSED <id> <reason>`),
// an event id from its `"id":"<64 hex>"` member (`OK <id> false <reason>`). A frame without a readable id gets a
// NOTICE.
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

const EVENT_HEAD = /^\s*\[\s*"EVENT"\s*,/;
// Inside a JSON string every quote is escaped, so an unescaped `"id":"` can only be a member name: in an event
// (whose only nested values are arrays of strings) that is the event's id. A forged frame only names an id to
// its own connection.
const EVENT_ID = /"id"\s*:\s*"([0-9a-f]{64})"/;

/** The event id of an EVENT frame, found without parsing it; undefined for anything else. */
export function refusedFrameEventId(data: Buffer): string | undefined {
  const text = data.toString('utf8');
  if (!EVENT_HEAD.test(text)) return undefined;
  return EVENT_ID.exec(text)?.[1];
}
