/** Machine-readable reasons a Nostr value was rejected. */
export type NostrErrorCode =
  | 'invalid_event'
  | 'invalid_filter'
  | 'invalid_key'
  | 'nip44_invalid_key'
  | 'nip44_invalid_payload'
  | 'nip44_invalid_version'
  | 'nip44_invalid_mac'
  | 'nip44_invalid_padding'
  | 'nip44_invalid_length'
  | 'nip59_invalid'
  | 'invalid_job'
  | 'invalid_handler_info'
  | 'invalid_peer_info'
  | 'invalid_spsp'
  | 'invalid_report';

/** Every failure in src/nostr throws this, with a code for programs and a message for people. */
export class NostrError extends Error {
  readonly code: NostrErrorCode;
  constructor(code: NostrErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'NostrError';
    this.code = code;
  }
}
