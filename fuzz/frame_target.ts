/**
 * Fuzz target: the session frame decoder (`src/session/frame.ts`), fed each input in random
 * chunkings. The frames it hands out must be the same whatever the chunking, every payload
 * within the limit, and the only error a {@link FrameError}.
 * @module
 */
import { encodeFrame, FrameDecoder, FrameError, FrameType } from "../src/session/frame.ts";
import { chunkings, type Rng, type Seed } from "./mutator.ts";
import { ContractViolation, expectError, type FuzzTarget } from "./target.ts";

/** A small limit too, so that the oversize path is reached often. */
const SMALL_MAX = 300;

interface Outcome {
  frames: string[];
  error: boolean;
  consumed: number;
  buffered: number;
}

function decode(chunks: Uint8Array[], max: number | undefined): Outcome {
  const dec = new FrameDecoder(max);
  const out: Outcome = { frames: [], error: false, consumed: 0, buffered: 0 };
  const limit = max ?? Infinity;
  const sink = {
    onFrame(type: number, payload: Uint8Array): boolean {
      if (payload.length > limit) {
        throw new ContractViolation(`frame of ${payload.length} bytes passed a limit of ${limit}`);
      }
      out.frames.push(`${type}:${payload.toHex()}`);
      out.consumed += 4 + payload.length;
      return true;
    },
    onChunkEnd() {},
  };
  for (const c of chunks) {
    try {
      dec.push(c, sink);
    } catch (e) {
      expectError(e, [FrameError]);
      out.error = true;
      return out;
    }
  }
  out.buffered = dec.buffered;
  return out;
}

function seedOf(frames: [number, Uint8Array][]): Seed {
  const parts = frames.map(([t, p]) => encodeFrame(t, p));
  const bytes = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  const lengths = [];
  let off = 0;
  for (const p of parts) {
    bytes.set(p, off);
    lengths.push({ offset: off + 1, width: 3 as const, value: p.length - 4 });
    off += p.length;
  }
  return { bytes, lengths };
}

let seeds: Seed[] = [];

/** The frame target. */
export const frameTarget: FuzzTarget = {
  name: "frame",
  description: "session FrameDecoder over random chunkings (src/session/frame.ts)",
  setup() {
    const pay = (n: number, fill: number) => new Uint8Array(n).fill(fill);
    seeds = [
      seedOf([[FrameType.Ping, pay(8, 1)]]),
      seedOf([[FrameType.Ping, pay(8, 1)], [FrameType.Pong, pay(8, 2)]]),
      seedOf([[FrameType.IpPacket, pay(1280, 0x60)], [FrameType.IpPacket, pay(40, 0x60)]]),
      seedOf([[FrameType.Hello, pay(200, 3)], [0xff, new Uint8Array(0)]]),
      seedOf([[FrameType.IpPacket, pay(250, 0x60)], [FrameType.Ping, pay(0, 0)]]),
    ];
    return Promise.resolve();
  },
  seeds: () => seeds,
  run(input: Uint8Array, rng: Rng) {
    const max = rng.oneIn(2) ? SMALL_MAX : undefined;
    const whole = decode([input], max);
    const split = decode(chunkings(rng, input), max);
    if (
      whole.error !== split.error || whole.frames.length !== split.frames.length ||
      whole.frames.some((f, i) => f !== split.frames[i])
    ) {
      throw new ContractViolation("frames differ between one push and a chunked push");
    }
    if (!whole.error && whole.consumed + whole.buffered !== input.length) {
      throw new ContractViolation(
        `decoded ${whole.consumed} + buffered ${whole.buffered} != ${input.length} bytes in`,
      );
    }
    if (!split.error && split.consumed + split.buffered !== input.length) {
      throw new ContractViolation("chunked: decoded + buffered bytes differ from the input");
    }
  },
};
