/**
 * Host and port ({@link HostPort}): the one address type of TLS listeners, peers to dial and
 * session endpoints, and "host:port" parsing for listen and peer addresses. IPv6 hosts go in brackets
 * ("[::]:5120", "[2001:db8::1]:5120"), as Go's net.SplitHostPort wants.
 * @module
 */
import { parseIpv6 } from "./ipv6.ts";

/** A parsed address. `host` has no brackets; "" means every local address (listen only). */
export interface HostPort {
  /** Host name or address, without brackets. */
  readonly host: string;
  /** Port 1..65535. */
  readonly port: number;
}

const HOSTNAME =
  /^(?=.{1,253}$)[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*\.?$/;
const IPV4 = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/;

/**
 * Parses "host:port".
 * @param allowEmptyHost true for listen addresses (":5120" = all addresses).
 * @throws {SyntaxError} with a message that names the text.
 */
export function parseHostPort(text: string, allowEmptyHost = false): HostPort {
  const bad = (why: string) => new SyntaxError(`cannot parse "${text}" as host:port: ${why}`);
  let host: string;
  let portText: string;
  if (text.startsWith("[")) {
    const close = text.indexOf("]");
    if (close < 0) throw bad('missing "]"');
    host = text.slice(1, close);
    if (text[close + 1] !== ":") throw bad('expected ":port" after "]"');
    portText = text.slice(close + 2);
    try {
      parseIpv6(host);
    } catch {
      throw bad(`"${host}" is not an IPv6 address`);
    }
  } else {
    const colon = text.lastIndexOf(":");
    if (colon < 0) throw bad("missing port");
    host = text.slice(0, colon);
    portText = text.slice(colon + 1);
    if (host.includes(":")) throw bad('an IPv6 address needs brackets: "[addr]:port"');
    if (host === "") {
      if (!allowEmptyHost) throw bad("missing host");
    } else if (!IPV4.test(host) && !(HOSTNAME.test(host) && !/^[\d.]+$/.test(host))) {
      throw bad(`"${host}" is not an IP address or host name`);
    }
  }
  if (!/^\d{1,5}$/.test(portText)) throw bad("the port must be a number 1..65535");
  const port = Number(portText);
  if (port < 1 || port > 65535) throw bad("the port must be a number 1..65535");
  return { host, port };
}

/** Formats back to "host:port" with brackets for IPv6. */
export function formatHostPort(a: HostPort): string {
  return a.host.includes(":") ? `[${a.host}]:${a.port}` : `${a.host}:${a.port}`;
}
