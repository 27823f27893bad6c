// Hand-written validators for the JSON shapes documented in docs/cli.md. Each returns the list of problems
// (empty when the value matches), so a failing test says which field is wrong.
type Check = (v: unknown, at: string) => string[];

const isObj = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

export const str: Check = (v, at) =>
  typeof v === 'string' ? [] : [`${at}: expected string, got ${JSON.stringify(v)}`];
export const num: Check = (v, at) =>
  typeof v === 'number' && Number.isFinite(v) ? [] : [`${at}: expected number`];
export const bool: Check = (v, at) => (typeof v === 'boolean' ? [] : [`${at}: expected boolean`]);
/** A decimal string of base units (bigint as text). */
export const units: Check = (v, at) =>
  typeof v === 'string' && /^-?\d+$/.test(v)
    ? []
    : [`${at}: expected base units string, got ${JSON.stringify(v)}`];
export const address: Check = (v, at) =>
  typeof v === 'string' && /^0x[0-9a-fA-F]{40}$/.test(v) ? [] : [`${at}: expected 0x address`];
export const hex32: Check = (v, at) =>
  typeof v === 'string' && /^0x[0-9a-f]{64}$/.test(v) ? [] : [`${at}: expected 0x + 64 hex`];
export const oneOf =
  (...values: unknown[]): Check =>
  (v, at) =>
    values.includes(v) ? [] : [`${at}: expected one of ${values.join('|')}, got ${JSON.stringify(v)}`];
export const nullable =
  (c: Check): Check =>
  (v, at) =>
    v === null ? [] : c(v, at);
export const arrayOf =
  (c: Check): Check =>
  (v, at) =>
    Array.isArray(v) ? v.flatMap((x, i) => c(x, `${at}[${i}]`)) : [`${at}: expected array`];

/** An object with exactly these keys (optional ones may be absent). */
export function obj(shape: Record<string, Check>, optional: Record<string, Check> = {}): Check {
  return (v, at) => {
    if (!isObj(v)) return [`${at}: expected object`];
    const problems: string[] = [];
    for (const [k, c] of Object.entries(shape))
      problems.push(...(k in v ? c(v[k], `${at}.${k}`) : [`${at}.${k}: missing`]));
    for (const [k, c] of Object.entries(optional)) if (k in v) problems.push(...c(v[k], `${at}.${k}`));
    for (const k of Object.keys(v))
      if (!(k in shape) && !(k in optional)) problems.push(`${at}.${k}: not documented`);
    return problems;
  };
}

export function problems(check: Check, value: unknown): string[] {
  return check(value, '$');
}

// The documented shapes (docs/cli.md).
export const configEntry = obj({
  key: str,
  value: str,
  source: oneOf('flag', 'env', 'file', 'default'),
  origin: str,
});
export const configSetShape = obj({
  key: str,
  value: str,
  source: oneOf('flag', 'env', 'file', 'default'),
  origin: str,
  file: str,
});
export const configListShape = obj({ file: str, settings: arrayOf(configEntry) });
export const configResetShape = obj({ reset: str, file: str });

export const walletConfigureShape = obj({ address, keystore: str, replaced: bool });
export const walletBalanceShape = obj({
  network: str,
  chainId: num,
  address,
  token: address,
  eth: units,
  m2m: units,
  lowBalance: bool,
});
export const exportKeyShape = obj({ address, privateKey: hex32 });

const channelFields = {
  network: str,
  chainId: num,
  channelId: hex32,
  sender: address,
  receiver: address,
  token: address,
  deposit: units,
  claimed: units,
  available: units,
  challengeWindow: units,
  closesAt: units,
  state: oneOf('open', 'closing', 'settled'),
};
export const channelOpenShape = obj({ ...channelFields, txHash: hex32 });
export const channelStatusShape = obj({ ...channelFields, spent: units, remaining: units, lowBalance: bool });
export const channelTopupShape = obj({ ...channelFields, added: units, txHash: hex32 });
export const channelCloseShape = obj(
  { ...channelFields, action: oneOf('close-started', 'waiting', 'withdrawn') },
  { txHash: hex32, refunded: units },
);
const { network: _n, chainId: _c, ...listed } = channelFields;
export const channelListShape = obj({
  network: str,
  chainId: num,
  wallet: address,
  channels: arrayOf(obj({ ...listed, role: oneOf('sender', 'receiver') })),
});

export const paymentRow = obj({
  time: str,
  direction: oneOf('in', 'out'),
  what: oneOf('write-fee', 'provider-payment', 'earning'),
  jobId: str,
  amount: units,
  amountM2M: str,
  bytes: nullable(num),
  status: oneOf('fulfilled', 'rejected', 'failed'),
  counterparty: str,
  channelId: str,
});
export const paymentsHistoryShape = arrayOf(paymentRow);
const totals = obj({ count: num, total: units, average: units });
export const paymentsStatsShape = obj({
  count: num,
  total: units,
  average: units,
  byDirection: obj({ in: totals, out: totals }),
  byStatus: obj({ fulfilled: totals, rejected: totals, failed: totals }),
  netFulfilled: units,
});
export const skillNewShape = obj({
  name: str,
  kinds: arrayOf(num),
  skillFile: str,
  testFile: str,
  warnings: arrayOf(str),
});
/** `payments export --format json`: the audit's own export (src/mayor/audit PaymentJson). */
export const paymentsExportShape = arrayOf(
  obj(
    {
      time: str,
      direction: oneOf('in', 'out'),
      amount: units,
      status: oneOf('fulfilled', 'rejected', 'failed'),
      counterparty: str,
    },
    { jobId: str, bytes: num, channelId: str },
  ),
);
