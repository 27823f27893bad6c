import type { Unwrapped } from '../nostr/nip59.js';
import type { EventTemplate, NostrEvent } from '../nostr/types.js';

/** Structured log lines; the Mayor passes its logger, tests can pass `silentLogger` or a recording one. */
export interface SkillLogger {
  debug(message: string, fields?: Record<string, unknown>): void;
  info(message: string, fields?: Record<string, unknown>): void;
  warn(message: string, fields?: Record<string, unknown>): void;
  error(message: string, fields?: Record<string, unknown>): void;
}

/** A job this Mayor posted, whose results and feedback go to a named callback skill (DESIGN §4 correlation). */
export interface JobCorrelation {
  /** The id of our job request event. */
  jobId: string;
  /** Name of the skill that handles the job's results (e.g. `ci-cd-callback`). */
  callbackSkill: string;
  /** The chain of jobs this one belongs to, if any (A's result posts B). */
  chainId?: string;
}

/** Set when the payload came out of a NIP-59 gift wrap: replies should go back gift-wrapped to `senderPubkey`. */
export interface PrivateOrigin {
  /** The author, proven by the seal's signature. */
  senderPubkey: string;
  /** The id of the kind 1059 wrap it arrived in. */
  wrapId: string;
}

/**
 * Capabilities the Mayor injects. Skills call these instead of importing Mayor internals, so a skill is a
 * plain module that a test can run with a hand-made context. Every hook is optional: a skill checks for it
 * and answers `ignored`/`failed` with a reason when the host does not offer it.
 */
export interface SkillContext {
  /** The Mayor's identity (x-only hex pubkey). */
  identityPubkey: string;
  /** Post a job request (signed and paid by the Mayor); used to post the next job of a chain. */
  postJob?(
    template: EventTemplate,
    options?: { callbackSkill?: string; chainId?: string },
  ): Promise<{ jobId: string }>;
  /** Sign and publish an event (paid write). */
  publish?(template: EventTemplate): Promise<NostrEvent>;
  /** Gift-wrap `template` to `recipientPubkey` and publish it (replies to private requests). */
  publishPrivate?(template: EventTemplate, recipientPubkey: string): Promise<void>;
  /** Open a gift wrap with the Mayor's key, so the key never leaves the Mayor. */
  unwrapGiftWrap?(wrap: NostrEvent): Unwrapped | Promise<Unwrapped>;
  /**
   * Route a TOON payload through the skill pipeline again (the encrypted-DM skill hands it the decrypted
   * rumor). The pipeline fills this in; skills should not provide it.
   */
  dispatch?(payload: Uint8Array, metadata: DispatchMetadata): Promise<SkillResult>;
}

/** What the caller of a dispatch knows about an incoming payload; the pipeline fills in the rest. */
export interface DispatchMetadata {
  eventId?: string;
  relayUrl?: string;
  /** Milliseconds since the epoch; defaults to now. */
  receivedAt?: number;
  private?: PrivateOrigin;
  /** Force a correlation (otherwise the pipeline looks it up from the result's `e` tag). */
  correlation?: JobCorrelation;
  /** Passed to the skill as metadata.idempotencyKey. */
  idempotencyKey?: string;
  /** Passed to the skill as metadata.redelivery. */
  redelivery?: boolean;
}

/** Everything a skill gets besides the raw TOON bytes. */
export interface SkillMetadata {
  /** The event kind, from peekKind (the payload was not decoded to route it). */
  kind: number;
  /** The event id when the router knows it (from the relay frame or a decode it had to do). */
  eventId?: string;
  /** Set when the event is a result/feedback for a job we posted. */
  correlation?: JobCorrelation;
  relayUrl?: string;
  /** Milliseconds since the epoch. */
  receivedAt: number;
  /** 1 for the first try, 2 for the first retry, ... */
  attempt: number;
  logger: SkillLogger;
  /** The Mayor's identity pubkey (same as context.identityPubkey). */
  identityPubkey: string;
  context: SkillContext;
  /** Present when the payload is a decrypted rumor: its `sig` is a placeholder, the seal proved the author. */
  private?: PrivateOrigin;
  /** Aborted when the runner gives up on this call (timeout): stop work and release resources. */
  signal: AbortSignal;
  /**
   * For a job result: the result event id. The same key comes with a redelivery of the same result, so a skill
   * with effects outside the Mayor keys them by it (docs/skills.md: exactly once).
   */
  idempotencyKey?: string;
  /** True when a crash interrupted an earlier call with this idempotencyKey and the skill is `idempotent`. */
  redelivery?: boolean;
}

export type SkillStatus = 'handled' | 'ignored' | 'failed';

export interface SkillResult {
  status: SkillStatus;
  /** One line for people: "Build: SUCCESS | Tests: 47/47 passed". For `ignored`/`failed`, the reason. */
  summary?: string;
  /** For `failed`: false when trying again cannot help (a tampered wrap); default true. */
  retry?: boolean;
  /** Job requests the Mayor should post next (chains: A's result posts B). */
  nextJobs?: EventTemplate[];
  /** Anything for the dashboard: test summary, logs, amounts. Must be JSON-serializable (bigints as strings). */
  data?: Record<string, unknown>;
}

/**
 * A skill handles events of the kinds it declares. `handleToon` receives the raw TOON bytes: decode only
 * what you need (`decodeSkillEvent` from src/skills does a full, verified decode).
 */
export interface Skill {
  /** Unique, kebab-case by convention: `ci-cd-callback`, `encrypted-dm`. */
  name: string;
  description?: string;
  /** Kinds handled. Ranges: `kindRange(5000, 5999)`. */
  supportedEventKinds(): readonly number[];
  /** When two skills claim a kind, the higher priority wins; equal priorities are a configuration error. Default 0. */
  priority?: number;
  /** Per-skill timeout in milliseconds; overrides the runner's default (30 s). */
  timeoutMs?: number;
  /**
   * The skill dedupes by metadata.idempotencyKey, so a call a crash interrupted may be made again (redelivery).
   * Without it, an interrupted call is never repeated (at most once) and the operator is told. Default false.
   */
  idempotent?: boolean;
  handleToon(payload: Uint8Array, metadata: SkillMetadata): Promise<SkillResult>;
}

/** What a skill module may export as default: a skill, a factory given the context, or an array of either. */
export type SkillFactory = (context: SkillContext) => Skill | Promise<Skill>;
export type SkillExport = Skill | SkillFactory | ReadonlyArray<Skill | SkillFactory>;
