import { assertEquals } from "../../tests/_harness/assert.ts";
import { linkErrorEvent, type SessionState, transition } from "./session_fsm.ts";

const reasonOf = (e: ReturnType<typeof linkErrorEvent>) => "reason" in e ? e.reason : undefined;

const fail = { kind: "fail", reason: "malformed-frame", message: "x" } as const;
const close = { kind: "close", reason: "local-close", message: "x" } as const;
const down = { kind: "link-down", reason: "connection-lost", message: "x" } as const;

Deno.test("transition() walks tls → verifying → hello → open, and nothing skips a stage", () => {
  assertEquals(transition("tls", { kind: "secure" }), {
    next: "verifying",
    actions: ["verify-peer"],
  });
  assertEquals(transition("verifying", { kind: "checked" }), {
    next: "hello",
    actions: ["send-hello", "replay-early"],
  });
  assertEquals(transition("hello", { kind: "hello" }), {
    next: "open",
    actions: ["mark-open", "notify-open", "start-liveness"],
  });
  assertEquals(transition("tls", { kind: "hello" }), undefined);
  assertEquals(transition("tls", { kind: "checked" }), undefined);
  assertEquals(transition("verifying", { kind: "hello" }), undefined);
  assertEquals(transition("open", { kind: "secure" }), undefined);
  assertEquals(transition("closed", { kind: "secure" }), undefined);
});

Deno.test("transition() sends a close frame only when leaving open for a reason of ours", () => {
  const graceful = ["send-close", "finish", "end-link"];
  const abrupt = ["finish", "destroy-link"];
  assertEquals(transition("open", close)?.actions, graceful);
  assertEquals(transition("open", fail)?.actions, graceful);
  assertEquals(transition("open", { ...fail, reason: "dead" })?.actions, graceful);
  assertEquals(transition("open", { ...fail, reason: "peer-closed" })?.actions, abrupt);
  assertEquals(transition("open", { ...fail, reason: "control-backlog" })?.actions, abrupt);
  assertEquals(transition("open", down)?.actions, abrupt);
  for (const s of ["tls", "verifying", "hello"] as SessionState[]) {
    for (const e of [close, fail, down]) {
      assertEquals(transition(s, e), { next: "closed", actions: abrupt });
    }
  }
});

Deno.test("transition() in closed ignores everything but the link going away", () => {
  assertEquals(transition("closed", close), undefined);
  assertEquals(transition("closed", fail), undefined);
  assertEquals(transition("closed", down), { next: "closed", actions: ["cancel-grace"] });
});

Deno.test("linkErrorEvent() tells connect failures, TLS failures and lost connections apart", () => {
  assertEquals(
    reasonOf(linkErrorEvent("tls", "dialer", "refused", "ECONNREFUSED")),
    "connect-failed",
  );
  assertEquals(reasonOf(linkErrorEvent("tls", "listener", "junk", "ECONNREFUSED")), "tls-error");
  assertEquals(reasonOf(linkErrorEvent("tls", "dialer", "bad record", "ERR_SSL")), "tls-error");
  assertEquals(
    reasonOf(linkErrorEvent("open", "dialer", "reset", "ECONNRESET")),
    "connection-lost",
  );
});
