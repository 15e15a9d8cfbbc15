import { assert, assertEquals } from "./assert.ts";
import { longestGap, parsePing, percentile } from "./ping.ts";

const SAMPLE = `PING fd00:3::1(fd00:3::1) 56 data bytes
[1700000000.000100] 64 bytes from fd00:3::1: icmp_seq=1 ttl=64 time=0.512 ms
[1700000000.010200] 64 bytes from fd00:3::1: icmp_seq=2 ttl=64 time=0.401 ms
[1700000000.020300] no answer yet for icmp_seq=3
[1700000000.350400] 64 bytes from fd00:3::1: icmp_seq=35 ttl=64 time=0.390 ms
[1700000000.350500] 64 bytes from fd00:3::1: icmp_seq=35 ttl=64 time=0.395 ms (DUP!)
[1700000000.360600] 64 bytes from fd00:3::1: icmp_seq=36 ttl=64 time=1.25 ms

--- fd00:3::1 ping statistics ---
36 packets transmitted, 4 received, +1 duplicates, 88.8889% packet loss, time 360ms
`;

Deno.test("parsePing() reads timestamped replies, ignores duplicates and reads the summary", () => {
  const out = parsePing(SAMPLE);
  assertEquals(out.replies.map((r) => r.seq), [1, 2, 35, 36]);
  assertEquals(out.replies[3].rttMs, 1.25);
  assertEquals(out.replies[0].at, 1700000000.0001);
  assertEquals(out.transmitted, 36);
  assertEquals(out.received, 4);
});

Deno.test("parsePing() reads replies without timestamps", () => {
  const out = parsePing("64 bytes from 10.1.0.2: icmp_seq=1 ttl=64 time=0.05 ms\n");
  assertEquals(out.replies.length, 1);
  assertEquals(out.replies[0].rttMs, 0.05);
  assertEquals(out.transmitted, undefined);
});

Deno.test("longestGap() finds the longest silence between replies", () => {
  const gap = longestGap(parsePing(SAMPLE).replies)!;
  assertEquals(gap.before.seq, 2);
  assertEquals(gap.after.seq, 35);
  assert(Math.abs(gap.seconds - 0.3402) < 1e-6, `gap ${gap.seconds}`);
});

Deno.test("longestGap() counts the edges of the window when given", () => {
  const replies = parsePing(SAMPLE).replies;
  // No reply between the last one and the end of the window: that silence counts.
  const gap = longestGap(replies, { from: 1700000000.3, to: 1700000001.5 })!;
  assertEquals(gap.before.seq, 36);
  assert(Math.abs(gap.seconds - (1.5 - 0.3606)) < 1e-6, `gap ${gap.seconds}`);
  assertEquals(longestGap([]), undefined);
});

Deno.test("percentile() uses the nearest rank", () => {
  const v = Array.from({ length: 200 }, (_, i) => i + 1);
  assertEquals(percentile(v, 99), 198);
  assertEquals(percentile(v, 50), 100);
  assertEquals(percentile([5], 99), 5);
  assert(Number.isNaN(percentile([], 50)));
});
