/**
 * A CA's nameConstraints (RFC 5280 section 4.2.1.10) applied to the certificates it issues.
 * vmesh evaluates dNSName subtrees against a node's names (its CN, which is its node name,
 * and its DNS SANs). A CA that constrains another name form is honoured by refusing any
 * certificate that carries a name of that form, since vmesh does not evaluate it (RFC 5280:
 * "process the constraint or reject the certificate").
 * @module
 */
import type { NameConstraints, ParsedCertificate } from "./certificate.ts";
import { CertificateError } from "./errors.ts";
import { isInDomain } from "./names.ts";

/**
 * True when DNS name `name` is inside the subtree `base`: "example.com" covers example.com and
 * every name below it; ".example.com" only the names below it; "" covers everything.
 */
export function dnsSubtreeContains(base: string, name: string): boolean {
  const b = base.toLowerCase().replace(/\.+$/, "");
  if (b === "") return true;
  if (b.startsWith(".")) {
    const n = name.toLowerCase().replace(/\.+$/, "");
    return n.endsWith(b) && n.length > b.length;
  }
  return isInDomain(name, b);
}

/** The name forms `cert` carries, as nameConstraints sees them. */
function formsOf(cert: ParsedCertificate): Set<string> {
  const forms = new Set<string>(cert.otherSanForms);
  if (cert.uriSans.length > 0) forms.add("uniformResourceIdentifier");
  // An empty subject is the SEQUENCE header alone (two bytes).
  if (cert.subjectRaw.length > 2) forms.add("directoryName");
  return forms;
}

/**
 * Refuses a certificate whose names fall outside the CA's nameConstraints.
 * @param leaf The certificate the CA issued.
 * @param nc The CA's nameConstraints.
 * @param caName The CA's CN, for messages.
 * @param what What the leaf is, for messages ("peer certificate").
 * @throws {CertificateError} "name_constraints".
 */
export function checkNameConstraints(
  leaf: ParsedCertificate,
  nc: NameConstraints,
  caName: string,
  what: string,
): void {
  const forms = formsOf(leaf);
  for (const form of nc.otherForms) {
    if (forms.has(form)) {
      throw new CertificateError(
        "name_constraints",
        `${what} "${leaf.cn ?? ""}" has a ${form} name, and the CA "${caName}" constrains ` +
          `${form} names, which vmesh does not evaluate: refused (fail closed)`,
      );
    }
  }
  const names = [...(leaf.cn ? [leaf.cn] : []), ...leaf.dnsSans];
  for (const name of names) {
    const excluded = nc.excludedDns.find((b) => dnsSubtreeContains(b, name));
    if (excluded !== undefined) {
      throw new CertificateError(
        "name_constraints",
        `${what} names "${name}", which the CA "${caName}" excludes ("${excluded}")`,
      );
    }
    if (nc.permittedDns.length > 0 && !nc.permittedDns.some((b) => dnsSubtreeContains(b, name))) {
      throw new CertificateError(
        "name_constraints",
        `${what} names "${name}", outside the names the CA "${caName}" may issue for ` +
          `(${nc.permittedDns.join(", ")})`,
      );
    }
  }
}
