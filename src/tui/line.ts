// The views build frames as lists of lines made of styled segments; fitLine() makes each line exactly fit
// the terminal width, so nothing ever wraps. A line may carry a right-hand part (secondary information)
// that is dropped first when the terminal is too narrow.
import { sanitize, textWidth, truncate } from './format.js';

export type Style =
  | 'plain'
  | 'dim'
  | 'bold'
  | 'heading'
  | 'good'
  | 'warn'
  | 'danger'
  | 'accent'
  | 'selected'
  | 'local'
  | 'testnet'
  | 'mainnet';

export interface Segment {
  text: string;
  style?: Style;
}

export interface Line {
  left: Segment[];
  right?: Segment[];
}

export const seg = (text: string, style: Style = 'plain'): Segment => ({ text, style });
export const line = (left: Segment[], right?: Segment[]): Line => (right ? { left, right } : { left });
export const blank: Line = { left: [] };

function width(segments: Segment[]): number {
  return segments.reduce((n, s) => n + textWidth(s.text), 0);
}

/** Cuts segments to `max` characters in total, ending with "…" when something was cut. */
function cutSegments(segments: Segment[], max: number): Segment[] {
  if (width(segments) <= max) return segments;
  const out: Segment[] = [];
  let room = max - 1; // keep one column for the ellipsis
  for (const s of segments) {
    if (room <= 0) break;
    const n = textWidth(s.text);
    if (n <= room) {
      out.push(s);
      room -= n;
    } else {
      out.push({ ...s, text: Array.from(s.text).slice(0, room).join('') });
      room = 0;
    }
  }
  const last = out[out.length - 1];
  if (last) last.text += '…';
  else if (max > 0) out.push(seg(truncate('…', max)));
  return out;
}

/**
 * Lays a line out in exactly `cols` columns or fewer: left part, then the right part flush right when both
 * fit with a gap of two, otherwise the left part alone, truncated with an ellipsis.
 */
export function fitLine(input: Line, cols: number): Segment[] {
  const clean = (ss: Segment[]) => ss.map((s) => ({ ...s, text: sanitize(s.text) }));
  const left = clean(input.left);
  const right = input.right ? clean(input.right) : [];
  const lw = width(left);
  const rw = width(right);
  if (rw > 0 && lw + 2 + rw <= cols) {
    return merge([...left, seg(' '.repeat(cols - lw - rw)), ...right]);
  }
  return merge(cutSegments(left, cols));
}

/** Joins neighbours of the same style: fewer Ink text nodes to lay out on every frame. */
function merge(segments: Segment[]): Segment[] {
  const out: Segment[] = [];
  for (const s of segments) {
    const last = out[out.length - 1];
    if (last && (last.style ?? 'plain') === (s.style ?? 'plain')) last.text += s.text;
    else if (s.text !== '') out.push({ ...s });
  }
  return out;
}

export function plainText(segments: Segment[]): string {
  return segments.map((s) => s.text).join('');
}
