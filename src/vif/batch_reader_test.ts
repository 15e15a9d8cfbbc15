import { assertEquals } from "../../tests/_harness/assert.ts";
import {
  closeFd,
  EFD_CLOEXEC,
  EFD_NONBLOCK,
  FdPoller,
  libc,
  readFd,
  writeFd,
} from "../../ffi/mod.ts";
import { BatchReader } from "./batch_reader.ts";

/** Counts the polls it starts, so a test can tell a kicked drain from a poll round trip. */
class CountingPoller extends FdPoller {
  waits = 0;
  override wait(): Promise<number> {
    this.waits++;
    return super.wait();
  }
}

/** A nonblocking eventfd stands in for the device: readable once something writes to it. */
function openEventFd(): number {
  return libc().eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
}

const one = new Uint8Array([1, 0, 0, 0, 0, 0, 0, 0]);
const scratch = new Uint8Array(8);

Deno.test("BatchReader.kick() drains a parked reader at once and keeps its poll armed", async () => {
  const fd = openEventFd();
  const poller = new CountingPoller(fd);
  const reader = new BatchReader(poller);
  // What a TUN write leaves queued on the device, invisible to the poll: only a drain finds it.
  let queued = 0;
  const drain = () => {
    if (readFd(fd, scratch, 8) === 8) return 1;
    const n = queued;
    queued = 0;
    return n;
  };
  const noError = () => 0;
  try {
    // Nothing queued: the reader parks on a poll.
    const first = reader.next(() => false, drain, noError);
    await new Promise((r) => setTimeout(r, 20));
    assertEquals(poller.waits, 1);
    // A kick with nothing to take: the reader parks on the same poll again.
    reader.kick();
    await new Promise((r) => setTimeout(r, 20));
    assertEquals(poller.waits, 1);
    // A kick with a packet queued: the read resolves without the poll having fired.
    queued = 1;
    reader.kick();
    assertEquals(await first, 1);
    assertEquals(poller.waits, 1);
    // The next read reuses the armed poll, which fires when the fd becomes readable.
    const second = reader.next(() => false, drain, noError);
    await new Promise((r) => setTimeout(r, 20));
    assertEquals(poller.waits, 1);
    assertEquals(writeFd(fd, one, 8), 8);
    assertEquals(await second, 1);
    // A kick while no read is parked changes nothing.
    reader.kick();
    // Closing the poller ends a parked read with 0.
    const third = reader.next(() => false, drain, noError);
    await new Promise((r) => setTimeout(r, 20));
    const idle = new Promise<void>((r) => poller.close(r));
    assertEquals(await third, 0);
    await idle;
  } finally {
    poller.close();
    closeFd(fd);
  }
});
