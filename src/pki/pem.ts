/**
 * PEM armour: splitting files into DER blocks and back.
 * @module
 */

/** One PEM block: its label ("CERTIFICATE", "PRIVATE KEY", ...) and DER bytes. */
export interface PemBlock {
  readonly label: string;
  readonly der: Uint8Array;
}

const BLOCK = /-----BEGIN ([A-Z0-9 ]+)-----([\s\S]*?)-----END \1-----/g;

/**
 * Extracts every PEM block from `text`, in order. Text outside blocks is ignored (openssl
 * writes "Bag Attributes" and similar headers).
 * @throws {SyntaxError} when a block's body is not valid base64.
 */
export function decodePem(text: string): PemBlock[] {
  const out: PemBlock[] = [];
  for (const m of text.matchAll(BLOCK)) {
    const body = m[2].replace(/\s+/g, "");
    if (!/^[A-Za-z0-9+/]*={0,2}$/.test(body) || body.length % 4 !== 0) {
      throw new SyntaxError(`PEM block "${m[1]}" is not valid base64`);
    }
    out.push({ label: m[1], der: Uint8Array.fromBase64(body) });
  }
  return out;
}

/** The DER of every CERTIFICATE block in `text`. */
export function pemCertificates(text: string): Uint8Array[] {
  return decodePem(text).filter((b) => b.label === "CERTIFICATE").map((b) => b.der);
}

/** Wraps DER as PEM with 64-column lines. */
export function encodePem(label: string, der: Uint8Array): string {
  const b64 = der.toBase64();
  const lines: string[] = [];
  for (let i = 0; i < b64.length; i += 64) lines.push(b64.slice(i, i + 64));
  return `-----BEGIN ${label}-----\n${lines.join("\n")}\n-----END ${label}-----\n`;
}
