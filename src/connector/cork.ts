// Frames sent to one BTP peer in the same tick leave in one write: the socket under the WebSocket is corked at the
// first send and uncorked when the tick's callbacks are done. Uncorked, ws makes one writev syscall (and on loopback
// one wake-up of the reader) per frame; at 64 packets in flight the FULFILLs of one group commit are resolved
// together, so they now share one. Order and content are unchanged (the relay does the same for fan-out).
import type { WebSocket } from 'ws';

interface Corkable {
  cork(): void;
  uncork(): void;
}

export class TickCork {
  private corked = false;

  constructor(private readonly ws: WebSocket) {}

  /** Call before each send of this tick. */
  hold(): void {
    if (this.corked) return;
    // ws keeps its TCP (or TLS) socket in `_socket` once connected; without one there is nothing to batch.
    const socket = (this.ws as unknown as { _socket?: Corkable | null })._socket;
    if (!socket || typeof socket.cork !== 'function') return;
    this.corked = true;
    socket.cork();
    process.nextTick(() => {
      this.corked = false;
      socket.uncork();
    });
  }
}
