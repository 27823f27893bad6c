// Frames sent on one socket in the same tick leave in one write: the socket is corked at the first send of a tick
// and uncorked when the tick's callbacks are done. Uncorked, ws makes one writev syscall (and on loopback one
// wake-up of the reader) per frame. Order and content are unchanged. Used by the relay's fan-out (one frame per
// matching subscription and event of a group commit) and by BTP sessions (the FULFILLs of one group commit).

export interface Corkable {
  cork(): void;
  uncork(): void;
}

export class TickCork {
  private corked = false;

  /** `socket` is read at each send: a socket not there yet (or gone) is not corked. */
  constructor(private readonly socket: () => Corkable | null | undefined) {}

  /** Call before each send of this tick. */
  hold(): void {
    if (this.corked) return;
    const socket = this.socket();
    if (!socket || typeof socket.cork !== 'function') return;
    this.corked = true;
    socket.cork();
    process.nextTick(() => {
      this.corked = false;
      socket.uncork();
    });
  }
}
